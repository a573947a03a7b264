package dynamo_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/seqshim/seqshim/seqcache"
)

// TestCacheOverDynamo serves 1,000,000 Next calls from a seqcache.Cache
// over the DynamoDB store, blocks sized by demand from 1000 on: at most
// 1,002 reservations (under 0.1% of calls reach DynamoDB, far fewer as
// blocks grow), every value once, and a graceful Close gives the unused
// blocks back. The outage cover is off: reserved before the last blocks,
// it could not be given back (see TestCacheCoverOverDynamo).
func TestCacheOverDynamo(t *testing.T) {
	const (
		total   = 1_000_000
		workers = 8
		block   = 1000
	)
	s := newStore(t)
	ctx := t.Context()
	mustDefine(t, s, "public.orders_id_seq")
	c := seqcache.NewCache(s, seqcache.Config{BlockSize: block, OutageCover: -1})

	var all []int64
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
			all = append(all, vals...)
			mu.Unlock()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	slices.Sort(all)
	if n := len(slices.Compact(all)); n != total || all[0] < 1 {
		t.Fatalf("%d distinct values of %d, first %d: duplicates", n, total, all[0])
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

// TestCacheCoverOverDynamo: with the outage cover on (the default), the
// cover is reserved in the background, its values stay apart from the
// blocks, and Close gives back what is still adjacent to the store and
// counts the rest as lost: nothing is both.
func TestCacheCoverOverDynamo(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	mustDefine(t, s, "public.s")
	c := seqcache.NewCache(s, seqcache.Config{OutageCover: 10 * time.Second})
	var vals []int64
	for i := range 600 { // past the first block's low mark: a rate, then the cover
		v, err := c.Next(ctx, "public.s")
		if err != nil {
			t.Fatal(err)
		}
		vals = append(vals, v)
		if i%10 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	if !slices.IsSorted(vals) || vals[0] != 1 {
		t.Fatalf("values %v... not increasing from 1", vals[:5])
	}
	deadline := time.Now().Add(5 * time.Second)
	var cover int64
	for cover == 0 && time.Now().Before(deadline) {
		for _, r := range c.Sequences() {
			cover = r.Cover
		}
		time.Sleep(time.Millisecond)
	}
	if cover == 0 {
		t.Fatalf("no outage cover reserved: %+v", c.Sequences())
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	st := c.Stats()
	sq, err := s.Get(ctx, "public.s")
	if err != nil {
		t.Fatal(err)
	}
	if reserved := sq.Next - 1; st.Served+st.GivenBack+st.Lost != reserved+st.GivenBack || st.Served != 600 {
		t.Fatalf("stats %+v with the store at %d: served + lost must be what stays reserved", st, sq.Next)
	}
}
