package integration

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/seqshim/seqshim/driver"
	"github.com/seqshim/seqshim/dynamo"
	"github.com/seqshim/seqshim/internal/faultproxy"
	"github.com/seqshim/seqshim/internal/testenv"
	"github.com/seqshim/seqshim/seqcache"
)

// faultCover is the outage cover of the fault tests: short in CI; run
// with -fault.cover=60s for the default's full length.
var faultCover = flag.Duration("fault.cover", 3*time.Second, "outage cover of the fault tests")

// faultRig is a sequence served by a seqcache.Cache over a dynamo.Store
// that reaches the emulator through a fault proxy, and a direct store to
// check the sequence.
type faultRig struct {
	proxy  *faultproxy.Proxy
	direct *dynamo.Store
	cache  *seqcache.Cache
	spec   seqcache.Spec
}

func newFaultRig(t *testing.T) *faultRig {
	t.Helper()
	p := testenv.DynamoProxy(t)
	cfg := testenv.AWSConfig(t)
	ns := testenv.UniqueName("fault")
	direct, err := dynamo.New(cfg, dynamo.Options{Table: table, Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	if err := direct.EnsureTable(t.Context()); err != nil {
		t.Fatal(err)
	}
	viaProxy, err := dynamo.New(cfg, dynamo.Options{Table: table, Namespace: ns,
		ClientOptions: []func(*dynamodb.Options){func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(p.URL()) }}})
	if err != nil {
		t.Fatal(err)
	}
	spec, err := seqcache.Define("public.s", seqcache.MaxValue(1_000_000_000_000))
	if err != nil {
		t.Fatal(err)
	}
	if err := direct.Create(t.Context(), spec); err != nil {
		t.Fatal(err)
	}
	c := seqcache.NewCache(viaProxy, seqcache.Config{OutageCover: *faultCover, Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c.Close(ctx)
	})
	return &faultRig{proxy: p, direct: direct, cache: c, spec: spec}
}

// load is what a paced caller saw.
type load struct {
	vals    []int64
	errs    []error
	slowest time.Duration
}

// run calls Next about rate times a second for d, each call with its own
// deadline, and records what it got.
func (r *faultRig) run(d time.Duration, rate int, deadline time.Duration) load {
	var l load
	pause := time.Second / time.Duration(rate)
	next := time.Now()
	for end := next.Add(d); time.Now().Before(end); {
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		start := time.Now()
		v, err := r.cache.Next(ctx, r.spec.Name)
		cancel()
		l.slowest = max(l.slowest, time.Since(start))
		if err != nil {
			l.errs = append(l.errs, err)
		} else {
			l.vals = append(l.vals, v)
		}
		next = next.Add(pause)
		time.Sleep(time.Until(next))
	}
	return l
}

// warm runs the load until the outage cover lasts the configured time.
func (r *faultRig) warm(t *testing.T) load {
	t.Helper()
	var all load
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		l := r.run(500*time.Millisecond, 1000, time.Second)
		all = merge(all, l)
		if len(l.errs) > 0 {
			t.Fatalf("warming up: %v", l.errs[0])
		}
		if rw := r.runway(t); rw.CoverTime >= *faultCover*9/10 {
			return all
		}
	}
	t.Fatalf("the outage cover never reached %v: %+v", *faultCover, r.runway(t))
	return all
}

func (r *faultRig) runway(t *testing.T) seqcache.SequenceStats {
	t.Helper()
	for _, s := range r.cache.Sequences() {
		if s.Name == r.spec.Name {
			return s
		}
	}
	t.Fatal("no runway")
	return seqcache.SequenceStats{}
}

func merge(ls ...load) load {
	var all load
	for _, l := range ls {
		all.vals = append(all.vals, l.vals...)
		all.errs = append(all.errs, l.errs...)
		all.slowest = max(all.slowest, l.slowest)
	}
	return all
}

