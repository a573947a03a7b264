package dynamo_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/seqshim/seqshim/dynamo"
	"github.com/seqshim/seqshim/seqcache"
)

// TestLostResponseMakesGap loses the response of a reservation that
// DynamoDB applied: the SDK retries, the retry is a new increment, and the
// first block becomes a gap. Nothing is handed out twice.
func TestLostResponseMakesGap(t *testing.T) {
	direct := newStore(t)
	p := startProxy(t)
	cnt := newCounter()
	viaProxy := openStore(t, direct.Namespace(), p.option(), cnt.option())
	mustDefine(t, direct, "public.s")
	if b := mustReserve(t, viaProxy, "public.s", 10); b.First != 1 {
		t.Fatalf("first block %+v", b)
	}
	cnt.take()

	p.dropNext()
	b := mustReserve(t, viaProxy, "public.s", 10)
	if want := (seqcache.Block{First: 21, Count: 10, Increment: 1}); b != want {
		t.Fatalf("block after a lost response = %+v, want %+v (11..20 a gap)", b, want)
	}
	if attempts, _ := cnt.take(); attempts["UpdateItem"] != 2 || p.dropped() != 1 {
		t.Fatalf("attempts %v, dropped %d; want 2 UpdateItem and 1 drop", attempts, p.dropped())
	}
	if b := mustReserve(t, direct, "public.s", 10); b.First != 31 {
		t.Fatalf("next block elsewhere = %+v, want 31..40", b)
	}
}

// TestLostResponseCAS loses the response of the compare-and-set near the
// limit: the retry fails its condition, the store reads the sequence again
// and finds it exhausted. The values are a gap; nobody gets them.
func TestLostResponseCAS(t *testing.T) {
	direct := newStore(t)
	p := startProxy(t)
	viaProxy := openStore(t, direct.Namespace(), p.option())
	mustDefine(t, direct, "public.b", seqcache.MaxValue(100))
	mustReserve(t, viaProxy, "public.b", 94) // 1..94, definition known

	p.dropNth(2) // 1: the fast path's failed condition; 2: the compare-and-set
	_, err := viaProxy.Reserve(t.Context(), "public.b", 10)
	if !errors.Is(err, seqcache.ErrLimitReached) {
		t.Fatalf("Reserve with a lost CAS response = %v, want 2200H (95..100 a gap)", err)
	}
	if p.dropped() != 1 {
		t.Fatalf("dropped %d responses, want 1", p.dropped())
	}
	if sq, _ := direct.Get(t.Context(), "public.b"); !sq.Exhausted {
		t.Fatalf("sequence %+v, want exhausted", sq)
	}
}

// TestLostResponsesConcurrent reserves from two stores through a proxy that
// loses 10% of responses and two direct stores: gaps, never a duplicate.
func TestLostResponsesConcurrent(t *testing.T) {
	direct := newStore(t)
	p := startProxy(t)
	p.setRate(0.1)
	cnt := newCounter()
	// The SDK's client-side retry quota would, rightly, give up on an
	// endpoint losing 10% of responses, and three attempts lose all three
	// responses once in a thousand: lift both to keep the stores going.
	noQuota := func(o *dynamo.Options) {
		o.ClientOptions = append(o.ClientOptions, func(do *dynamodb.Options) {
			do.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
				so.RateLimiter, so.MaxAttempts = ratelimit.None, 10
			})
		})
	}
	stores := []seqcache.Store{
		direct,
		openIndependent(t, direct.Namespace()),
		openIndependent(t, direct.Namespace(), p.option(), cnt.option(), noQuota),
		openIndependent(t, direct.Namespace(), p.option(), cnt.option(), noQuota),
	}
	mustDefine(t, direct, "public.s", seqcache.Increment(7))
	blocks := hammer(t, stores, 4, "public.s", 1500*time.Millisecond, 50)
	sq, err := direct.Get(t.Context(), "public.s")
	if err != nil {
		t.Fatal(err)
	}
	r := check(t, blocks, sq.Spec, 1)
	gap := (sq.Next-1)/7 - r.values
	attempts, total := cnt.take()
	t.Logf("%d blocks, %d values, %d responses dropped, %d values lost in gaps, proxy attempts %v",
		len(blocks), r.values, p.dropped(), gap, attempts)
	if p.dropped() == 0 || total == 0 {
		t.Fatal("the proxy lost no response")
	}
	if gap <= 0 {
		t.Fatalf("no gap after %d lost responses", p.dropped())
	}
}

