package dynamo

import (
	"math"
	"testing"

	"github.com/seqshim/seqshim/seqcache"
)

func TestFastBounds(t *testing.T) {
	asc, _ := seqcache.Define("a", seqcache.MaxValue(100), seqcache.Increment(3))
	desc, _ := seqcache.Define("d", seqcache.Increment(-2), seqcache.MinValue(-50))
	top, _ := seqcache.Define("t")
	bottom, _ := seqcache.Define("b", seqcache.Increment(-1))
	for _, c := range []struct {
		spec         seqcache.Spec
		n            int64
		delta, bound int64
		ok           bool
	}{
		{asc, 1, 3, 100, true},
		{asc, 10, 30, 73, true},   // 73 + 9*3 = 100
		{asc, 40, 0, 0, false},    // 40 values of step 3 never fit in 1..100
		{desc, 5, -10, -42, true}, // -42 - 4*2 = -50
		{top, 1000, 1000, math.MaxInt64 - 999, true},
		{top, math.MaxInt64, math.MaxInt64, 1, true}, // 1..MaxInt64, exactly
		{asc, math.MaxInt64, 0, 0, false},            // n*increment overflows
		{bottom, 1000, -1000, math.MinInt64 + 999, true},
		{bottom, math.MaxInt64, -math.MaxInt64, -2, true},
	} {
		delta, bound, ok := fastBounds(c.spec, c.n)
		if ok != c.ok || (ok && (delta != c.delta || bound != c.bound)) {
			t.Errorf("fastBounds(%s, %d) = %d, %d, %v; want %d, %d, %v", c.spec.Name, c.n, delta, bound, ok, c.delta, c.bound, c.ok)
		}
	}
}

func TestParseNum(t *testing.T) {
	for _, c := range []struct {
		in string
		v  int64
		ok bool
	}{
		{"42", 42, true},
		{"-9223372036854775808", math.MinInt64, true},
		{"9223372036854775808", 0, false}, // 2^63: an exhausted next
		{"-9223372036854775809", 0, false},
		{"1E+3", 1000, true},
		{"1.5", 0, false},
		{"", 0, false},
	} {
		if v, ok := parseNum(c.in); v != c.v || ok != c.ok {
			t.Errorf("parseNum(%q) = %d, %v; want %d, %v", c.in, v, ok, c.v, c.ok)
		}
	}
	if got := sum(math.MaxInt64, 1); got != "9223372036854775808" {
		t.Errorf("sum = %s", got)
	}
}

func TestNames(t *testing.T) {
	got := names("SET #next = #next + :delta", "#cid = :cid AND #name <> :x")
	want := map[string]string{"#next": "next", "#cid": "cid", "#name": "name"}
	if len(got) != len(want) {
		t.Fatalf("names = %v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("names = %v, want %v", got, want)
		}
	}
}

func TestPlan(t *testing.T) {
	spec, _ := seqcache.Define("c", seqcache.MaxValue(10), seqcache.Cycle())
	b, next, err := plan(state{Sequence: seqcache.Sequence{Spec: spec, Next: 8}}, 5)
	if err != nil || b != (seqcache.Block{First: 8, Count: 3, Increment: 1}) || next != "11" {
		t.Fatalf("plan near the limit = %+v, %s, %v", b, next, err)
	}
	b, next, err = plan(state{Sequence: seqcache.Sequence{Spec: spec, Exhausted: true}}, 5)
	if err != nil || b != (seqcache.Block{First: 1, Count: 5, Increment: 1, Epoch: 1}) || next != "6" {
		t.Fatalf("plan wrapping = %+v, %s, %v", b, next, err)
	}
	spec.Cycle = false
	if _, _, err := plan(state{Sequence: seqcache.Sequence{Spec: spec, Exhausted: true}}, 5); err == nil {
		t.Fatal("plan on an exhausted sequence without cycle succeeded")
	}
}
