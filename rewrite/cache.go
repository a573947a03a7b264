package rewrite

import (
	"sync"
	"sync/atomic"
)

// cache is a bounded plan cache keyed by the exact SQL text.
//
// It is split into shards (chosen by a cheap hash of a few bytes, so that
// a hit hashes the text only once, in the map lookup). Each shard evicts
// with CLOCK (second chance), the usual approximation of LRU: a hit only
// sets a reference bit, so it takes a read lock and writes nothing once the
// bit is set, and concurrent hits do not serialise on a list update.
type cache struct {
	shards []cacheShard
	mask   uint32
}

type cacheShard struct {
	mu   sync.RWMutex
	m    map[string]*cacheEntry
	ring []*cacheEntry // entries in insertion order; hand sweeps it
	hand int
	cap  int
	_    [64]byte // keep shards on separate cache lines
}

type cacheEntry struct {
	plan *Plan
	ref  atomic.Bool
}

// newCache returns a cache of size plans: one shard per 64 plans, up to 16.
func newCache(size int) *cache {
	n := 1
	for n < 16 && size/(n*2) >= 64 {
		n *= 2
	}
	c := &cache{shards: make([]cacheShard, n), mask: uint32(n - 1)}
	for i := range c.shards {
		capacity := size / n
		if i < size%n {
			capacity++
		}
		c.shards[i].cap = capacity
		c.shards[i].m = make(map[string]*cacheEntry, capacity)
		c.shards[i].ring = make([]*cacheEntry, 0, capacity)
	}
	return c
}

// shardOf picks a shard from the length and a few bytes of s.
func (c *cache) shardOf(s string) *cacheShard {
	if c.mask == 0 {
		return &c.shards[0]
	}
	n := len(s)
	h := uint32(n) * 0x9E3779B1
	if n > 0 {
		h = (h ^ uint32(s[n-1])) * 0x01000193
		h = (h ^ uint32(s[n/2])) * 0x01000193
		h = (h ^ uint32(s[n/3])) * 0x01000193
		h = (h ^ uint32(s[n-1-n/4])) * 0x01000193
	}
	return &c.shards[(h^h>>15)&c.mask]
}

// get returns the cached plan for sql, or nil.
func (c *cache) get(sql string) *Plan {
	s := c.shardOf(sql)
	s.mu.RLock()
	e := s.m[sql]
	s.mu.RUnlock()
	if e == nil {
		return nil
	}
	if !e.ref.Load() {
		e.ref.Store(true)
	}
	return e.plan
}

// add caches p for sql and returns the cached plan (an earlier one if
// another goroutine added the same text meanwhile).
func (c *cache) add(sql string, p *Plan) *Plan {
	s := c.shardOf(sql)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.m[sql]; e != nil {
		return e.plan
	}
	e := &cacheEntry{plan: p}
	if len(s.ring) < s.cap {
		s.ring = append(s.ring, e)
	} else {
		for {
			old := s.ring[s.hand]
			if old.ref.Load() {
				old.ref.Store(false)
				s.hand = (s.hand + 1) % len(s.ring)
				continue
			}
			delete(s.m, old.plan.Original)
			s.ring[s.hand] = e
			s.hand = (s.hand + 1) % len(s.ring)
			break
		}
	}
	s.m[sql] = e
	return p
}

// len returns the number of cached plans.
func (c *cache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}
