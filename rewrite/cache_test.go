package rewrite

import (
	"fmt"
	"sync"
	"testing"
)

func TestPlanCached(t *testing.T) {
	p := NewPlanner(Options{})
	sql := `INSERT INTO t VALUES (nextval('s'))`
	a := p.Plan(sql)
	b := p.Plan(sql)
	if a != b {
		t.Fatal("second Plan of the same text is not the cached plan")
	}
	if c := p.Plan(sql + " "); c == a || c.SQL != `INSERT INTO t VALUES ($1::int8) ` {
		t.Fatalf("a different text got %p %q", c, c.SQL)
	}
	if n := p.cache.len(); n != 2 {
		t.Fatalf("cache holds %d plans, want 2", n)
	}
}

func TestCacheDisabled(t *testing.T) {
	p := NewPlanner(Options{CacheSize: -1})
	if p.cache != nil {
		t.Fatal("cache with CacheSize -1")
	}
	a, b := p.Plan(`SELECT nextval('s')`), p.Plan(`SELECT nextval('s')`)
	if a == b || a.Kind != Local || b.Kind != Local {
		t.Fatalf("plans %p %p %v %v", a, b, a.Kind, b.Kind)
	}
}

func TestCacheSizes(t *testing.T) {
	for _, tc := range []struct{ size, shards int }{
		{1, 1}, {127, 1}, {128, 2}, {1024, 16}, {1000, 8}, {100000, 16},
	} {
		c := newCache(tc.size)
		total := 0
		for i := range c.shards {
			total += c.shards[i].cap
		}
		if len(c.shards) != tc.shards || total != tc.size {
			t.Errorf("newCache(%d): %d shards of total capacity %d, want %d shards", tc.size, len(c.shards), total, tc.shards)
		}
	}
	if p := NewPlanner(Options{}); len(p.cache.shards) != 16 || p.opts.CacheSize != DefaultCacheSize {
		t.Errorf("default cache: %d shards, size %d", len(p.cache.shards), p.opts.CacheSize)
	}
}

// TestCacheBounded fills a cache far beyond its size: it never holds more
// than its size, and recently used plans survive (second chance).
func TestCacheBounded(t *testing.T) {
	const size = 256
	p := NewPlanner(Options{CacheSize: size})
	hot := `SELECT nextval('hot')`
	hotPlan := p.Plan(hot)
	for i := range 10 * size {
		p.Plan(fmt.Sprintf("SELECT %d, nextval('s')", i))
		if n := p.cache.len(); n > size {
			t.Fatalf("cache holds %d plans, bound %d", n, size)
		}
		if got := p.Plan(hot); got != hotPlan {
			t.Fatalf("hot plan evicted after %d inserts", i)
		}
	}
	if n := p.cache.len(); n != size {
		t.Errorf("cache holds %d plans, want %d", n, size)
	}
	for i := range p.cache.shards {
		s := &p.cache.shards[i]
		if len(s.m) != len(s.ring) {
			t.Errorf("shard %d: map %d entries, ring %d", i, len(s.m), len(s.ring))
		}
		for _, e := range s.ring {
			if s.m[e.plan.Original] != e {
				t.Errorf("shard %d: ring entry %q not in the map", i, e.plan.Original)
			}
		}
	}
}

// TestPlanConcurrent plans overlapping texts from many goroutines (run
// with -race): every goroutine gets equal plans, and one plan per text
// ends up cached.
func TestPlanConcurrent(t *testing.T) {
	p := NewPlanner(Options{CacheSize: 64})
	texts := make([]string, 200)
	for i := range texts {
		texts[i] = fmt.Sprintf("INSERT INTO t%d (id, v) VALUES (nextval('s%d'), $1)", i%100, i)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 2000 {
				sql := texts[(k*7+g)%len(texts)]
				pl := p.Plan(sql)
				if pl.Kind != Bind || pl.Original != sql || len(pl.Calls) != 1 || pl.Calls[0].Param != 2 {
					t.Errorf("Plan(%q) = %v %+v", sql, pl.Kind, pl.Calls)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := p.cache.len(); n > 64 {
		t.Errorf("cache holds %d plans, bound 64", n)
	}
}

func TestPlanHitAllocs(t *testing.T) {
	p := NewPlanner(Options{})
	p.Plan(benchInsert)
	if n := testing.AllocsPerRun(1000, func() { p.Plan(benchInsert) }); n != 0 {
		t.Errorf("cache hit allocates %v times", n)
	}
}
