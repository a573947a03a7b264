package dynamo_test

import (
	"math"
	"testing"
	"time"

	"github.com/seqshim/seqshim/dynamo"
	"github.com/seqshim/seqshim/internal/testenv"
	"github.com/seqshim/seqshim/seqcache"
)

const (
	stressStores     = 4 // independent Store instances, each its own SDK client
	stressGoroutines = 8 // per store
	stressDuration   = 3 * time.Second
	stressMaxBlock   = 100
)

// stressStoreSet returns independent stores (each its own configuration,
// SDK client and HTTP connections) on one namespace, the first also as a
// *dynamo.Store.
func stressStoreSet(t *testing.T) (*dynamo.Store, []seqcache.Store) {
	first := openIndependent(t, testenv.UniqueName("t"))
	stores := []seqcache.Store{first}
	for range stressStores - 1 {
		stores = append(stores, openIndependent(t, first.Namespace()))
	}
	return first, stores
}

// TestConcurrentAscending: 4 stores x 8 goroutines reserve blocks of mixed
// sizes on one sequence ending on MaxInt64, which they usually exhaust:
// no value twice, every block inside the limits, and no gap.
func TestConcurrentAscending(t *testing.T) {
	stressBounded(t, seqcache.Start(math.MaxInt64-60_000*3), seqcache.Increment(3))
}

// TestConcurrentDescending is the same going down to MinInt64.
func TestConcurrentDescending(t *testing.T) {
	stressBounded(t, seqcache.Increment(-2), seqcache.Start(math.MinInt64+60_000*2))
}

func stressBounded(t *testing.T, opts ...seqcache.Option) {
	first, stores := stressStoreSet(t)
	spec := mustDefine(t, first, "public.s", opts...)
	blocks := hammer(t, stores, stressGoroutines, "public.s", stressDuration, stressMaxBlock)
	r := check(t, blocks, spec, 1)
	sq, err := first.Get(t.Context(), "public.s")
	if err != nil {
		t.Fatal(err)
	}
	// No gap: the values handed out are exactly start, start+inc, ... up
	// to the store's position.
	want := spec.Remaining(spec.Start)
	if !sq.Exhausted {
		want -= spec.Remaining(sq.Next)
	}
	if r.values != want {
		t.Fatalf("%d values handed out, store accounts for %d", r.values, want)
	}
	t.Logf("%d blocks, %d values, exhausted %v", len(blocks), r.values, sq.Exhausted)
}

// TestConcurrentCycle: the same on a small cycling sequence that wraps many
// times. Within one lap no value repeats; with no gap, every value has been
// handed out L or L+1 times after L full laps, the L+1 ones being exactly
// those before the store's position.
func TestConcurrentCycle(t *testing.T) {
	first, stores := stressStoreSet(t)
	spec := mustDefine(t, first, "public.c", seqcache.MinValue(-500), seqcache.MaxValue(999),
		seqcache.Start(0), seqcache.Increment(1), seqcache.Cycle())
	blocks := hammer(t, stores, stressGoroutines, "public.c", stressDuration, stressMaxBlock)
	r := check(t, blocks, spec, math.MaxInt64)
	sq, err := first.Get(t.Context(), "public.c")
	if err != nil {
		t.Fatal(err)
	}
	laps := r.count[spec.MaxValue]
	if laps < 2 {
		t.Fatalf("only %d laps: the test did not wrap enough", laps)
	}
	for v := spec.MinValue; v <= spec.MaxValue; v++ {
		want := laps
		if v < spec.Start {
			want-- // the first lap started at 0
		}
		if !sq.Exhausted && v < sq.Next {
			want++
		}
		if r.count[v] != want {
			t.Fatalf("value %d handed out %d times, want %d (laps %d, store at %+v)", v, r.count[v], want, laps, sq)
		}
	}
	t.Logf("%d blocks, %d values, %d full laps of %d values", len(blocks), r.values, laps, spec.Remaining(spec.MinValue))
}
