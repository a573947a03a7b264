package seqcache_test

import (
	"context"
	"math"
	"sync"
	"testing"

	"github.com/seqshim/seqshim/seqcache"
)

// TestAdvance checks MariaDB's SETVAL rule: forward only, NULL (false)
// when behind, the next value after it follows the target.
func TestAdvance(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name      string
		opts      []seqcache.Option
		draws     int // values reserved in the store before
		v         int64
		used      bool
		moved     bool
		next      int64 // the next value after, or 0 for run out
		exhausted bool
	}{
		{"ahead used", nil, 3, 10, true, true, 11, false},
		{"ahead not used", nil, 3, 10, false, true, 10, false},
		{"at the position", nil, 3, 3, true, true, 4, false},
		{"behind", nil, 3, 2, true, false, 4, false},
		{"behind not used", nil, 3, 3, false, false, 4, false},
		{"below min", nil, 0, -5, true, false, 1, false},
		{"past the limit", []seqcache.Option{seqcache.MaxValue(7)}, 1, 100, true, true, 0, true},
		{"the limit itself", []seqcache.Option{seqcache.MaxValue(7)}, 1, 7, true, true, 0, true},
		{"int64 max", nil, 1, math.MaxInt64, true, true, 0, true},
		{"descending ahead", []seqcache.Option{seqcache.Increment(-2)}, 2, -10, true, true, -13, false}, // MariaDB: -12, off the grid
		{"descending behind", []seqcache.Option{seqcache.Increment(-2)}, 2, -1, true, false, -5, false},
		{"off the grid", []seqcache.Option{seqcache.Increment(5)}, 1, 8, false, true, 11, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			sp := spec(t, "public.s", c.opts...)
			store := newStore(t, sp)
			// Drawn from the store itself: a cache would prefetch, and a
			// prefetch landing during Advance widens the gap by design.
			for range c.draws {
				if _, err := store.Reserve(ctx, sp.Name, 1); err != nil {
					t.Fatal(err)
				}
			}
			cache := newCache(t, store, seqcache.Config{BlockSize: 1})
			moved, err := cache.Advance(ctx, sp.Name, c.v, c.used)
			if err != nil || moved != c.moved {
				t.Fatalf("Advance(%d, %v) = %v, %v; want %v", c.v, c.used, moved, err, c.moved)
			}
			got, err := cache.Next(ctx, sp.Name)
			if c.exhausted {
				if !seqcacheIsLimit(err) {
					t.Fatalf("Next after Advance = %d, %v; want the limit error", got, err)
				}
				return
			}
			if err != nil || got != c.next {
				t.Fatalf("Next after Advance = %d, %v; want %d", got, err, c.next)
			}
		})
	}
}

func seqcacheIsLimit(err error) bool {
	return err != nil && seqcache.CodeOf(err) == seqcache.CodeSequenceLimit
}

// TestAdvanceConcurrent runs Advance beside Next on two caches over one
// store: no value is handed out twice, and after an Advance that moved,
// the caller's next value is past the target.
func TestAdvanceConcurrent(t *testing.T) {
	ctx := context.Background()
	sp := spec(t, "public.s")
	store := newStore(t, sp)
	caches := []*seqcache.Cache{newCache(t, store, seqcache.Config{BlockSize: 7}), newCache(t, store, seqcache.Config{BlockSize: 3})}
	var mu sync.Mutex
	seen := make(map[int64]bool)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := caches[g%2]
			for i := range 300 {
				if i%50 == 49 {
					target := int64(g*1000 + i*20)
					moved, err := c.Advance(ctx, sp.Name, target, true)
					if err != nil {
						t.Error(err)
						return
					}
					if moved {
						v, err := c.Next(ctx, sp.Name)
						if err != nil || v <= target {
							t.Errorf("Next after Advance(%d) = %d, %v", target, v, err)
							return
						}
						mu.Lock()
						if seen[v] {
							t.Errorf("value %d handed out twice", v)
						}
						seen[v] = true
						mu.Unlock()
					}
					continue
				}
				v, err := c.Next(ctx, sp.Name)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[v] {
					t.Errorf("value %d handed out twice", v)
				}
				seen[v] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

// TestAdvanceWithinBlock: a target inside the cache's current block is
// decided against the block, as MariaDB decides against its cached values,
// although the store (prefetch, outage cover) is past it; a target past
// the block but not past the store drops the cached values.
func TestAdvanceWithinBlock(t *testing.T) {
	ctx := context.Background()
	for _, inc := range []int64{1, -3} {
		sp := spec(t, "public.s", seqcache.Increment(inc))
		store := newStore(t, sp)
		cache := newCache(t, store, seqcache.Config{BlockSize: 1000, MaxBlockSize: 1000, OutageCover: -1})
		v := func(i int64) int64 { return sp.Start + i*inc } // the i-th value of the sequence
		next := func(want int64) {
			t.Helper()
			if got, err := cache.Next(ctx, sp.Name); err != nil || got != want {
				t.Fatalf("increment %d: Next = %d, %v; want %d", inc, got, err, want)
			}
		}
		advance := func(to int64, used, want bool) {
			t.Helper()
			if moved, err := cache.Advance(ctx, sp.Name, to, used); err != nil || moved != want {
				t.Fatalf("increment %d: Advance(%d, %v) = %v, %v; want %v", inc, to, used, moved, err, want)
			}
		}
		for i := range int64(3) {
			next(v(i))
		}
		advance(v(99), true, true) // the store is at v(1000): inside the block
		next(v(100))
		advance(v(50), false, false) // behind what the block handed out
		next(v(101))
		advance(v(101), true, true) // the value just handed out: applied, nothing skipped
		next(v(102))
		advance(v(102), false, false) // the value just handed out, unused: behind
		next(v(103))
		advance(v(999), false, true) // the block's last value, past its low mark
		next(v(999))
		next(v(1000)) // the block fetched when the skip passed the low mark
		// Another process takes the next block: the store is at v(3000).
		other := newCache(t, store, seqcache.Config{BlockSize: 1000, MaxBlockSize: 1000, OutageCover: -1})
		if got, err := other.Next(ctx, sp.Name); err != nil || got != v(2000) {
			t.Fatalf("increment %d: the other cache's Next = %d, %v; want %d", inc, got, err, v(2000))
		}
		// A target past this cache's block and behind the store drops the
		// cached values; the next value is the store's, past the target.
		advance(v(2500), true, true)
		next(v(3000))
	}
}