// recover ends the fault and measures how long until the cache reserves
// from the store again, under load.
func (r *faultRig) recover(t *testing.T) (load, time.Duration) {
	t.Helper()
	before := r.cache.Stats().Reservations
	r.proxy.Set(faultproxy.Fault{})
	start := time.Now()
	var all load
	for time.Since(start) < 10*time.Second {
		all = merge(all, r.run(10*time.Millisecond, 1000, time.Second))
		if r.cache.Stats().Reservations > before && r.runway(t).Unreachable == 0 {
			return all, time.Since(start)
		}
	}
	t.Fatalf("no recovery within 10s of the fault ending: %+v", r.runway(t))
	return all, 0
}

// check verifies every value against the sequence: inside its limits, and
// handed out once.
func (r *faultRig) check(t *testing.T, l load) {
	t.Helper()
	vals := slices.Clone(l.vals)
	slices.Sort(vals)
	if len(vals) > 0 && (!r.spec.InRange(vals[0]) || !r.spec.InRange(vals[len(vals)-1])) {
		t.Fatalf("values %d..%d outside the sequence's limits", vals[0], vals[len(vals)-1])
	}
	if n := len(slices.Compact(vals)); n != len(l.vals) {
		t.Fatalf("%d distinct values of %d: duplicates", n, len(l.vals))
	}
	sq, err := r.direct.Get(t.Context(), r.spec.Name)
	if err != nil {
		t.Fatal(err)
	}
	if len(vals) > 0 && vals[len(vals)-1] >= sq.Next {
		t.Fatalf("value %d handed out, the store is only at %d", vals[len(vals)-1], sq.Next)
	}
}

// TestFaults runs a paced load of 1,000 Next calls a second through each
// fault for less than the outage cover: no caller error, no wait, no
// duplicate, and the cache back on the store soon after the fault ends.
func TestFaults(t *testing.T) {
	faults := []struct {
		name  string
		fault faultproxy.Fault
	}{
		{"latency 100ms", faultproxy.Fault{Latency: 100 * time.Millisecond}},
		{"latency 1s", faultproxy.Fault{Latency: time.Second}},
		{"resets", faultproxy.Fault{Reset: true}},
		{"blackhole", faultproxy.Fault{Blackhole: true}},
		{"throughput exceeded", faultproxy.Fault{Throttle: faultproxy.ProvisionedThroughputExceeded}},
		{"throttling", faultproxy.Fault{Throttle: faultproxy.Throttling}},
		{"lost replies", faultproxy.Fault{LoseRate: 0.5}},
	}
	for _, tc := range faults {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newFaultRig(t)
			warm := r.warm(t)
			waits := r.cache.Stats().Waits
			t.Logf("before the fault: %+v", r.runway(t))
			r.proxy.Set(tc.fault)
			during := r.run(*faultCover*2/3, 1000, 100*time.Millisecond)
			after, took := r.recover(t)
			tail := r.run(200*time.Millisecond, 1000, time.Second)
			st := r.cache.Stats()
			t.Logf("%s: %d values, slowest call %v, recovery %v, %d waits, store errors %+v",
				tc.name, len(during.vals), during.slowest, took, st.Waits-waits, st.StoreErrors)
			if len(during.errs) > 0 {
				t.Fatalf("%d caller errors during the fault, first: %v", len(during.errs), during.errs[0])
			}
			if st.Waits != waits {
				t.Errorf("%d callers waited for the store after the first block", st.Waits-waits)
			}
			if took > 3*time.Second {
				t.Errorf("recovery took %v after the fault ended", took)
			}
			r.check(t, merge(warm, during, after, tail))
		})
	}
}

