package migrate

import (
	"context"
	"errors"
	"math"
	"path"
	"strings"
	"testing"

	"github.com/seqshim/seqshim/seqcache"
)

func asc(last int64, called bool) Native {
	return Native{Schema: "public", Name: "s", DataType: "bigint", Start: 1, Increment: 1,
		MinValue: 1, MaxValue: math.MaxInt64, Cache: 1, LastValue: last, Called: called}
}

func TestPlanCreate(t *testing.T) {
	desc := Native{Schema: "app", Name: "Down", DataType: "bigint", Start: -1, Increment: -2,
		MinValue: math.MinInt64, MaxValue: -1, Cache: 20, LastValue: -11, Called: true}
	cyc := asc(7, true)
	cyc.Cycle, cyc.MaxValue = true, 1000
	setBack := asc(5, true)
	setBack.Start = 100
	tests := []struct {
		name       string
		n          Native
		gap        int64
		start, cap int64
		sql        string
	}{
		{"ascending", asc(42, true), 100, 142, 141, `ALTER SEQUENCE "public"."s" MAXVALUE 141`},
		{"never called", asc(1, false), 100, 101, 100, `ALTER SEQUENCE "public"."s" MAXVALUE 100`},
		{"setval false", asc(50, false), 10, 60, 59, `ALTER SEQUENCE "public"."s" MAXVALUE 59`},
		{"descending", desc, 5, -21, -19, `ALTER SEQUENCE "app"."Down" MINVALUE -19`},
		{"cycle", cyc, 10, 17, 16, `ALTER SEQUENCE "public"."s" MAXVALUE 16 NO CYCLE`},
		{"start beyond cap", setBack, 10, 15, 14, `ALTER SEQUENCE "public"."s" MAXVALUE 14 START WITH 14`},
		{"gap 1 stops native", asc(42, true), 1, 43, 42, `ALTER SEQUENCE "public"."s" MAXVALUE 42`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := planImport(tt.n, nil, tt.gap)
			if st.Err != nil || st.Action != ActionCreate {
				t.Fatalf("action %s, err %v", st.Action, st.Err)
			}
			if st.Spec.Start != tt.start || st.Cap != tt.cap || st.StoreNext != tt.start {
				t.Errorf("start %d cap %d next %d, want %d %d", st.Spec.Start, st.Cap, st.StoreNext, tt.start, tt.cap)
			}
			want := seqcache.Spec{Name: tt.n.Key(), Start: tt.start, Increment: tt.n.Increment, MinValue: tt.n.MinValue,
				MaxValue: tt.n.MaxValue, Cycle: tt.n.Cycle, Cache: tt.n.Cache}
			if st.Spec != want {
				t.Errorf("spec %+v, want %+v", st.Spec, want)
			}
			if len(st.SQL) != 1 || st.SQL[0] != tt.sql {
				t.Errorf("SQL %q, want %q", st.SQL, tt.sql)
			}
		})
	}
}

func TestPlanCreateLimits(t *testing.T) {
	int4 := asc(2147483600, true)
	int4.DataType, int4.MaxValue = "integer", math.MaxInt32
	st := planImport(int4, nil, 100)
	if st.Action != ActionFail || !strings.Contains(st.Err.Error(), "leaves 47 value(s) before its MAXVALUE 2147483647, fewer than the gap 100") ||
		!strings.Contains(st.Err.Error(), "--gap 47 or less") {
		t.Errorf("near the limit: %s %v", st.Action, st.Err)
	}
	big := asc(math.MaxInt64-5, true)
	if st := planImport(big, nil, 10); st.Action != ActionFail || !strings.Contains(st.Err.Error(), "leaves 5 value(s)") {
		t.Errorf("overflow: %s %v", st.Action, st.Err)
	}
	if st := planImport(asc(1, true), nil, 1); st.Action != ActionFail || !strings.Contains(st.Err.Error(), "use --gap 2 or more") {
		t.Errorf("cap at MINVALUE: %s %v", st.Action, st.Err)
	}
}

func TestPlanExisting(t *testing.T) {
	store := func(start, next int64) *seqcache.Sequence {
		spec, _ := seqcache.Define("public.s", seqcache.Start(start))
		return &seqcache.Sequence{Spec: spec, Next: next}
	}
	capped := asc(100, true)
	capped.MaxValue = 141
	stopped := asc(200, true)
	stopped.MaxValue = 200
	tests := []struct {
		name      string
		n         Native
		e         *seqcache.Sequence
		action    Action
		cap, next int64
		sql       string
		warn      bool
	}{
		{"done", capped, store(142, 500), ActionDone, 141, 500, "", false},
		{"capped lower than needed is done", capped, store(1000, 1000), ActionDone, 141, 1000, "", false},
		{"cap below the store", asc(42, true), store(142, 142), ActionCap, 141, 142, `ALTER SEQUENCE "public"."s" MAXVALUE 141`, false},
		{"cap below a store set back", asc(42, true), store(142, 100), ActionCap, 99, 100, `ALTER SEQUENCE "public"."s" MAXVALUE 99`, false},
		{"stop, store used", asc(200, true), store(142, 300), ActionStop, 200, 300, `ALTER SEQUENCE "public"."s" MAXVALUE 200`, true},
		{"stop, store unused: moved", asc(200, true), store(142, 142), ActionStop, 200, 300, `ALTER SEQUENCE "public"."s" MAXVALUE 200`, false},
		{"stopped is done", stopped, store(142, 300), ActionDone, 200, 300, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := planImport(tt.n, tt.e, 100)
			if st.Err != nil || st.Action != tt.action {
				t.Fatalf("action %s (%v), want %s", st.Action, st.Err, tt.action)
			}
			if st.Cap != tt.cap || st.StoreNext != tt.next {
				t.Errorf("cap %d next %d, want %d %d", st.Cap, st.StoreNext, tt.cap, tt.next)
			}
			if got := strings.Join(st.SQL, ";"); got != tt.sql {
				t.Errorf("SQL %q, want %q", got, tt.sql)
			}
			if (st.Warning != "") != tt.warn {
				t.Errorf("warning %q", st.Warning)
			}
		})
	}
	e := store(142, 142)
	e.Increment = 2
	if st := planImport(asc(42, true), e, 100); st.Action != ActionFail || !strings.Contains(st.Err.Error(), "store has it with INCREMENT 2, the database with 1") {
		t.Errorf("increment mismatch: %s %v", st.Action, st.Err)
	}
}

