// Package storetest is the conformance suite every seqcache.Store runs:
// the semantics of seqcache.Store (PostgreSQL's sequence semantics) for
// ascending, descending, cycling and bounded sequences, give-back, and
// concurrent reservations that never overlap. A store passes when its tests call Run and it passes.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"

	"github.com/seqshim/seqshim/seqcache"
)

// Run runs the suite. newStore must return an empty store each time it is
// called (a fresh namespace is enough).
func Run(t *testing.T, newStore func(t *testing.T) seqcache.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, seqcache.Store)
	}{
		{"CreateGet", testCreateGet},
		{"CreateExists", testCreateExists},
		{"CreateInvalid", testCreateInvalid},
		{"Unknown", testUnknown},
		{"ListDrop", testListDrop},
		{"ReserveAscending", testReserveAscending},
		{"ReserveDescending", testReserveDescending},
		{"ReserveBounded", testReserveBounded},
		{"ReserveBoundedStep", testReserveBoundedStep},
		{"ReserveExtremes", testReserveExtremes},
		{"CycleAscending", testCycleAscending},
		{"CycleDescending", testCycleDescending},
		{"SetValue", testSetValue},
		{"SetValueLimits", testSetValueLimits},
		{"GiveBack", testGiveBack},
		{"GiveBackRefused", testGiveBackRefused},
		{"GiveBackAtLimit", testGiveBackAtLimit},
		{"GiveBackAcrossWrap", testGiveBackAcrossWrap},
		{"ConcurrentAscending", func(t *testing.T, s seqcache.Store) { testConcurrent(t, s, 1) }},
		{"ConcurrentDescending", func(t *testing.T, s seqcache.Store) { testConcurrent(t, s, -1) }},
		{"ConcurrentExhaust", testConcurrentExhaust},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

func define(t *testing.T, s seqcache.Store, name string, opts ...seqcache.Option) seqcache.Spec {
	t.Helper()
	spec, err := seqcache.Define(name, opts...)
	if err != nil {
		t.Fatalf("Define(%s): %v", name, err)
	}
	if err := s.Create(t.Context(), spec); err != nil {
		t.Fatalf("Create(%s): %v", name, err)
	}
	return spec
}

func reserve(t *testing.T, s seqcache.Store, name string, n int64, want seqcache.Block) {
	t.Helper()
	got, err := s.Reserve(t.Context(), name, n)
	if err != nil {
		t.Fatalf("Reserve(%s, %d): %v", name, n, err)
	}
	if want.Epoch == 0 {
		want.Epoch = got.Epoch // the tests that care say which
	}
	if got != want {
		t.Fatalf("Reserve(%s, %d) = %+v, want %+v", name, n, got, want)
	}
}

// reserved reserves n values and returns the block.
func reserved(t *testing.T, s seqcache.Store, name string, n int64) seqcache.Block {
	t.Helper()
	b, err := s.Reserve(t.Context(), name, n)
	if err != nil {
		t.Fatalf("Reserve(%s, %d): %v", name, n, err)
	}
	return b
}

func wantCode(t *testing.T, err error, sentinel *seqcache.Error, seq string) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("error = %v, want SQLSTATE %s", err, sentinel.Code)
	}
	var e *seqcache.Error
	if !errors.As(err, &e) || e.Sequence != seq {
		t.Fatalf("error %v does not name sequence %q", err, seq)
	}
}

func get(t *testing.T, s seqcache.Store, name string) seqcache.Sequence {
	t.Helper()
	sq, err := s.Get(t.Context(), name)
	if err != nil {
		t.Fatalf("Get(%s): %v", name, err)
	}
	return sq
}

