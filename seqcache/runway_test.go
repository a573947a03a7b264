package seqcache_test

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seqshim/seqshim/seqcache"
)

// switchStore is a store whose reservations can be made to hang until
// their context ends, like a store behind a blackhole.
type switchStore struct {
	seqcache.Store
	down  atomic.Bool
	calls atomic.Int64
}

func (s *switchStore) Reserve(ctx context.Context, name string, n int64) (seqcache.Block, error) {
	s.calls.Add(1)
	if s.down.Load() {
		<-ctx.Done()
		return seqcache.Block{}, ctx.Err()
	}
	return s.Store.Reserve(ctx, name, n)
}

func runwayOf(t *testing.T, c *seqcache.Cache, name string) seqcache.SequenceStats {
	t.Helper()
	for _, s := range c.Sequences() {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no runway for %s in %+v", name, c.Sequences())
	return seqcache.SequenceStats{}
}

// paced takes n values, one every pause, each with its own deadline, and
// returns them with the errors met.
func paced(c *seqcache.Cache, name string, n int, pause, deadline time.Duration) (vals []int64, errs []error) {
	for range n {
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		v, err := c.Next(ctx, name)
		cancel()
		if err != nil {
			errs = append(errs, err)
		} else {
			vals = append(vals, v)
		}
		time.Sleep(pause)
	}
	return vals, errs
}

func unique(t *testing.T, vals []int64) {
	t.Helper()
	s := slices.Clone(vals)
	slices.Sort(s)
	if n := len(slices.Compact(s)); n != len(vals) {
		t.Fatalf("%d distinct values out of %d: duplicates handed out", n, len(vals))
	}
}

// TestDemandSizing: a hot sequence's blocks grow far past the floor, and
// shrink back when it cools down; never below the floor.
func TestDemandSizing(t *testing.T) {
	store := newStore(t, spec(t, "public.s"))
	c := newCache(t, store, seqcache.Config{BlockSize: 100, MaxBlockSize: 400, BlockLifetime: 20 * time.Millisecond,
		AttemptTimeout: 10 * time.Millisecond, OutageCover: -1})
	ctx := context.Background()
	if _, err := c.NextN(ctx, "public.s", 1); err != nil {
		t.Fatal(err)
	}
	for range 200_000 {
		if _, err := c.Next(ctx, "public.s"); err != nil {
			t.Fatal(err)
		}
	}
	hot := runwayOf(t, c, "public.s")
	if hot.BlockSize != 400 || hot.Rate < 20_000 {
		t.Fatalf("after 200,000 values in a burst: %+v, want blocks of 400, the bound", hot)
	}
	if st := c.Stats(); st.Reservations > 200_000/400+20 {
		t.Fatalf("%d reservations for 200,000 values: blocks did not grow", st.Reservations)
	}
	vals, errs := paced(c, "public.s", 4000, 250*time.Microsecond, time.Second)
	if len(errs) > 0 {
		t.Fatal(errs[0])
	}
	if !slices.IsSorted(vals) {
		t.Fatal("values not increasing within the process")
	}
	cool := runwayOf(t, c, "public.s")
	if cool.BlockSize > 200 || cool.BlockSize < 100 {
		t.Fatalf("after cooling down: block %d (hot %d), want it shrunk toward the floor 100", cool.BlockSize, hot.BlockSize)
	}
}

// TestOutageCover: while the store hangs, a sequence is served at its
// previous rate from the cover, without a caller waiting or failing; the
// cache probes the store and goes back to normal blocks once it answers.
func TestOutageCover(t *testing.T) {
	store := &switchStore{Store: newStore(t, spec(t, "public.s"))}
	c := newCache(t, store, seqcache.Config{
		BlockSize: 20, BlockLifetime: 20 * time.Millisecond,
		OutageCover: 2 * time.Second, AttemptTimeout: 50 * time.Millisecond,
	})
	warm, errs := paced(c, "public.s", 300, time.Millisecond, time.Second)
	if len(errs) > 0 {
		t.Fatal(errs[0])
	}
	waitFor(t, func() bool { return runwayOf(t, c, "public.s").Cover > 0 })
	r := runwayOf(t, c, "public.s")
	t.Logf("before the outage: %+v", r)
	waits := c.Stats().Waits

	store.down.Store(true)
	during, errs := paced(c, "public.s", 500, time.Millisecond, 20*time.Millisecond)
	if len(errs) > 0 {
		t.Fatalf("%d errors during an outage shorter than the cover, first: %v", len(errs), errs[0])
	}
	if st := c.Stats(); st.Waits != waits || st.StoreErrors.Timeout == 0 {
		t.Fatalf("during the outage: %d waits (were %d), %d timeouts; want no new wait and timeouts counted", st.Waits, waits, st.StoreErrors.Timeout)
	}
	if u := runwayOf(t, c, "public.s").Unreachable; u == 0 {
		t.Fatal("the outage is not visible in the runway")
	}
	store.down.Store(false)
	back := time.Now()
	waitFor(t, func() bool { return runwayOf(t, c, "public.s").Unreachable == 0 })
	t.Logf("recovered %v after the store answered", time.Since(back))
	after, errs := paced(c, "public.s", 100, time.Millisecond, time.Second)
	if len(errs) > 0 {
		t.Fatal(errs[0])
	}
	all := slices.Concat(warm, during, after)
	unique(t, all)
	if max := slices.Max(slices.Concat(warm, during)); after[len(after)-1] <= max {
		t.Fatalf("after recovery %d, not past %d: still on the cover", after[len(after)-1], max)
	}
}

// TestOutageLongerThanCover: once the cover is spent, a caller gets 08006
// when its context ends, saying how long the store has been unreachable;
// values come again as soon as the store answers.
func TestOutageLongerThanCover(t *testing.T) {
	store := &switchStore{Store: newStore(t, spec(t, "public.s"))}
	c := newCache(t, store, seqcache.Config{
		BlockSize: 10, BlockLifetime: 10 * time.Millisecond,
		OutageCover: 100 * time.Millisecond, AttemptTimeout: 30 * time.Millisecond,
	})
	if _, errs := paced(c, "public.s", 200, time.Millisecond, time.Second); len(errs) > 0 {
		t.Fatal(errs[0])
	}
	store.down.Store(true)
	var err error
	for i := 0; err == nil && i < 5000; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		_, err = c.Next(ctx, "public.s")
		cancel()
		time.Sleep(200 * time.Microsecond)
	}
	if !errors.Is(err, seqcache.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) ||
		!strings.Contains(err.Error(), "unreachable for") {
		t.Fatalf("Next with the cover spent = %v, want 08006 saying for how long the store is unreachable", err)
	}
	store.down.Store(false)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if _, err := c.Next(ctx, "public.s"); err != nil {
		t.Fatal(err)
	}
	t.Logf("first value %v after the store answered again", time.Since(start))
}

