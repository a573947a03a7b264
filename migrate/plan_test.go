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

// TestPlanCreateFits: a gap that does not fit leaves the database half of
// what remains (with a warning), gap 0 hands over exactly, and a cap that
// reaches the other limit moves it out of the way.
func TestPlanCreateFits(t *testing.T) {
	with := func(n Native, f func(*Native)) Native { f(&n); return n }
	int4 := with(asc(2147483600, true), func(n *Native) { n.DataType, n.MaxValue = "integer", math.MaxInt32 })
	max3 := with(asc(1, false), func(n *Native) { n.MaxValue = 3 })
	cyc3 := with(asc(3, true), func(n *Native) { n.MaxValue, n.Cycle = 3, true })
	small := with(asc(1, false), func(n *Native) { n.DataType, n.MaxValue = "smallint", math.MaxInt16 })
	nearMin := Native{Schema: "public", Name: "s", DataType: "bigint", Start: -1, Increment: -1,
		MinValue: math.MinInt64, MaxValue: -1, Cache: 1, LastValue: math.MinInt64 + 8, Called: true}
	tests := []struct {
		name       string
		n          Native
		gap        int64
		start, cap int64
		sql        []string
		setval     int64 // 0: none
		warn       string
	}{
		{"int4 near its limit", int4, 100, 2147483624, 2147483623, []string{`ALTER SEQUENCE "public"."s" MAXVALUE 2147483623`}, 0,
			"47 value(s) remain from its next value 2147483601 to its MAXVALUE 2147483647, too few for the gap 100: the database keeps 23 and the store starts at 2147483624"},
		{"bigint maximum", asc(math.MaxInt64-5, true), 10, math.MaxInt64 - 2, math.MaxInt64 - 3, []string{`ALTER SEQUENCE "public"."s" MAXVALUE 9223372036854775804`}, 0,
			"5 value(s) remain"},
		{"bigint minimum, descending", nearMin, DefaultGap, math.MinInt64 + 3, math.MinInt64 + 4, []string{`ALTER SEQUENCE "public"."s" MINVALUE -9223372036854775804`}, 0,
			"the database keeps 4 and the store starts at -9223372036854775805"},
		{"smallserial", small, DefaultGap, 16384, 16383, []string{`ALTER SEQUENCE "public"."s" MAXVALUE 16383`}, 0,
			"32767 value(s) remain"},
		{"MAXVALUE 3", max3, DefaultGap, 2, 1, []string{`ALTER SEQUENCE "public"."s" MAXVALUE 1 MINVALUE 0`}, 0,
			"the database keeps 1 and the store starts at 2"},
		{"CYCLE 1..3 at its limit wraps", cyc3, DefaultGap, 2, 1, []string{`ALTER SEQUENCE "public"."s" MAXVALUE 1 MINVALUE 0 RESTART WITH 1 NO CYCLE`}, 0,
			"3 value(s) remain from its next value 1"},
		{"gap 1 stops native at MINVALUE", asc(1, true), 1, 2, 1, []string{`ALTER SEQUENCE "public"."s" MAXVALUE 1 MINVALUE 0`}, 0, ""},
		{"gap 0, called", asc(42, true), 0, 43, 42, []string{`ALTER SEQUENCE "public"."s" MAXVALUE 42`}, 0, ""},
		{"gap 0, never called", asc(1, false), 0, 1, 0, []string{`ALTER SEQUENCE "public"."s" MAXVALUE 0 MINVALUE -1 START WITH 0 RESTART WITH 0`,
			`SELECT setval('"public"."s"', 0, true)`}, 0, ""},
		{"gap 0, MAXVALUE 3", max3, 0, 1, 0, []string{`ALTER SEQUENCE "public"."s" MAXVALUE 0 MINVALUE -1 START WITH 0 RESTART WITH 0`,
			`SELECT setval('"public"."s"', 0, true)`}, 0, ""},
		{"gap 0, CYCLE 1..3 at its limit", cyc3, 0, 1, 0, []string{`ALTER SEQUENCE "public"."s" MAXVALUE 0 MINVALUE -1 START WITH 0 RESTART WITH 0 NO CYCLE`,
			`SELECT setval('"public"."s"', 0, true)`}, 0, ""},
		{"gap 0, descending never called", with(nearMin, func(n *Native) { n.LastValue, n.Called = -1, false }), 0, -1, 0,
			[]string{`ALTER SEQUENCE "public"."s" MINVALUE 0 MAXVALUE 1 START WITH 0 RESTART WITH 0`, `SELECT setval('"public"."s"', 0, true)`}, 0, ""},
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
			if st.Spec.MinValue != tt.n.MinValue || st.Spec.MaxValue != tt.n.MaxValue || st.Spec.Cycle != tt.n.Cycle {
				t.Errorf("store spec %+v: limits or CYCLE differ from the database's", st.Spec)
			}
			if strings.Join(st.SQL, ";") != strings.Join(tt.sql, ";") {
				t.Errorf("SQL %q, want %q", st.SQL, tt.sql)
			}
			if wantSetval := len(tt.sql) == 2; (st.setval != nil) != wantSetval || (wantSetval && *st.setval != tt.cap) {
				t.Errorf("setval %v", st.setval)
			}
			if tt.warn == "" && st.Warning != "" || !strings.Contains(st.Warning, tt.warn) {
				t.Errorf("warning %q, want %q", st.Warning, tt.warn)
			}
		})
	}
}