func testCreateGet(t *testing.T, s seqcache.Store) {
	spec := define(t, s, "public.orders_id_seq", seqcache.Start(42), seqcache.Increment(7),
		seqcache.MaxValue(1000), seqcache.CacheSize(20), seqcache.Cycle())
	got := get(t, s, spec.Name)
	want := seqcache.Sequence{Spec: spec, Next: 42}
	if got != want {
		t.Fatalf("Get = %+v, want %+v", got, want)
	}
	ord := define(t, s, "public.ordered", seqcache.Ordered(), seqcache.Increment(-2))
	if got := get(t, s, ord.Name); got != (seqcache.Sequence{Spec: ord, Next: -1}) {
		t.Fatalf("Get = %+v, want spec %+v at -1", got, ord)
	}
}

func testCreateExists(t *testing.T, s seqcache.Store) {
	spec := define(t, s, "public.s")
	if _, err := s.Reserve(t.Context(), spec.Name, 5); err != nil {
		t.Fatal(err)
	}
	again, _ := seqcache.Define("public.s", seqcache.Start(100))
	wantCode(t, s.Create(t.Context(), again), seqcache.ErrExists, "public.s")
	if got := get(t, s, "public.s"); got.Next != 6 || got.Start != 1 {
		t.Fatalf("failed Create changed the sequence: %+v", got)
	}
}

func testCreateInvalid(t *testing.T, s seqcache.Store) {
	bad := seqcache.Spec{Name: "public.bad", Start: 1, Increment: 0, MinValue: 1, MaxValue: 10, Cache: 1}
	if err := s.Create(t.Context(), bad); !errors.Is(err, seqcache.ErrInvalidSpec) {
		t.Fatalf("Create(increment 0) = %v, want 22023", err)
	}
	_, err := s.Get(t.Context(), "public.bad")
	wantCode(t, err, seqcache.ErrUnknownSequence, "public.bad")
}

func testUnknown(t *testing.T, s seqcache.Store) {
	ctx := t.Context()
	const name = "public.missing"
	_, err := s.Get(ctx, name)
	wantCode(t, err, seqcache.ErrUnknownSequence, name)
	_, err = s.Reserve(ctx, name, 1)
	wantCode(t, err, seqcache.ErrUnknownSequence, name)
	wantCode(t, s.SetValue(ctx, name, 5, true), seqcache.ErrUnknownSequence, name)
	wantCode(t, s.Drop(ctx, name), seqcache.ErrUnknownSequence, name)
	ok, err := s.GiveBack(ctx, name, seqcache.Block{First: 1, Count: 1, Increment: 1})
	if ok {
		t.Fatal("GiveBack on a missing sequence succeeded")
	}
	wantCode(t, err, seqcache.ErrUnknownSequence, name)
}

func testListDrop(t *testing.T, s seqcache.Store) {
	ctx := t.Context()
	if got, err := s.List(ctx); err != nil || len(got) != 0 {
		t.Fatalf("List on an empty store = %v, %v", got, err)
	}
	for _, n := range []string{"public.c", "public.a", "app.b"} {
		define(t, s, n)
	}
	reserve(t, s, "public.a", 3, seqcache.Block{First: 1, Count: 3, Increment: 1})
	list, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, sq := range list {
		names = append(names, sq.Name)
		if want := int64(1) + 3*bool2int(sq.Name == "public.a"); sq.Next != want {
			t.Errorf("List: %s at %d, want %d", sq.Name, sq.Next, want)
		}
	}
	if !slices.Equal(names, []string{"app.b", "public.a", "public.c"}) {
		t.Fatalf("List names = %v, want sorted [app.b public.a public.c]", names)
	}
	if err := s.Drop(ctx, "public.a"); err != nil {
		t.Fatal(err)
	}
	_, err = s.Get(ctx, "public.a")
	wantCode(t, err, seqcache.ErrUnknownSequence, "public.a")
	define(t, s, "public.a") // a dropped name can be created anew, from its start
	reserve(t, s, "public.a", 1, seqcache.Block{First: 1, Count: 1, Increment: 1})
	if list, _ := s.List(ctx); len(list) != 3 {
		t.Fatalf("List after drop and create has %d sequences, want 3", len(list))
	}
}