// TestHeldShareCap: what a cache holds of a bounded sequence (blocks and
// cover: what a crash loses) stays within MaxHeldShare of what is left.
func TestHeldShareCap(t *testing.T) {
	store := newStore(t, spec(t, "public.small", seqcache.MaxValue(32767)))
	c := newCache(t, store, seqcache.Config{BlockSize: 1000, BlockLifetime: 50 * time.Millisecond, OutageCover: time.Hour})
	ctx := context.Background()
	for range 5000 {
		if _, err := c.Next(ctx, "public.small"); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(20 * time.Millisecond) // background fetches land
	r := runwayOf(t, c, "public.small")
	sq, err := store.Get(ctx, "public.small")
	if err != nil {
		t.Fatal(err)
	}
	left := 32767 - sq.Next + 1 + r.Held + r.Cover // left before this cache reserved what it holds
	if held := r.Held + r.Cover; float64(held) > 0.01*float64(left)+float64(r.BlockSize) {
		t.Fatalf("holds %d values (%+v) of %d left: over 1%%", held, r, left)
	}
	if r.BlockSize >= 1000 {
		t.Fatalf("block %d: the share cap must also cap the floor of a small sequence", r.BlockSize)
	}
}

// TestCloseGivesBackCover: a graceful Close returns the cover too when it
// is the newest reservation.
func TestCloseGivesBackCover(t *testing.T) {
	store := newStore(t, spec(t, "public.s"))
	ctx := context.Background()
	c := seqcache.NewCache(store, seqcache.Config{BlockSize: 100, MaxBlockSize: 100, OutageCover: 10 * time.Second})
	if _, err := c.NextN(ctx, "public.s", 60); err != nil { // past the low mark: rate, next block, cover
		t.Fatal(err)
	}
	waitFor(t, func() bool { return runwayOf(t, c, "public.s").Cover > 0 })
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	st := c.Stats()
	if st.Lost != 0 || st.Served != 60 || st.Reservations != 3 {
		t.Fatalf("stats after Close %+v, want 3 reservations, all given back", st)
	}
	if sq, _ := store.Get(ctx, "public.s"); sq.Next != 61 {
		t.Fatalf("store at %d after Close, want 61", sq.Next)
	}
}

// TestNoDuplicateUnderFaults: many goroutines on a few sequences while the
// store flaps, sizes change and the cover is used and refilled: never a
// duplicate, never a value outside the limits, in order per goroutine
// except at the switch to the cover.
func TestNoDuplicateUnderFaults(t *testing.T) {
	specs := []seqcache.Spec{
		spec(t, "public.a"),
		spec(t, "public.b", seqcache.Increment(-3)),
		spec(t, "public.c", seqcache.MaxValue(400_000)),
		spec(t, "public.d", seqcache.MaxValue(3000), seqcache.Cycle()),
	}
	store := &switchStore{Store: newStore(t, specs...)}
	c := newCache(t, store, seqcache.Config{
		BlockSize: 10, BlockLifetime: 5 * time.Millisecond,
		OutageCover: 50 * time.Millisecond, AttemptTimeout: 10 * time.Millisecond,
	})
	stop := make(chan struct{})
	var flaps sync.WaitGroup
	flaps.Go(func() {
		for {
			select {
			case <-stop:
				store.down.Store(false)
				return
			case <-time.After(time.Duration(rand.IntN(40)) * time.Millisecond):
				store.down.Store(!store.down.Load())
			}
		}
	})
	const goroutines, per = 16, 3000
	vals := make([][][]int64, len(specs))
	for k := range vals {
		vals[k] = make([][]int64, goroutines)
	}
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range per {
				k := (g + i) % len(specs)
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
				var v int64
				var err error
				if i%50 == 0 {
					var b []int64
					b, err = c.NextN(ctx, specs[k].Name, 7)
					if err == nil {
						v = b[0]
						vals[k][g] = append(vals[k][g], b[1:]...)
					}
				} else {
					v, err = c.Next(ctx, specs[k].Name)
				}
				cancel()
				if err != nil {
					if !errors.Is(err, seqcache.ErrUnavailable) && !errors.Is(err, seqcache.ErrLimitReached) {
						t.Errorf("Next: %v", err)
						return
					}
					continue
				}
				if !specs[k].InRange(v) {
					t.Errorf("%s gave %d outside its limits", specs[k].Name, v)
					return
				}
				vals[k][g] = append(vals[k][g], v)
			}
		})
	}
	wg.Wait()
	close(stop)
	flaps.Wait()
	for k, s := range specs {
		all := slices.Concat(vals[k]...)
		if s.Cycle {
			continue // values repeat after a wrap, by definition
		}
		if len(all) < goroutines*per/len(specs)/4 {
			t.Errorf("%s: only %d values served", s.Name, len(all))
		}
		unique(t, all)
	}
	t.Logf("stats %+v", c.Stats())
}