func TestPlanCreateRefused(t *testing.T) {
	exhausted := asc(3, true)
	exhausted.MaxValue = 3
	st := planImport(exhausted, nil, DefaultGap)
	var e *Error
	if st.Action != ActionFail || !errors.As(st.Err, &e) || e.Code != "2200H" ||
		!strings.Contains(e.Error(), `nothing is left to hand over: its last value is its MAXVALUE: nextval: reached maximum value of sequence "public.s" (3)`) || !errors.Is(st.Err, seqcache.ErrLimitReached) {
		t.Errorf("exhausted: %s %v", st.Action, st.Err)
	}
	bottom := asc(math.MinInt64, false)
	bottom.MinValue = math.MinInt64
	st = planImport(bottom, nil, 0)
	if st.Action != ActionFail || !errors.As(st.Err, &e) || e.Code != "55000" || !strings.Contains(e.Error(), "cannot be stopped before it") {
		t.Errorf("nothing before MINVALUE: %s %v", st.Action, st.Err)
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
	if st := planImport(asc(42, true), e, 100); st.Action != ActionFail || !strings.Contains(st.Err.Error(), "store has it with INCREMENT 2, the database with 1") || codeOf(st.Err) != "55000" {
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
	// Gap 0: the database continues with exactly the store's next value.
	st = planExport(capped, e, 0)
	if st.Action != ActionRestore || st.NativeNext != 500 || *st.setval != 499 {
		t.Errorf("gap 0: %s %q next %d", st.Action, st.SQL, st.NativeNext)
	}
}

// TestPlanExistingNeverCalled: a database sequence never called (its next
// nextval returns last_value) that has reached the store's values is
// stopped just before that value, called there, and the store moved past
// the stop when it is behind: the value is handed out once, by the store.
func TestPlanExistingNeverCalled(t *testing.T) {
	spec, _ := seqcache.Define("public.s", seqcache.Start(142))
	never := asc(150, false) // its next nextval returns 150
	for _, tt := range []struct {
		gap, storeNext, wantNext int64
	}{
		{0, 142, 150}, // behind: moved to exactly 150
		{10, 142, 159},
		{100, 400, 400}, // ahead (150 may be handed out): left there
	} {
		st := planImport(never, &seqcache.Sequence{Spec: spec, Next: tt.storeNext}, tt.gap)
		want := []string{`ALTER SEQUENCE "public"."s" MAXVALUE 149 RESTART WITH 149`, `SELECT setval('"public"."s"', 149, true)`}
		if st.Action != ActionStop || st.Cap != 149 || st.StoreNext != tt.wantNext || strings.Join(st.SQL, ";") != strings.Join(want, ";") ||
			*st.setval != 149 || !st.restarts {
			t.Errorf("gap %d, store next %d: %s cap %d store next %d SQL %q; want stop at 149, store next %d",
				tt.gap, tt.storeNext, st.Action, st.Cap, st.StoreNext, st.SQL, tt.wantNext)
		}
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