// TestBlackholeLongerThanCover: once the cover is spent, callers get
// 08006 when their context ends, saying how long the store has been
// unreachable; the cache serves again soon after the store answers.
func TestBlackholeLongerThanCover(t *testing.T) {
	r := newFaultRig(t)
	warm := r.warm(t)
	rw := r.runway(t)
	// What the cache holds lasts (blocks and cover) at the rate: past that
	// and the first failed attempt, callers must fail.
	lasts := time.Duration(float64(rw.Held+rw.Cover) / rw.Rate * float64(time.Second))
	r.proxy.Set(faultproxy.Fault{Blackhole: true})
	start := time.Now()
	during := r.run(lasts+2*time.Second, 1000, 100*time.Millisecond)
	if len(during.errs) == 0 {
		t.Fatalf("no error through a blackhole of %v with a cover of %v", time.Since(start), *faultCover)
	}
	err := during.errs[len(during.errs)-1]
	if !errors.Is(err, seqcache.ErrUnavailable) || !strings.Contains(err.Error(), "unreachable for") {
		t.Fatalf("error once the cover is spent: %v; want 08006 saying for how long", err)
	}
	served := len(during.vals)
	t.Logf("served %d values (%.1fs at 1000/s) through the blackhole, then: %v", served, float64(served)/1000, err)
	if min := int(0.9 * 1000 * faultCover.Seconds()); served < min {
		t.Errorf("served %d values through the blackhole, want at least %d (the cover)", served, min)
	}
	after, took := r.recover(t)
	t.Logf("recovery %v", took)
	if took > 3*time.Second {
		t.Errorf("recovery took %v", took)
	}
	r.check(t, merge(warm, during, after))
}

// TestNextvalThroughBlackhole: one process calling SELECT nextval 1,000
// times a second through seqshim serves through a blackhole as long as
// its outage cover without a single error.
func TestNextvalThroughBlackhole(t *testing.T) {
	p := testenv.DynamoProxy(t)
	e := newEnv(t)
	e.sequence("bh_seq")
	// The driver shares one cache per store and configuration in a process:
	// release the env's, opened on the direct endpoint, so that the cache
	// opened below reaches the store through the proxy.
	e.shim.Close()
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", p.URL())
	db := open(t, "seqshim", e.shimDSN("seqshim.outage_cover="+faultCover.String()))
	nextval := func(d time.Duration) (vals []int64, errs []error) {
		next := time.Now()
		for end := next.Add(d); time.Now().Before(end); {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			var v int64
			err := db.QueryRowContext(ctx, "SELECT nextval('bh_seq')").Scan(&v)
			cancel()
			if err != nil {
				errs = append(errs, err)
			} else {
				vals = append(vals, v)
			}
			next = next.Add(time.Millisecond)
			time.Sleep(time.Until(next))
		}
		return vals, errs
	}
	c, err := driver.CacheOf(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	var all []int64
	for deadline := time.Now().Add(30 * time.Second); ; {
		vals, errs := nextval(500 * time.Millisecond)
		if len(errs) > 0 {
			t.Fatal(errs[0])
		}
		all = append(all, vals...)
		if rw := c.Sequences(); len(rw) == 1 && rw[0].CoverTime >= *faultCover {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the cover never reached %v: %+v", *faultCover, c.Sequences())
		}
	}
	// As long as the cover, after what the blocks held: the cover is used
	// whole.
	rw := c.Sequences()[0]
	d := *faultCover + time.Duration(float64(rw.Held)/rw.Rate*float64(time.Second))
	p.Set(faultproxy.Fault{Blackhole: true})
	vals, errs := nextval(d)
	p.Set(faultproxy.Fault{})
	after := c.Sequences()[0]
	t.Logf("%d nextval through a blackhole of %v (cover %v after %d values held); runway after %+v", len(vals), d, *faultCover, rw.Held, after)
	if len(errs) > 0 {
		t.Fatalf("%d errors through a blackhole as long as the cover, first: %v", len(errs), errs[0])
	}
	if after.Cover > rw.Cover/2 {
		t.Fatalf("the cover was not used: %d values left of %d", after.Cover, rw.Cover)
	}
	all = append(all, vals...)
	slices.Sort(all)
	if n := len(slices.Compact(all)); n != len(all) {
		t.Fatalf("duplicates: %d distinct of %d", n, len(all))
	}
}