// TestRampUp: a cold process under full load grows its blocks within a
// block or two, so that callers wait for the store only at the start,
// even with a store that takes 5 ms a reservation.
func TestRampUp(t *testing.T) {
	store := &slowStore{Store: newStore(t, spec(t, "public.s")), delay: 5 * time.Millisecond}
	c := newCache(t, store, seqcache.Config{})
	ctx := context.Background()
	for range 300_000 {
		if _, err := c.Next(ctx, "public.s"); err != nil {
			t.Fatal(err)
		}
	}
	st := c.Stats()
	t.Logf("300,000 values: %d waits, %d reservations, runway %+v", st.Waits, st.Reservations, c.Sequences())
	if st.Waits > 3 {
		t.Fatalf("%d waits for the store: the blocks did not grow fast enough", st.Waits)
	}
}

// TestCloseUnderLoad: Close while goroutines take values gives back only
// values nobody took: a second cache on the same store, drawing after it,
// never hands out a value the first one did.
func TestCloseUnderLoad(t *testing.T) {
	store := newStore(t, spec(t, "public.s"))
	a := seqcache.NewCache(store, seqcache.Config{BlockSize: 50, BlockLifetime: 5 * time.Millisecond,
		AttemptTimeout: 2 * time.Millisecond, OutageCover: 20 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	var (
		mu  sync.Mutex
		all []int64
		wg  sync.WaitGroup
	)
	for range 8 {
		wg.Go(func() {
			var mine []int64
			for {
				v, err := a.Next(context.Background(), "public.s")
				if errors.Is(err, seqcache.ErrClosed) {
					break
				}
				if err != nil {
					t.Error(err)
					break
				}
				mine = append(mine, v)
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		})
	}
	time.Sleep(50 * time.Millisecond)
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	st := a.Stats()
	if st.Served != int64(len(all)) {
		t.Fatalf("served %d, goroutines got %d", st.Served, len(all))
	}
	b := newCache(t, store, seqcache.Config{BlockSize: 50})
	more, err := b.NextN(context.Background(), "public.s", 5000)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("a: %d values, %d given back, %d lost", len(all), st.GivenBack, st.Lost)
	unique(t, append(all, more...))
}