func bool2int(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func testReserveAscending(t *testing.T, s seqcache.Store) {
	define(t, s, "public.a")
	reserve(t, s, "public.a", 10, seqcache.Block{First: 1, Count: 10, Increment: 1})
	reserve(t, s, "public.a", 5, seqcache.Block{First: 11, Count: 5, Increment: 1})
	reserve(t, s, "public.a", 0, seqcache.Block{First: 16, Count: 1, Increment: 1}) // n < 1 means 1
	if got := get(t, s, "public.a"); got.Next != 17 || got.Exhausted {
		t.Fatalf("after 16 values: %+v, want next 17", got)
	}
	define(t, s, "public.step", seqcache.Start(3), seqcache.Increment(5))
	reserve(t, s, "public.step", 3, seqcache.Block{First: 3, Count: 3, Increment: 5})
	reserve(t, s, "public.step", 1, seqcache.Block{First: 18, Count: 1, Increment: 5})
}

func testReserveDescending(t *testing.T, s seqcache.Store) {
	define(t, s, "public.d", seqcache.Increment(-1))
	reserve(t, s, "public.d", 3, seqcache.Block{First: -1, Count: 3, Increment: -1})
	reserve(t, s, "public.d", 2, seqcache.Block{First: -4, Count: 2, Increment: -1})
	define(t, s, "public.d2", seqcache.Increment(-10), seqcache.Start(100), seqcache.MaxValue(100), seqcache.MinValue(-1000))
	reserve(t, s, "public.d2", 4, seqcache.Block{First: 100, Count: 4, Increment: -10})
	if got := get(t, s, "public.d2"); got.Next != 60 {
		t.Fatalf("next = %d, want 60", got.Next)
	}
}

func testReserveBounded(t *testing.T, s seqcache.Store) {
	define(t, s, "public.b", seqcache.MaxValue(10))
	reserve(t, s, "public.b", 4, seqcache.Block{First: 1, Count: 4, Increment: 1})
	reserve(t, s, "public.b", 4, seqcache.Block{First: 5, Count: 4, Increment: 1})
	reserve(t, s, "public.b", 4, seqcache.Block{First: 9, Count: 2, Increment: 1}) // truncated
	if got := get(t, s, "public.b"); !got.Exhausted {
		t.Fatalf("after the last value: %+v, want exhausted", got)
	}
	for range 2 {
		_, err := s.Reserve(t.Context(), "public.b", 1)
		wantCode(t, err, seqcache.ErrLimitReached, "public.b")
	}
	define(t, s, "public.bd", seqcache.Increment(-1), seqcache.MinValue(-3))
	reserve(t, s, "public.bd", 10, seqcache.Block{First: -1, Count: 3, Increment: -1})
	_, err := s.Reserve(t.Context(), "public.bd", 1)
	wantCode(t, err, seqcache.ErrLimitReached, "public.bd")
}

func testReserveBoundedStep(t *testing.T, s seqcache.Store) {
	// 1, 4, 7, 10: the limit 11 is not a value of the sequence.
	define(t, s, "public.b", seqcache.Increment(3), seqcache.MaxValue(11))
	reserve(t, s, "public.b", 100, seqcache.Block{First: 1, Count: 4, Increment: 3})
	_, err := s.Reserve(t.Context(), "public.b", 1)
	wantCode(t, err, seqcache.ErrLimitReached, "public.b")
	define(t, s, "public.huge", seqcache.MaxValue(100))
	reserve(t, s, "public.huge", math.MaxInt64, seqcache.Block{First: 1, Count: 100, Increment: 1})
}

func testReserveExtremes(t *testing.T, s seqcache.Store) {
	define(t, s, "public.top", seqcache.Start(math.MaxInt64-2))
	reserve(t, s, "public.top", 10, seqcache.Block{First: math.MaxInt64 - 2, Count: 3, Increment: 1})
	_, err := s.Reserve(t.Context(), "public.top", 1)
	wantCode(t, err, seqcache.ErrLimitReached, "public.top")

	define(t, s, "public.bottom", seqcache.Increment(-1), seqcache.Start(math.MinInt64+1))
	reserve(t, s, "public.bottom", 10, seqcache.Block{First: math.MinInt64 + 1, Count: 2, Increment: -1})
	_, err = s.Reserve(t.Context(), "public.bottom", 1)
	wantCode(t, err, seqcache.ErrLimitReached, "public.bottom")

	define(t, s, "public.wide", seqcache.Increment(math.MaxInt64/2), seqcache.MinValue(0), seqcache.Start(0))
	reserve(t, s, "public.wide", 10, seqcache.Block{First: 0, Count: 3, Increment: math.MaxInt64 / 2})
}

func testCycleAscending(t *testing.T, s seqcache.Store) {
	define(t, s, "public.c", seqcache.MaxValue(5), seqcache.Start(3), seqcache.Cycle())
	reserve(t, s, "public.c", 10, seqcache.Block{First: 3, Count: 3, Increment: 1})
	reserve(t, s, "public.c", 2, seqcache.Block{First: 1, Count: 2, Increment: 1}) // wraps to MINVALUE
	reserve(t, s, "public.c", 10, seqcache.Block{First: 3, Count: 3, Increment: 1})
	reserve(t, s, "public.c", 1, seqcache.Block{First: 1, Count: 1, Increment: 1})
}

func testCycleDescending(t *testing.T, s seqcache.Store) {
	define(t, s, "public.cd", seqcache.Increment(-2), seqcache.MinValue(1), seqcache.MaxValue(9), seqcache.Cycle())
	reserve(t, s, "public.cd", 3, seqcache.Block{First: 9, Count: 3, Increment: -2})
	reserve(t, s, "public.cd", 3, seqcache.Block{First: 3, Count: 2, Increment: -2})
	reserve(t, s, "public.cd", 1, seqcache.Block{First: 9, Count: 1, Increment: -2}) // wraps to MAXVALUE
}

func testSetValue(t *testing.T, s seqcache.Store) {
	ctx := t.Context()
	define(t, s, "public.s")
	reserve(t, s, "public.s", 10, seqcache.Block{First: 1, Count: 10, Increment: 1})
	if err := s.SetValue(ctx, "public.s", 100, true); err != nil {
		t.Fatal(err)
	}
	reserve(t, s, "public.s", 1, seqcache.Block{First: 101, Count: 1, Increment: 1})
	if err := s.SetValue(ctx, "public.s", 5, false); err != nil { // backwards is allowed
		t.Fatal(err)
	}
	reserve(t, s, "public.s", 2, seqcache.Block{First: 5, Count: 2, Increment: 1})
	for _, v := range []int64{0, -5} {
		wantCode(t, s.SetValue(ctx, "public.s", v, true), seqcache.ErrOutOfRange, "public.s")
	}
	if got := get(t, s, "public.s"); got.Next != 7 {
		t.Fatalf("a refused setval moved the sequence to %d", got.Next)
	}
	define(t, s, "public.d", seqcache.Increment(-1))
	if err := s.SetValue(ctx, "public.d", -50, true); err != nil {
		t.Fatal(err)
	}
	reserve(t, s, "public.d", 1, seqcache.Block{First: -51, Count: 1, Increment: -1})
	wantCode(t, s.SetValue(ctx, "public.d", 1, false), seqcache.ErrOutOfRange, "public.d")
}

func testSetValueLimits(t *testing.T, s seqcache.Store) {
	ctx := t.Context()
	define(t, s, "public.b", seqcache.MaxValue(10))
	if err := s.SetValue(ctx, "public.b", 10, true); err != nil {
		t.Fatal(err)
	}
	if got := get(t, s, "public.b"); !got.Exhausted {
		t.Fatalf("setval(max, true): %+v, want exhausted", got)
	}
	_, err := s.Reserve(ctx, "public.b", 1)
	wantCode(t, err, seqcache.ErrLimitReached, "public.b")
	if err := s.SetValue(ctx, "public.b", 10, false); err != nil {
		t.Fatal(err)
	}
	reserve(t, s, "public.b", 5, seqcache.Block{First: 10, Count: 1, Increment: 1})

	define(t, s, "public.c", seqcache.MaxValue(10), seqcache.Cycle())
	if err := s.SetValue(ctx, "public.c", 10, true); err != nil {
		t.Fatal(err)
	}
	reserve(t, s, "public.c", 2, seqcache.Block{First: 1, Count: 2, Increment: 1})

	define(t, s, "public.top", seqcache.Start(5))
	if err := s.SetValue(ctx, "public.top", math.MaxInt64, true); err != nil {
		t.Fatal(err)
	}
	_, err = s.Reserve(ctx, "public.top", 1)
	wantCode(t, err, seqcache.ErrLimitReached, "public.top")
}

func testGiveBack(t *testing.T, s seqcache.Store) {
	ctx := t.Context()
	define(t, s, "public.g")
	reserve(t, s, "public.g", 10, seqcache.Block{First: 1, Count: 10, Increment: 1})
	tail := seqcache.Block{First: 6, Count: 5, Increment: 1}
	if ok, err := s.GiveBack(ctx, "public.g", tail); err != nil || !ok {
		t.Fatalf("GiveBack(unused tail) = %v, %v; want true", ok, err)
	}
	if ok, err := s.GiveBack(ctx, "public.g", tail); err != nil || ok {
		t.Fatalf("second GiveBack of the same tail = %v, %v; want false", ok, err)
	}
	reserve(t, s, "public.g", 3, seqcache.Block{First: 6, Count: 3, Increment: 1})

	define(t, s, "public.gd", seqcache.Increment(-3))
	reserve(t, s, "public.gd", 4, seqcache.Block{First: -1, Count: 4, Increment: -3})
	if ok, err := s.GiveBack(ctx, "public.gd", seqcache.Block{First: -7, Count: 2, Increment: -3}); err != nil || !ok {
		t.Fatalf("GiveBack(descending tail) = %v, %v; want true", ok, err)
	}
	reserve(t, s, "public.gd", 1, seqcache.Block{First: -7, Count: 1, Increment: -3})
}

func testGiveBackRefused(t *testing.T, s seqcache.Store) {
	ctx := t.Context()
	define(t, s, "public.g")
	first := reserved(t, s, "public.g", 10)  // 1..10
	second := reserved(t, s, "public.g", 10) // 11..20, someone else's
	if ok, err := s.GiveBack(ctx, "public.g", first.Tail(5)); err != nil || ok {
		t.Fatalf("GiveBack after a later reservation = %v, %v; want false", ok, err)
	}
	// A setval that puts the store back exactly past the second block
	// still refuses its give-back: values may have been handed out since.
	if err := s.SetValue(ctx, "public.g", 20, true); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.GiveBack(ctx, "public.g", second.Tail(4)); err != nil || ok {
		t.Fatalf("GiveBack after a setval to the same position = %v, %v; want false", ok, err)
	}
	reserve(t, s, "public.g", 1, seqcache.Block{First: 21, Count: 1, Increment: 1})
	if ok, _ := s.GiveBack(ctx, "public.g", seqcache.Block{First: 3, Count: 5, Increment: 2}); ok {
		t.Fatal("GiveBack with another increment succeeded")
	}
}

// testGiveBackAcrossWrap: a cycling sequence that wrapped and came back to
// the same position refuses the give-back of a block from the lap before.
func testGiveBackAcrossWrap(t *testing.T, s seqcache.Store) {
	ctx := t.Context()
	define(t, s, "public.w", seqcache.MaxValue(10), seqcache.Cycle())
	old := reserved(t, s, "public.w", 4) // 1..4
	reserve(t, s, "public.w", 6, seqcache.Block{First: 5, Count: 6, Increment: 1})
	reserve(t, s, "public.w", 4, seqcache.Block{First: 1, Count: 4, Increment: 1}) // the next lap
	if sq := get(t, s, "public.w"); sq.Next != 5 || sq.Epoch == old.Epoch {
		t.Fatalf("after a wrap: %+v, want next 5 in a new epoch (block's %d)", sq, old.Epoch)
	}
	if ok, err := s.GiveBack(ctx, "public.w", old.Tail(2)); err != nil || ok {
		t.Fatalf("GiveBack from the lap before = %v, %v; want false", ok, err)
	}
	reserve(t, s, "public.w", 1, seqcache.Block{First: 5, Count: 1, Increment: 1})
}

func testGiveBackAtLimit(t *testing.T, s seqcache.Store) {
	ctx := t.Context()
	define(t, s, "public.b", seqcache.MaxValue(10))
	reserve(t, s, "public.b", 100, seqcache.Block{First: 1, Count: 10, Increment: 1})
	if ok, err := s.GiveBack(ctx, "public.b", seqcache.Block{First: 8, Count: 3, Increment: 1}); err != nil || !ok {
		t.Fatalf("GiveBack(tail ending on the limit) = %v, %v; want true", ok, err)
	}
	if got := get(t, s, "public.b"); got.Exhausted || got.Next != 8 {
		t.Fatalf("after give-back: %+v, want next 8", got)
	}
	reserve(t, s, "public.b", 100, seqcache.Block{First: 8, Count: 3, Increment: 1})
}

// testConcurrent has goroutines reserve blocks of mixed sizes and checks
// that no value is handed out twice.
func testConcurrent(t *testing.T, s seqcache.Store, dir int64) {
	define(t, s, "public.conc", seqcache.Increment(dir*3))
	const workers, per = 8, 40
	blocks := collect(t, s, "public.conc", workers, per)
	seen := make(map[int64]bool)
	for _, b := range blocks {
		if b.Count < 1 || b.Count > 17 || b.Increment != dir*3 {
			t.Fatalf("bad block %+v", b)
		}
		for i := range b.Count {
			v := b.Value(i)
			if seen[v] {
				t.Fatalf("value %d handed out twice", v)
			}
			seen[v] = true
		}
	}
	if got := get(t, s, "public.conc"); got.Next != int64(dir*3)*int64(len(seen))+dir {
		t.Fatalf("store at %d after %d values, want %d", got.Next, len(seen), dir*3*int64(len(seen))+dir)
	}
}

// testConcurrentExhaust has goroutines race for every value of a bounded
// sequence: each value is handed out exactly once, then everyone gets 2200H.
func testConcurrentExhaust(t *testing.T, s seqcache.Store) {
	const max = 600
	define(t, s, "public.ex", seqcache.MaxValue(max))
	blocks := collect(t, s, "public.ex", 8, 1<<30)
	var vals []int64
	for _, b := range blocks {
		for i := range b.Count {
			vals = append(vals, b.Value(i))
		}
	}
	slices.Sort(vals)
	if len(vals) != max || vals[0] != 1 || vals[max-1] != max || len(slices.Compact(vals)) != max {
		t.Fatalf("got %d values (%v..%v), want 1..%d exactly once", len(vals), vals[0], vals[len(vals)-1], max)
	}
}

// collect runs workers goroutines that reserve up to per blocks of sizes
// 1..17 each, stopping at 2200H, and returns every block.
func collect(t *testing.T, s seqcache.Store, name string, workers, per int) []seqcache.Block {
	ctx := context.Background()
	var (
		mu     sync.Mutex
		blocks []seqcache.Block
		wg     sync.WaitGroup
		errs   = make(chan error, workers)
	)
	for w := range workers {
		wg.Go(func() {
			for i := range per {
				b, err := s.Reserve(ctx, name, int64((w*per+i)%17+1))
				if errors.Is(err, seqcache.ErrLimitReached) {
					return
				}
				if err != nil {
					errs <- fmt.Errorf("worker %d: %w", w, err)
					return
				}
				mu.Lock()
				blocks = append(blocks, b)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return blocks
}
