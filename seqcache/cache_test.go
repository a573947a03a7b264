package seqcache_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seqshim/seqshim/seqcache"
)

func newStore(t testing.TB, specs ...seqcache.Spec) *seqcache.MemoryStore {
	t.Helper()
	m := seqcache.NewMemoryStore()
	for _, s := range specs {
		if err := m.Create(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func spec(t testing.TB, name string, opts ...seqcache.Option) seqcache.Spec {
	t.Helper()
	s, err := seqcache.Define(name, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newCache(t testing.TB, store seqcache.Store, cfg seqcache.Config) *seqcache.Cache {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c := seqcache.NewCache(store, cfg)
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// slowStore delays every reservation, like a store across a network.
type slowStore struct {
	seqcache.Store
	delay time.Duration
	calls atomic.Int64
}

func (s *slowStore) Reserve(ctx context.Context, name string, n int64) (seqcache.Block, error) {
	s.calls.Add(1)
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
		return seqcache.Block{}, ctx.Err()
	}
	return s.Store.Reserve(ctx, name, n)
}

func TestConcurrentOneSequence(t *testing.T) {
	s := spec(t, "public.s")
	c := newCache(t, newStore(t, s), seqcache.Config{})
	drain(t, c, []string{"public.s"}, []seqcache.Spec{s}, 64, 100_000)
	st := c.Stats()
	if st.Served != 64*100_000 {
		t.Fatalf("Served = %d, want %d", st.Served, 64*100_000)
	}
	// Fixed blocks of 1000 would take 6400 reservations; blocks sized by
	// the rate take a few dozen at most.
	if st.Reservations < 2 || st.Reservations > 640 {
		t.Fatalf("Reservations = %d, want 2..640 with blocks sized by demand", st.Reservations)
	}
}

func TestConcurrentSixteenSequences(t *testing.T) {
	var names []string
	var specs []seqcache.Spec
	for i := range 16 {
		names = append(names, "public.s"+string(rune('a'+i)))
		opts := []seqcache.Option{seqcache.CacheSize(int64(50 + 97*i))}
		if i%4 == 3 {
			opts = append(opts, seqcache.Increment(-7)) // descending: order reversed
		}
		specs = append(specs, spec(t, names[i], opts...))
	}
	c := newCache(t, newStore(t, specs...), seqcache.Config{})
	drain(t, c, names, specs, 64, 100_000)
}

// drain has goroutines take values from the sequences round robin and
// checks uniqueness and each goroutine's order per sequence.
func drain(t *testing.T, c *seqcache.Cache, names []string, specs []seqcache.Spec, goroutines, per int) {
	t.Helper()
	all := make([][]int64, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			ctx := context.Background()
			vals := make([]int64, 0, per)
			last := make([]int64, len(names))
			seen := make([]bool, len(names))
			for i := range per {
				k := (g + i) % len(names)
				v, err := c.Next(ctx, names[k])
				if err != nil {
					t.Errorf("Next: %v", err)
					return
				}
				if seen[k] && (v-last[k])*specs[k].Increment <= 0 {
					t.Errorf("goroutine %d: %s gave %d after %d", g, names[k], v, last[k])
					return
				}
				last[k], seen[k] = v, true
				vals = append(vals, v*int64(len(names))+int64(k))
			}
			all[g] = vals
		})
	}
	wg.Wait()
	merged := slices.Concat(all...)
	slices.Sort(merged)
	if n := len(slices.Compact(merged)); n != goroutines*per {
		t.Fatalf("%d distinct values out of %d: duplicates handed out", n, goroutines*per)
	}
}

func TestPrefetchHidesLatency(t *testing.T) {
	store := &slowStore{Store: newStore(t, spec(t, "public.s")), delay: 50 * time.Millisecond}
	// Fixed blocks and no cover, so that the values are contiguous.
	c := newCache(t, store, seqcache.Config{BlockSize: 200, MaxBlockSize: 200, OutageCover: -1})
	ctx := context.Background()
	want := int64(1)
	for range 1000 { // 1 value a millisecond: the fetch starts 100 ms before a block runs out and takes 50
		v, err := c.Next(ctx, "public.s")
		if err != nil {
			t.Fatal(err)
		}
		if v != want {
			t.Fatalf("Next = %d, want %d", v, want)
		}
		want++
		time.Sleep(time.Millisecond)
	}
	if st := c.Stats(); st.Waits != 1 {
		t.Fatalf("Waits = %d, want 1 (the first block only); stats %+v", st.Waits, st)
	}
}

func TestDeadlineWhileWaiting(t *testing.T) {
	store := &slowStore{Store: newStore(t, spec(t, "public.s")), delay: time.Hour}
	c := seqcache.NewCache(store, seqcache.Config{FetchTimeout: 200 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := c.Next(ctx, "public.s")
	if !errors.Is(err, seqcache.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next past the deadline = %v, want 08006 wrapping DeadlineExceeded", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := c.Next(ctx, "public.s"); !errors.Is(err, context.Canceled) || seqcache.CodeOf(err) != seqcache.CodeQueryCanceled {
		t.Fatalf("Next after cancel = %v, want 57014 wrapping Canceled", err)
	}
	// A caller without a deadline gives up at FetchTimeout, with 08006.
	_, err = c.Next(context.Background(), "public.s")
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, seqcache.ErrUnavailable) {
		t.Fatalf("Next without a deadline = %v, want 08006 wrapping DeadlineExceeded", err)
	}
	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestUnknownSequence(t *testing.T) {
	c := newCache(t, newStore(t), seqcache.Config{})
	for range 3 {
		_, err := c.Next(context.Background(), "public.nope")
		if !errors.Is(err, seqcache.ErrUnknownSequence) {
			t.Fatalf("Next(unknown) = %v, want 42P01", err)
		}
	}
	if st := c.Stats(); st.Sequences != 0 {
		t.Fatalf("unknown names are kept: %d sequences", st.Sequences)
	}
}

func TestLimitAndCycle(t *testing.T) {
	store := newStore(t,
		spec(t, "public.b", seqcache.MaxValue(3)),
		spec(t, "public.c", seqcache.MaxValue(5), seqcache.Cycle()),
		spec(t, "public.d", seqcache.Increment(-2), seqcache.MinValue(-5), seqcache.MaxValue(5), seqcache.Start(1), seqcache.Cycle()))
	c := newCache(t, store, seqcache.Config{BlockSize: 2})
	ctx := context.Background()
	next := func(name string, n int) []int64 {
		var out []int64
		for range n {
			v, err := c.Next(ctx, name)
			if err != nil {
				t.Fatalf("Next(%s) after %v: %v", name, out, err)
			}
			out = append(out, v)
		}
		return out
	}
	if got := next("public.b", 3); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Fatalf("bounded: %v", got)
	}
	for range 2 {
		if _, err := c.Next(ctx, "public.b"); !errors.Is(err, seqcache.ErrLimitReached) {
			t.Fatalf("Next past MAXVALUE = %v, want 2200H", err)
		}
	}
	if got := next("public.c", 12); !slices.Equal(got, []int64{1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2}) {
		t.Fatalf("cycle: %v", got)
	}
	if got := next("public.d", 8); !slices.Equal(got, []int64{1, -1, -3, -5, 5, 3, 1, -1}) {
		t.Fatalf("descending cycle: %v", got)
	}
}

func TestSetValueDiscardsCache(t *testing.T) {
	store := newStore(t, spec(t, "public.s"))
	c := newCache(t, store, seqcache.Config{BlockSize: 100})
	ctx := context.Background()
	if v, _ := c.Next(ctx, "public.s"); v != 1 {
		t.Fatalf("first value %d", v)
	}
	if err := c.SetValue(ctx, "public.s", 500, true); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Next(ctx, "public.s"); v != 501 || err != nil {
		t.Fatalf("Next after setval(500) = %d, %v; want 501", v, err)
	}
	if err := c.SetValue(ctx, "public.s", 0, true); !errors.Is(err, seqcache.ErrOutOfRange) {
		t.Fatalf("setval(0) = %v, want 22003", err)
	}
	if v, _ := c.Next(ctx, "public.s"); v != 502 {
		t.Fatalf("a refused setval disturbed the cache: %d", v)
	}
	if st := c.Stats(); st.Lost != 99 || st.Served != 3 {
		t.Fatalf("stats %+v, want 99 lost and 3 served", st)
	}
}

func TestCloseGivesBack(t *testing.T) {
	store := newStore(t, spec(t, "public.s"))
	ctx := context.Background()
	c := seqcache.NewCache(store, seqcache.Config{BlockSize: 1000, MaxBlockSize: 1000, OutageCover: -1})
	vals, err := c.NextN(ctx, "public.s", 600) // past the low-water mark: block 2 is fetched
	if err != nil || vals[0] != 1 || vals[599] != 600 {
		t.Fatalf("NextN = %v..., %v", vals[:1], err)
	}
	waitFor(t, func() bool { return c.Stats().Reservations == 2 })
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.GivenBack != 1400 || st.Lost != 0 || st.Served != 600 {
		t.Fatalf("stats after Close %+v, want 1400 given back", st)
	}
	if sq, _ := store.Get(ctx, "public.s"); sq.Next != 601 {
		t.Fatalf("store at %d after Close, want 601: a restart leaves no gap", sq.Next)
	}
	if _, err := c.Next(ctx, "public.s"); !errors.Is(err, seqcache.ErrClosed) {
		t.Fatalf("Next after Close = %v, want ErrClosed", err)
	}
}

func TestCloseAfterOtherReserved(t *testing.T) {
	store := newStore(t, spec(t, "public.s"))
	ctx := context.Background()
	a := seqcache.NewCache(store, seqcache.Config{BlockSize: 1000})
	b := newCache(t, store, seqcache.Config{BlockSize: 1000})
	if v, _ := a.Next(ctx, "public.s"); v != 1 {
		t.Fatalf("a: %d", v)
	}
	if v, _ := b.Next(ctx, "public.s"); v != 1001 {
		t.Fatalf("b: %d", v)
	}
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if st := a.Stats(); st.GivenBack != 0 || st.Lost != 999 {
		t.Fatalf("a's stats %+v: want 999 lost, none given back", st)
	}
	if v, _ := b.Next(ctx, "public.s"); v != 1002 {
		t.Fatalf("b after a closed: %d", v)
	}
	if sq, _ := store.Get(ctx, "public.s"); sq.Next != 2001 {
		t.Fatalf("store at %d, want 2001", sq.Next)
	}
}

func TestOrdered(t *testing.T) {
	store := newStore(t, spec(t, "public.o", seqcache.Ordered(), seqcache.CacheSize(50)))
	a := newCache(t, store, seqcache.Config{})
	b := newCache(t, store, seqcache.Config{})
	ctx := context.Background()
	var got []int64
	for i := range 6 {
		c := a
		if i%2 == 1 {
			c = b
		}
		v, err := c.Next(ctx, "public.o")
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	if !slices.Equal(got, []int64{1, 2, 3, 4, 5, 6}) {
		t.Fatalf("ordered values across two caches: %v", got)
	}
	if st := a.Stats(); st.Reservations != 3 || st.Served != 3 {
		t.Fatalf("ordered: every value is a reservation; stats %+v", st)
	}
}

func TestNextNAcrossBlocks(t *testing.T) {
	store := newStore(t, spec(t, "public.s", seqcache.Increment(2)))
	c := newCache(t, store, seqcache.Config{BlockSize: 1000})
	vals, err := c.NextN(context.Background(), "public.s", 2500)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vals {
		if v != int64(1+2*i) {
			t.Fatalf("vals[%d] = %d, want %d", i, v, 1+2*i)
		}
	}
	if _, err := c.NextN(context.Background(), "public.s", 0); !errors.Is(err, seqcache.ErrInvalidSpec) {
		t.Fatalf("NextN(0) = %v, want 22023", err)
	}
}

// TestLayers runs client caches over a server cache over a store (a Cache
// is itself a Store, so caches stack as a sequence server would stack
// them) and checks uniqueness across clients.
func TestLayers(t *testing.T) {
	store := newStore(t, spec(t, "public.s"))
	server := newCache(t, store, seqcache.Config{BlockSize: 10_000})
	var clients []*seqcache.Cache
	for range 4 {
		clients = append(clients, newCache(t, server, seqcache.Config{BlockSize: 100}))
	}
	var mu sync.Mutex
	var all []int64
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			c := clients[g%4]
			var last int64
			var mine []int64
			for range 5000 {
				v, err := c.Next(context.Background(), "public.s")
				if err != nil || v <= last {
					t.Errorf("client %d: %d after %d, %v", g%4, v, last, err)
					return
				}
				last = v
				mine = append(mine, v)
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.Sort(all)
	if n := len(slices.Compact(all)); n != 16*5000 {
		t.Fatalf("%d distinct of %d", n, 16*5000)
	}
	if st := server.Stats(); st.Reservations > 9 {
		t.Fatalf("server made %d store reservations for 80,000 values in blocks of 10,000", st.Reservations)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

// gatedStore holds its first two Gets until the test lets them go.
type gatedStore struct {
	*seqcache.MemoryStore
	calls        atomic.Int64
	first, other chan struct{}
}

func (g *gatedStore) Get(ctx context.Context, name string) (seqcache.Sequence, error) {
	switch g.calls.Add(1) {
	case 1:
		<-g.first
	case 2:
		<-g.other
	}
	return g.MemoryStore.Get(ctx, name)
}

// TestUnknownThenCreated: a caller that queued behind a lookup which found
// the sequence unknown must not keep a second cache of it once it exists:
// the process hands out values from one block, in order.
func TestUnknownThenCreated(t *testing.T) {
	store := &gatedStore{MemoryStore: newStore(t), first: make(chan struct{}), other: make(chan struct{})}
	c := newCache(t, store, seqcache.Config{BlockSize: 1000})
	ctx := context.Background()
	errs := make(chan error, 1)
	go func() { _, err := c.Next(ctx, "public.late"); errs <- err }()
	waitFor(t, func() bool { return store.calls.Load() == 1 })
	second := make(chan int64, 1)
	go func() {
		v, err := c.Next(ctx, "public.late")
		if err != nil {
			t.Error(err)
		}
		second <- v
	}()
	time.Sleep(20 * time.Millisecond) // the second caller queues behind the first lookup
	close(store.first)
	if err := <-errs; !errors.Is(err, seqcache.ErrUnknownSequence) {
		t.Fatalf("first caller: %v, want 42P01", err)
	}
	if err := store.Create(ctx, spec(t, "public.late")); err != nil {
		t.Fatal(err)
	}
	close(store.other)
	a := <-second
	b, err := c.Next(ctx, "public.late")
	if err != nil || a != 1 || b != 2 {
		t.Fatalf("values %d then %d, %v: want 1 then 2 from one block", a, b, err)
	}
}