func TestPlanExport(t *testing.T) {
	spec, _ := seqcache.Define("public.s", seqcache.Start(142))
	e := seqcache.Sequence{Spec: spec, Next: 500}
	capped := asc(141, true)
	capped.MaxValue = 141
	st := planExport(capped, e, 100)
	want := []string{
		`ALTER SEQUENCE "public"."s" MINVALUE 1 MAXVALUE 9223372036854775807 NO CYCLE START WITH 600`,
		`SELECT setval('"public"."s"', 599, true)`,
	}
	if st.Action != ActionRestore || strings.Join(st.SQL, ";") != strings.Join(want, ";") || st.NativeNext != 600 || *st.setval != 599 {
		t.Errorf("export: %s %q next %d", st.Action, st.SQL, st.NativeNext)
	}
	// Second run: nothing to do.
	exported := asc(599, true)
	exported.Start = 600
	if st := planExport(exported, e, 100); st.Action != ActionDone || st.NativeNext != 600 {
		t.Errorf("second export: %s %q %d", st.Action, st.SQL, st.NativeNext)
	}
	// Never backwards.
	if st := planExport(asc(10000, true), e, 100); st.Action != ActionDone || st.NativeNext != 10001 {
		t.Errorf("ahead: %s %q", st.Action, st.SQL)
	}
	// Store near its limit: the database is left exhausted at the limit.
	small, _ := seqcache.Define("public.s", seqcache.MaxValue(550))
	st = planExport(asc(141, true), seqcache.Sequence{Spec: small, Next: 500}, 100)
	if st.Action != ActionRestore || !st.NativeExhausted || *st.setval != 550 || st.Warning == "" {
		t.Errorf("clipped: %s %q %v", st.Action, st.SQL, st.Warning)
	}
}

func TestClassify(t *testing.T) {
	spec, _ := seqcache.Define("public.s", seqcache.Start(142))
	e := &seqcache.Sequence{Spec: spec, Next: 500}
	capped := asc(100, true)
	capped.MaxValue = 141
	exported := asc(599, true)
	exported.Start = 600
	walked := asc(599, true) // from 1 to 599 through the store's values
	tests := []struct {
		name   string
		n      *Native
		e      *seqcache.Sequence
		phase  Phase
		margin int64
	}{
		{"imported", &capped, e, PhaseImported, 41},
		{"exported", &exported, e, PhaseExported, 100},
		{"walked through the store", &walked, e, PhaseOverlap, 0},
		{"uncapped", func() *Native { n := asc(100, true); return &n }(), e, PhaseOverlap, 0},
		{"database only", &capped, nil, PhaseDatabaseOnly, 0},
		{"store only", nil, e, PhaseStoreOnly, 0},
		{"stopped", func() *Native { n := asc(400, true); n.MaxValue = 400; return &n }(), e, PhaseImported, 0},
		{"stopped behind the store's next", func() *Native { n := asc(600, true); n.MaxValue = 600; return &n }(), e, PhaseOverlap, 0},
	}
	for _, tt := range tests {
		st := classify(State{Key: "public.s", Native: tt.n, Store: tt.e})
		if st.Phase != tt.phase || st.Margin != tt.margin || st.Overlap != (tt.phase == PhaseOverlap) {
			t.Errorf("%s: %s margin %d (%s)", tt.name, st.Phase, st.Margin, st.Note)
		}
	}
}

func TestManaged(t *testing.T) {
	o := Options{Allow: []string{"orders_*", "app.*"}, Deny: []string{"app.audit*"}}
	for key, want := range map[string]bool{
		"public.orders_id_seq": true, "public.users_id_seq": false, "app.x": true, "app.audit_seq": false,
	} {
		if o.managed(key) != want {
			t.Errorf("managed(%s) = %v", key, !want)
		}
	}
	if (Options{Only: []string{"public.a"}}).managed("public.b") {
		t.Error("Only")
	}
}

// TestBadPattern: a malformed pattern is refused before the database or
// the store is read (both are nil here), naming the pattern.
func TestBadPattern(t *testing.T) {
	opts := Options{Allow: []string{"public.*"}, Deny: []string{"a[b"}}
	_, errImport := PlanImport(context.Background(), nil, nil, opts)
	_, errExport := PlanExport(context.Background(), nil, nil, opts)
	_, errStatus := Status(context.Background(), nil, nil, opts)
	for _, err := range []error{errImport, errExport, errStatus} {
		if !errors.Is(err, path.ErrBadPattern) || !strings.Contains(err.Error(), `bad pattern "a[b"`) {
			t.Errorf("got %v, want ErrBadPattern naming a[b", err)
		}
	}
}
