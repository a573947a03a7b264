package dynamo_test

import (
	"sync"
	"testing"

	"github.com/seqshim/seqshim/seqcache"
)

// TestCacheOverDynamo serves 1,000,000 Next calls from a seqcache.Cache
// over the DynamoDB store with blocks of 1000: at most 1,002 reservations
// (under 0.1% of calls reach DynamoDB), every value once, and a graceful
// Close gives the unused tail back.
func TestCacheOverDynamo(t *testing.T) {
	const (
		total   = 1_000_000
		workers = 8
		block   = 1000
	)
	s := newStore(t)
	ctx := t.Context()
	mustDefine(t, s, "public.orders_id_seq")
	c := seqcache.NewCache(s, seqcache.Config{BlockSize: block})

	seen := make([]uint32, total+2*block*workers+1) // value -> times served
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	var mu sync.Mutex
	for range workers {
		wg.Go(func() {
			vals := make([]int64, 0, total/workers)
			last := int64(0)
			for range total / workers {
				v, err := c.Next(ctx, "public.orders_id_seq")
				if err != nil {
					errs <- err
					return
				}
				if v <= last {
					t.Errorf("values not increasing within a goroutine: %d after %d", v, last)
					return
				}
				last = v
				vals = append(vals, v)
			}
			mu.Lock()
			for _, v := range vals {
				if v < 1 || v >= int64(len(seen)) {
					t.Errorf("value %d outside the reserved range", v)
					continue
				}
				seen[v]++
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for v, n := range seen {
		if n > 1 {
			t.Fatalf("value %d served %d times", v, n)
		}
	}
	st := c.Stats()
	t.Logf("%d Next calls: %d reservations, %d waits (%.4f%% of calls reached DynamoDB)",
		st.Served, st.Reservations, st.Waits, 100*float64(st.Reservations)/float64(st.Served))
	if st.Served != total {
		t.Fatalf("served %d, want %d", st.Served, total)
	}
	if st.Reservations > total/block+2 {
		t.Fatalf("%d reservations for %d values in blocks of %d, want at most %d", st.Reservations, total, block, total/block+2)
	}

	if err := c.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	sq, err := s.Get(ctx, "public.orders_id_seq")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("after Close: store at %d, given back %d, lost %d", sq.Next, c.Stats().GivenBack, c.Stats().Lost)
	if sq.Next != total+1 {
		t.Errorf("after a graceful Close the store is at %d, want %d (no gap)", sq.Next, total+1)
	}
}