// TestWritesBackNotRetried checks that setval and give-back, which move
// next backwards, are sent once: a lost response is an error, not a retry
// that could apply twice.
func TestWritesBackNotRetried(t *testing.T) {
	direct := newStore(t)
	p := startProxy(t)
	cnt := newCounter()
	viaProxy := openStore(t, direct.Namespace(), p.option(), cnt.option())
	mustDefine(t, direct, "public.s")
	mustReserve(t, viaProxy, "public.s", 10)
	cnt.take()

	p.dropNth(2) // GetItem, then the UpdateItem
	err := viaProxy.SetValue(t.Context(), "public.s", 500, true)
	if !errors.Is(err, seqcache.ErrUnavailable) {
		t.Fatalf("SetValue with a lost response = %v, want 08006", err)
	}
	if attempts, _ := cnt.take(); attempts["UpdateItem"] != 1 {
		t.Fatalf("SetValue attempts %v, want one UpdateItem", attempts)
	}
	if sq, _ := direct.Get(t.Context(), "public.s"); sq.Next != 501 {
		t.Fatalf("setval applied? next = %d, want 501", sq.Next)
	}

	b := mustReserve(t, viaProxy, "public.s", 10) // 501..510
	cnt.take()
	p.dropNext()
	ok, err := viaProxy.GiveBack(t.Context(), "public.s", b.Tail(5))
	if ok || !errors.Is(err, seqcache.ErrUnavailable) {
		t.Fatalf("GiveBack with a lost response = %v, %v; want false, 08006", ok, err)
	}
	if attempts, _ := cnt.take(); attempts["UpdateItem"] != 1 {
		t.Fatalf("GiveBack attempts %v, want one UpdateItem", attempts)
	}
}

// hammer runs perStore goroutines on each store, reserving blocks of 1..maxN
// values for d (or until 2200H), and returns every block. The deadline is
// checked between reservations, never inside one: a reservation canceled
// in flight may have been applied, which would be a gap.
func hammer(t *testing.T, stores []seqcache.Store, perStore int, name string, d time.Duration, maxN int64) []seqcache.Block {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(d)
	var (
		mu     sync.Mutex
		blocks []seqcache.Block
		wg     sync.WaitGroup
		errs   = make(chan error, len(stores)*perStore)
	)
	for si, s := range stores {
		for g := range perStore {
			wg.Go(func() {
				for i := int64(si*perStore + g); time.Now().Before(deadline); i++ {
					n := i*7919%maxN + 1
					b, err := s.Reserve(ctx, name, n)
					if errors.Is(err, seqcache.ErrLimitReached) {
						return
					}
					if err != nil {
						errs <- err
						return
					}
					if b.Count < 1 || b.Count > n {
						errs <- errors.New("block size outside 1..n")
					}
					mu.Lock()
					blocks = append(blocks, b)
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return blocks
}

type checked struct {
	values int64           // values handed out
	count  map[int64]int64 // times each value was handed out
}

// check verifies every block against the spec (increment, inside the
// limits, never crossing one) and that no value is handed out more than
// maxRepeat times; it returns the values seen.
func check(t *testing.T, blocks []seqcache.Block, spec seqcache.Spec, maxRepeat int64) checked {
	t.Helper()
	r := checked{count: make(map[int64]int64)}
	for _, b := range blocks {
		if b.Increment != spec.Increment || !spec.InRange(b.First) || !spec.InRange(b.Last()) {
			t.Fatalf("block %+v outside %d..%d or wrong increment", b, spec.MinValue, spec.MaxValue)
		}
		for i := range b.Count {
			v := b.Value(i)
			r.count[v]++
			if r.count[v] > maxRepeat {
				t.Fatalf("value %d handed out %d times", v, r.count[v])
			}
			r.values++
		}
	}
	return r
}
