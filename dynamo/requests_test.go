package dynamo_test

import (
	"errors"
	"testing"

	"github.com/seqshim/seqshim/seqcache"
)

// TestRequestsPerReservation counts DynamoDB requests with an SDK
// middleware: a reservation far from the limits is one UpdateItem.
func TestRequestsPerReservation(t *testing.T) {
	cnt := newCounter()
	s := newStore(t, cnt.option())
	ctx := t.Context()

	expect := func(what string, want map[string]int) {
		t.Helper()
		got, _ := cnt.take()
		if len(got) != len(want) {
			t.Fatalf("%s: requests %v, want %v", what, got, want)
		}
		for op, n := range want {
			if got[op] != n {
				t.Fatalf("%s: requests %v, want %v", what, got, want)
			}
		}
	}

	mustDefine(t, s, "public.s")
	expect("Create", map[string]int{"PutItem": 1})
	const n = 200
	for range n {
		mustReserve(t, s, "public.s", 1000)
	}
	expect("reservations far from the limit", map[string]int{"UpdateItem": n})

	// Another process learns the definition with its first reservation.
	cnt2 := newCounter()
	other := openStore(t, s.Namespace(), cnt2.option())
	mustReserve(t, other, "public.s", 1000)
	mustReserve(t, other, "public.s", 1000)
	if got, total := cnt2.take(); total != 3 || got["GetItem"] != 1 {
		t.Fatalf("a new store's first two reservations: %v, want GetItem + 2 UpdateItem", got)
	}

	// Near the limit: the failed condition returns the item, then a
	// compare-and-set truncates.
	mustDefine(t, s, "public.b", seqcache.MaxValue(1500))
	cnt.take()
	mustReserve(t, s, "public.b", 1000)
	if b := mustReserve(t, s, "public.b", 1000); b.Count != 500 {
		t.Fatalf("truncated block %+v", b)
	}
	expect("fast block then truncated block", map[string]int{"UpdateItem": 3})
	if _, err := s.Reserve(ctx, "public.b", 1); !errors.Is(err, seqcache.ErrLimitReached) {
		t.Fatalf("Reserve = %v, want 2200H", err)
	}
	expect("2200H", map[string]int{"UpdateItem": 1})

	mustDefine(t, s, "public.c", seqcache.MaxValue(1000), seqcache.Cycle())
	mustReserve(t, s, "public.c", 1000)
	cnt.take()
	if b := mustReserve(t, s, "public.c", 10); b.First != 1 {
		t.Fatalf("wrapped block %+v", b)
	}
	expect("cycle wrap", map[string]int{"UpdateItem": 2})

	b := mustReserve(t, s, "public.s", 1000)
	cnt.take()
	if ok, err := s.GiveBack(ctx, "public.s", b.Tail(400)); !ok || err != nil {
		t.Fatalf("GiveBack = %v, %v", ok, err)
	}
	expect("GiveBack", map[string]int{"UpdateItem": 1})
	t.Logf("requests per reservation far from the limits: 1 (%d reservations, %d UpdateItem)", n, n)
}
