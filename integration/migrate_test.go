package integration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/seqshim/seqshim/internal/testenv"
	"github.com/seqshim/seqshim/migrate"
	"github.com/seqshim/seqshim/seqcache"
)

// migEnv is an env with a schema of its own, so that importing "every
// sequence" (Allow: schema.*) sees only the test's.
type migEnv struct {
	*env
	schema string
}

func newMigEnv(t *testing.T, params ...string) *migEnv {
	t.Helper()
	e := newEnv(t, params...)
	m := &migEnv{env: e, schema: testenv.UniqueName("mig")}
	e.exec(e.native, "CREATE SCHEMA "+m.schema)
	t.Cleanup(func() { e.native.Exec("DROP SCHEMA IF EXISTS " + m.schema + " CASCADE") })
	return m
}

// key is the store key of the test schema's sequence name.
func (m *migEnv) key(name string) string { return m.schema + "." + name }

// opts selects the test schema's sequences.
func (m *migEnv) opts(gap int64) migrate.Options {
	return migrate.Options{Gap: gap, Allow: []string{m.schema + ".*"}, Logger: slog.New(slog.DiscardHandler)}
}

// native is a sequence's row of pg_sequences (last_value 0 when NULL).
type nativeRow struct {
	Start, Inc, Min, Max int64
	Cycle                bool
	Cache                int64
	Last                 sql.NullInt64
}

func (m *migEnv) nativeRow(name string) nativeRow {
	m.t.Helper()
	var r nativeRow
	err := m.native.QueryRow(`SELECT start_value, increment_by, min_value, max_value, cycle, cache_size, last_value
		FROM pg_sequences WHERE schemaname = $1 AND sequencename = $2`, m.schema, name).
		Scan(&r.Start, &r.Inc, &r.Min, &r.Max, &r.Cycle, &r.Cache, &r.Last)
	if err != nil {
		m.t.Fatalf("pg_sequences %s: %v", name, err)
	}
	return r
}

func (m *migEnv) storeSeq(name string) seqcache.Sequence {
	m.t.Helper()
	s, err := m.store.Get(context.Background(), m.key(name))
	if err != nil {
		m.t.Fatalf("store %s: %v", name, err)
	}
	return s
}

func (m *migEnv) nextvalN(name string, n int) {
	m.t.Helper()
	m.exec(m.native, fmt.Sprintf("SELECT count(nextval('%s')) FROM generate_series(1, %d)", m.key(name), n))
}

func sqlstate(err error) string {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code
	}
	return seqcache.CodeOf(err)
}

func stepsByKey(steps []migrate.Step) map[string]migrate.Step {
	m := make(map[string]migrate.Step)
	for _, s := range steps {
		m[s.Key] = s
	}
	return m
}

// TestImportEveryParameter imports ascending, descending, cycling, cached,
// never-called, setval(false), integer and nearly exhausted smallint
// sequences: the store's definitions and next values and the database's
// caps are exactly as computed; the one with no room for the gap fails
// with the fix and the others are imported all the same.
func TestImportEveryParameter(t *testing.T) {
	m := newMigEnv(t)
	ctx := context.Background()
	for _, ddl := range []string{
		"CREATE SEQUENCE %[1]s.up",
		"CREATE SEQUENCE %[1]s.down INCREMENT -3 MINVALUE -100000 MAXVALUE -10 START -10",
		"CREATE SEQUENCE %[1]s.cyc INCREMENT 7 MINVALUE 3 MAXVALUE 1000000 START 10 CYCLE",
		"CREATE SEQUENCE %[1]s.cached CACHE 50",
		"CREATE SEQUENCE %[1]s.never START 100",
		"CREATE SEQUENCE %[1]s.setfalse",
		"CREATE SEQUENCE %[1]s.int4 AS integer",
		"CREATE SEQUENCE %[1]s.tiny AS smallint",
		`CREATE SEQUENCE %[1]s."Mixed Case"`,
	} {
		m.exec(m.native, fmt.Sprintf(ddl, m.schema))
	}
	m.nextvalN("up", 5)     // last 5
	m.nextvalN("down", 4)   // -10 -13 -16 -19
	m.nextvalN("cyc", 2)    // 10 17
	m.nextvalN("cached", 1) // the session caches 1..50: last_value 50
	m.nextvalN("int4", 1)   // last 1
	m.nextvalN(`"Mixed Case"`, 3)
	m.exec(m.native, fmt.Sprintf("SELECT setval('%s.setfalse', 500, false)", m.schema))
	m.exec(m.native, fmt.Sprintf("SELECT setval('%s.tiny', 32000)", m.schema))

	const gap = 1000
	steps, err := migrate.Import(ctx, m.native, m.store, m.opts(gap))
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("sequence %s: last value 32000 leaves 767 value(s) before its MAXVALUE 32767, fewer than the gap 1000: fix: import it with --gap 767 or less", m.key("tiny"))) {
		t.Fatalf("want the smallint sequence to fail with its fix, got %v", err)
	}
	by := stepsByKey(steps)
	if len(steps) != 9 {
		t.Fatalf("%d steps, want 9", len(steps))
	}
	if st := by[m.key("tiny")]; st.Action != migrate.ActionFail || st.Applied {
		t.Errorf("tiny: %s applied %v", st.Action, st.Applied)
	}
	if r := m.nativeRow("tiny"); r.Max != math.MaxInt16 {
		t.Errorf("tiny was capped: %+v", r)
	}

	big := int64(math.MaxInt64)
	tests := []struct {
		name            string
		spec            seqcache.Spec // as created in the store
		max, min        int64         // the database's limits after
		cycle           bool
		nativeLastAfter int64
	}{
		{"up", seqcache.Spec{Start: 1005, Increment: 1, MinValue: 1, MaxValue: big, Cache: 1}, 1004, 1, false, 5},
		{"down", seqcache.Spec{Start: -3019, Increment: -3, MinValue: -100000, MaxValue: -10, Cache: 1}, -10, -3016, false, -19},
		{"cyc", seqcache.Spec{Start: 7017, Increment: 7, MinValue: 3, MaxValue: 1000000, Cycle: true, Cache: 1}, 7010, 3, false, 17},
		{"cached", seqcache.Spec{Start: 1050, Increment: 1, MinValue: 1, MaxValue: big, Cache: 50}, 1049, 1, false, 50},
		{"never", seqcache.Spec{Start: 1100, Increment: 1, MinValue: 1, MaxValue: big, Cache: 1}, 1099, 1, false, 0},
		{"setfalse", seqcache.Spec{Start: 1500, Increment: 1, MinValue: 1, MaxValue: big, Cache: 1}, 1499, 1, false, 0},
		{"int4", seqcache.Spec{Start: 1001, Increment: 1, MinValue: 1, MaxValue: math.MaxInt32, Cache: 1}, 1000, 1, false, 1},
		{"Mixed Case", seqcache.Spec{Start: 1003, Increment: 1, MinValue: 1, MaxValue: big, Cache: 1}, 1002, 1, false, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := by[m.key(tt.name)]
			if st.Action != migrate.ActionCreate || !st.Applied || st.Err != nil {
				t.Fatalf("step %s applied %v err %v", st.Action, st.Applied, st.Err)
			}
			want := tt.spec
			want.Name = m.key(tt.name)
			got := m.storeSeq(tt.name)
			if got.Spec != want || got.Next != want.Start || got.Exhausted {
				t.Errorf("store: %+v next %d, want %+v next %d", got.Spec, got.Next, want, want.Start)
			}
			r := m.nativeRow(tt.name)
			if r.Max != tt.max || r.Min != tt.min || r.Cycle != tt.cycle {
				t.Errorf("database: max %d min %d cycle %v, want %d %d %v", r.Max, r.Min, r.Cycle, tt.max, tt.min, tt.cycle)
			}
			if tt.nativeLastAfter != 0 && (!r.Last.Valid || r.Last.Int64 != tt.nativeLastAfter) {
				t.Errorf("database last_value %v, want %d", r.Last, tt.nativeLastAfter)
			}
		})
	}
	if r := m.nativeRow("up"); r.Start != 1 || r.Inc != 1 || r.Cache != 1 {
		t.Errorf("up: other parameters changed: %+v", r)
	}

	// The capped native sequences run out exactly at the cap, with 2200H.
	m.nextvalN("up", 999) // 6..1004
	_, err = m.native.Exec(fmt.Sprintf("SELECT nextval('%s.up')", m.schema))
	if sqlstate(err) != "2200H" || !strings.Contains(err.Error(), `reached maximum value of sequence "up" (1004)`) {
		t.Errorf("past the cap: %v", err)
	}
	m.nextvalN("down", 999) // -22 .. -3016
	_, err = m.native.Exec(fmt.Sprintf("SELECT nextval('%s.down')", m.schema))
	if sqlstate(err) != "2200H" || !strings.Contains(err.Error(), `reached minimum value of sequence "down" (-3016)`) {
		t.Errorf("past the cap: %v", err)
	}
	// The cycling sequence no longer wraps on the native side.
	m.nextvalN("cyc", 999) // 24 .. 7010
	_, err = m.native.Exec(fmt.Sprintf("SELECT nextval('%s.cyc')", m.schema))
	if sqlstate(err) != "2200H" {
		t.Errorf("cycle past the cap: %v", err)
	}
	// seqshim hands out the store's values from the computed start.
	for name, want := range map[string]int64{"up": 1005, "down": -3019, "cyc": 7017, "never": 1100, `"Mixed Case"`: 1003} {
		var v int64
		if err := m.shim.QueryRow(fmt.Sprintf(`SELECT nextval('%s.%s')`, m.schema, strings.ReplaceAll(name, "'", "''"))).Scan(&v); err != nil || v != want {
			t.Errorf("seqshim nextval(%s) = %d, %v; want %d", name, v, err, want)
		}
	}
}

// TestImportIdempotentAndDryRun: a dry run changes nothing; a second import
// finds everything done and changes nothing either.
func TestImportIdempotentAndDryRun(t *testing.T) {
	m := newMigEnv(t)
	ctx := context.Background()
	m.exec(m.native, fmt.Sprintf("CREATE SEQUENCE %s.a; CREATE SEQUENCE %[1]s.b INCREMENT -1", m.schema))
	m.nextvalN("a", 10)

	plan, err := migrate.PlanImport(ctx, m.native, m.store, m.opts(100))
	if err != nil {
		t.Fatal(err)
	}
	by := stepsByKey(plan)
	if a := by[m.key("a")]; a.Action != migrate.ActionCreate || a.Spec.Start != 110 || a.Cap != 109 ||
		a.SQL[0] != fmt.Sprintf(`ALTER SEQUENCE "%s"."a" MAXVALUE 109`, m.schema) {
		t.Errorf("plan a: %+v", a)
	}
	if b := by[m.key("b")]; b.Action != migrate.ActionCreate || b.Spec.Start != -101 || b.Cap != -100 {
		t.Errorf("plan b: %+v", b)
	}
	// The dry run (PlanImport) changed nothing.
	if _, err := m.store.Get(ctx, m.key("a")); sqlstate(err) != "42P01" {
		t.Errorf("store after plan: %v", err)
	}
	if r := m.nativeRow("a"); r.Max != math.MaxInt64 {
		t.Errorf("database after plan: %+v", r)
	}

	if _, err := migrate.Import(ctx, m.native, m.store, m.opts(100)); err != nil {
		t.Fatal(err)
	}
	before := [2]any{m.storeSeq("a"), m.nativeRow("a")}
	steps, err := migrate.Import(ctx, m.native, m.store, m.opts(100))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range steps {
		if s.Action != migrate.ActionDone || s.Applied || len(s.SQL) != 0 {
			t.Errorf("second import %s: %s applied %v SQL %q", s.Key, s.Action, s.Applied, s.SQL)
		}
	}
	if after := [2]any{m.storeSeq("a"), m.nativeRow("a")}; after != before {
		t.Errorf("second import changed %v to %v", before, after)
	}
	// A different gap does not move anything either: the store is there.
	if steps, err := migrate.Import(ctx, m.native, m.store, m.opts(5000)); err != nil || steps[0].Action != migrate.ActionDone {
		t.Errorf("import with another gap: %v %v", steps, err)
	}
}

// TestImportNeverBackwards: a sequence already in the store is compared,
// never moved backwards: ahead of the database it only caps the database;
// behind it (the database has drawn into the store's values) the database
// is stopped at its last value and the store moved forward past it.
func TestImportNeverBackwards(t *testing.T) {
	m := newMigEnv(t)
	ctx := context.Background()
	m.exec(m.native, fmt.Sprintf("CREATE SEQUENCE %s.ahead; CREATE SEQUENCE %[1]s.behind; CREATE SEQUENCE %[1]s.used", m.schema))
	m.nextvalN("ahead", 10)
	m.nextvalN("behind", 300)
	m.nextvalN("used", 300)
	for name, start := range map[string]int64{"ahead": 5000, "behind": 100, "used": 100} {
		spec, _ := seqcache.Define(m.key(name), seqcache.Start(start))
		if err := m.store.Create(ctx, spec); err != nil {
			t.Fatal(err)
		}
	}
	// "used": the store handed out 100..149 already.
	if _, err := m.store.Reserve(ctx, m.key("used"), 50); err != nil {
		t.Fatal(err)
	}
	steps, err := migrate.Import(ctx, m.native, m.store, m.opts(1000))
	if err != nil {
		t.Fatal(err)
	}
	by := stepsByKey(steps)
	if st := by[m.key("ahead")]; st.Action != migrate.ActionCap || st.Cap != 4999 || st.Warning != "" {
		t.Errorf("ahead: %+v", st)
	}
	if s := m.storeSeq("ahead"); s.Next != 5000 {
		t.Errorf("ahead moved: %d", s.Next)
	}
	if r := m.nativeRow("ahead"); r.Max != 4999 {
		t.Errorf("ahead cap %d", r.Max)
	}
	for _, name := range []string{"behind", "used"} {
		st := by[m.key(name)]
		if st.Action != migrate.ActionStop || st.Cap != 300 || st.StoreNext != 1300 {
			t.Errorf("%s: %s cap %d store next %d", name, st.Action, st.Cap, st.StoreNext)
		}
		if s := m.storeSeq(name); s.Next != 1300 || s.Start != 100 {
			t.Errorf("%s: store next %d start %d, want 1300 100", name, s.Next, s.Start)
		}
		if r := m.nativeRow(name); r.Max != 300 {
			t.Errorf("%s: database max %d, want 300", name, r.Max)
		}
		_, err := m.native.Exec(fmt.Sprintf("SELECT nextval('%s')", m.key(name)))
		if sqlstate(err) != "2200H" {
			t.Errorf("%s: native nextval after the stop: %v", name, err)
		}
	}
	if w := by[m.key("behind")].Warning; w != "" {
		t.Errorf("behind: the store had handed out nothing, yet: %s", w)
	}
	if w := by[m.key("used")].Warning; !strings.Contains(w, "values from 100 to 300 may have been handed out by both") {
		t.Errorf("used: warning %q", w)
	}
	// Again: nothing changes, nothing moves back.
	steps, err = migrate.Import(ctx, m.native, m.store, m.opts(1000))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range steps {
		if s.Action != migrate.ActionDone || s.Applied {
			t.Errorf("second import %s: %s (%s)", s.Key, s.Action, s.Note)
		}
	}
	if s := m.storeSeq("used"); s.Next != 1300 {
		t.Errorf("used moved to %d", s.Next)
	}
	// The store moved ahead by seqshim: import does not pull it back.
	if err := m.store.SetValue(ctx, m.key("ahead"), 90000, true); err != nil {
		t.Fatal(err)
	}
	if steps, err := migrate.Import(ctx, m.native, m.store, migrate.Options{Only: []string{m.key("ahead")}, Gap: 10}); err != nil || steps[0].Action != migrate.ActionDone {
		t.Errorf("ahead after setval: %v %v", steps, err)
	}
	if s := m.storeSeq("ahead"); s.Next != 90001 {
		t.Errorf("ahead next %d, want 90001", s.Next)
	}
}

// TestImportOneRace: instances importing the same sequence at once settle
// on one creation; the database is capped once, below it.
func TestImportOneRace(t *testing.T) {
	m := newMigEnv(t)
	ctx := context.Background()
	m.exec(m.native, fmt.Sprintf("CREATE SEQUENCE %s.lazy", m.schema))
	m.nextvalN("lazy", 42)
	const n = 8
	var wg sync.WaitGroup
	steps := make([]migrate.Step, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { steps[i], errs[i] = migrate.ImportOne(ctx, m.native, m.store, m.key("lazy"), m.opts(500)) })
	}
	wg.Wait()
	var created int
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("ImportOne %d: %v", i, errs[i])
		}
		if steps[i].Applied {
			created++
			if steps[i].Action != migrate.ActionCreate || steps[i].Spec.Start != 542 || steps[i].Cap != 541 {
				t.Errorf("creation: %+v", steps[i])
			}
		} else if steps[i].Action != migrate.ActionDone {
			t.Errorf("loser: %+v", steps[i])
		}
	}
	if created != 1 {
		t.Errorf("%d creations, want 1", created)
	}
	if s := m.storeSeq("lazy"); s.Start != 542 || s.Next != 542 {
		t.Errorf("store %+v", s)
	}
	if r := m.nativeRow("lazy"); r.Max != 541 {
		t.Errorf("database max %d", r.Max)
	}
	// A sequence the database lacks is 42P01.
	_, err := migrate.ImportOne(ctx, m.native, m.store, m.key("nope"), m.opts(500))
	if sqlstate(err) != "42P01" || !strings.Contains(err.Error(), fmt.Sprintf(`sequence "%s" does not exist in the database`, m.key("nope"))) {
		t.Errorf("unknown: %v", err)
	}
}

// TestImportOneWithoutPrivilege: a user that may use the sequence but not
// alter it imports it into the store and gets a warning with the exact
// statement to run; the CLI's Import refuses and changes nothing.
func TestImportOneWithoutPrivilege(t *testing.T) {
	m := newMigEnv(t)
	ctx := context.Background()
	role := testenv.UniqueName("migapp")
	m.exec(m.native, fmt.Sprintf("CREATE SEQUENCE %s.priv", m.schema))
	m.nextvalN("priv", 7)
	m.exec(m.native, "CREATE ROLE "+role+" LOGIN")
	t.Cleanup(func() {
		m.native.Exec(fmt.Sprintf("DROP OWNED BY %s", role))
		m.native.Exec("DROP ROLE IF EXISTS " + role)
	})
	m.exec(m.native, fmt.Sprintf("GRANT USAGE ON SCHEMA %s TO %s; GRANT SELECT, USAGE ON SEQUENCE %s.priv TO %s", m.schema, role, m.schema, role))
	appURL := strings.Replace(m.url, "postgres://postgres@", "postgres://"+role+"@", 1)
	if appURL == m.url {
		t.Skipf("DATABASE_URL %q is not postgres://postgres@...: cannot derive another user's URL", m.url)
	}
	app := open(t, "pgx", appURL)

	var logged strings.Builder
	opts := m.opts(100)
	opts.Logger = slog.New(slog.NewTextHandler(&syncWriter{w: &logged}, &slog.HandlerOptions{Level: slog.LevelWarn}))

	// Import (the CLI's) refuses without the privilege and changes nothing.
	_, err := migrate.Import(ctx, app, m.store, opts)
	want := fmt.Sprintf(`ALTER SEQUENCE "%s"."priv" MAXVALUE 106`, m.schema)
	if sqlstate(err) != "42501" || !strings.Contains(err.Error(), "have the owner run: "+want+"; nothing was changed") {
		t.Errorf("Import without privilege: %v", err)
	}
	if _, err := m.store.Get(ctx, m.key("priv")); sqlstate(err) != "42P01" {
		t.Errorf("store after the refused import: %v", err)
	}

	st, err := migrate.ImportOne(ctx, app, m.store, m.key("priv"), opts)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Applied || st.Spec.Start != 107 || !strings.Contains(st.Warning, "have the sequence's owner run: "+want) ||
		!strings.Contains(st.Warning, "native instances can draw 99 more values") {
		t.Errorf("lazy import: %+v", st)
	}
	if log := logged.String(); !strings.Contains(log, "level=WARN") || !strings.Contains(log, "have the sequence's owner run: ALTER SEQUENCE") ||
		!strings.Contains(log, `"priv\" MAXVALUE 106`) {
		t.Errorf("log: %s", logged.String())
	}
	if s := m.storeSeq("priv"); s.Start != 107 {
		t.Errorf("store start %d", s.Start)
	}
	if r := m.nativeRow("priv"); r.Max != math.MaxInt64 {
		t.Errorf("database capped by a user without privilege: %d", r.Max)
	}
	// The owner runs the statement; import as the owner then finds it done.
	m.exec(m.native, want)
	if steps, err := migrate.Import(ctx, m.native, m.store, m.opts(100)); err != nil || steps[0].Action != migrate.ActionDone {
		t.Errorf("after the owner's statement: %+v %v", steps, err)
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// TestExportAndStatus: after import and use through seqshim, status says
// imported; export lifts the caps and moves the database past the store
// plus the gap; a second export changes nothing; status says exported; an
// uncapped database sequence behind the store is an overlap.
func TestExportAndStatus(t *testing.T) {
	m := newMigEnv(t, "seqshim.block_size=10")
	ctx := context.Background()
	m.exec(m.native, fmt.Sprintf("CREATE SEQUENCE %s.a; CREATE SEQUENCE %[1]s.d INCREMENT -5 CYCLE", m.schema))
	m.nextvalN("a", 20)
	m.nextvalN("d", 2) // -1, -6
	if _, err := migrate.Import(ctx, m.native, m.store, m.opts(100)); err != nil {
		t.Fatal(err)
	}
	states, err := migrate.Status(ctx, m.native, m.store, m.opts(0))
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 2 || states[0].Phase != migrate.PhaseImported || states[0].Margin != 99 ||
		states[1].Phase != migrate.PhaseImported || states[1].Margin != 99 {
		t.Errorf("status after import: %+v", states)
	}
	// seqshim draws 12 values of a, 120..131, from two blocks of 10: the
	// store's next is 140 (the third block is fetched at 135).
	for range 12 {
		if _, err := m.shim.Exec(fmt.Sprintf("SELECT nextval('%s.a')", m.schema)); err != nil {
			t.Fatal(err)
		}
	}
	if s := m.storeSeq("a"); s.Next != 140 {
		t.Fatalf("store next %d, want 140", s.Next)
	}
	plan, err := migrate.PlanExport(ctx, m.native, m.store, m.opts(1000))
	if err != nil {
		t.Fatal(err)
	}
	if r := m.nativeRow("a"); r.Max != 119 {
		t.Fatalf("PlanExport changed the database: %+v", r)
	}
	by := stepsByKey(plan)
	if st := by[m.key("a")]; st.Action != migrate.ActionRestore || st.NativeNext != 1140 ||
		strings.Join(st.SQL, "; ") != fmt.Sprintf(`ALTER SEQUENCE "%[1]s"."a" MINVALUE 1 MAXVALUE 9223372036854775807 NO CYCLE START WITH 1140; SELECT setval('"%[1]s"."a"', 1139, true)`, m.schema) {
		t.Errorf("plan a: %+v", st)
	}
	steps, err := migrate.Export(ctx, m.native, m.store, m.opts(1000))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range steps {
		if !s.Applied || s.Action != migrate.ActionRestore {
			t.Errorf("export %s: %+v", s.Key, s)
		}
	}
	if r := m.nativeRow("a"); r.Max != math.MaxInt64 || r.Min != 1 || r.Cycle || r.Last.Int64 != 1139 || r.Start != 1140 {
		t.Errorf("a after export: %+v", r)
	}
	// d: store next -506 (-6 - 100*5); database next -506 - 1000*5 = -5506.
	if r := m.nativeRow("d"); r.Max != -1 || r.Min != math.MinInt64 || !r.Cycle || r.Last.Int64 != -5501 || r.Start != -5506 {
		t.Errorf("d after export: %+v", r)
	}
	var v int64
	if err := m.native.QueryRow(fmt.Sprintf("SELECT nextval('%s.a')", m.schema)).Scan(&v); err != nil || v != 1140 {
		t.Errorf("native nextval after export: %d %v", v, err)
	}
	steps, err = migrate.Export(ctx, m.native, m.store, m.opts(1000))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range steps {
		if s.Applied || s.Action != migrate.ActionDone {
			t.Errorf("second export %s: %s", s.Key, s.Action)
		}
	}
	states, err = migrate.Status(ctx, m.native, m.store, m.opts(0))
	if err != nil {
		t.Fatal(err)
	}
	if states[0].Phase != migrate.PhaseExported || states[0].Margin != 1000 || states[0].Overlap {
		t.Errorf("status a after export: %+v", states[0])
	}
	// A sequence in the store behind an uncapped database: overlap.
	m.exec(m.native, fmt.Sprintf("CREATE SEQUENCE %s.o", m.schema))
	m.nextvalN("o", 50)
	spec, _ := seqcache.Define(m.key("o"), seqcache.Start(10))
	if err := m.store.Create(ctx, spec); err != nil {
		t.Fatal(err)
	}
	states, err = migrate.Status(ctx, m.native, m.store, migrate.Options{Only: []string{m.key("o")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 1 || states[0].Phase != migrate.PhaseOverlap || !states[0].Overlap {
		t.Errorf("status o: %+v", states)
	}
}

// TestRollingMigration is a rolling deployment: a group of connections on
// native pgx inserts into a table whose primary key comes from
// nextval('s'); import runs while they insert; a second group on seqshim
// starts after it (the rollout order) and inserts into the same table.
// No unique violation; the native side stops with 2200H at the cap, never
// colliding. Then export, while seqshim still inserts, and native-only
// inserts: no collision either.
func TestRollingMigration(t *testing.T) {
	m := newMigEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	seq, tbl := m.key("ids"), m.key("orders")
	m.exec(m.native, "CREATE SEQUENCE "+seq)
	m.exec(m.native, "CREATE TABLE "+tbl+" (id bigint PRIMARY KEY, side text NOT NULL)")
	insert := fmt.Sprintf("INSERT INTO %s (id, side) VALUES (nextval('%s'), $1)", tbl, seq)

	shimDB := open(t, "seqshim", m.shimDSN("seqshim.block_size=10"))
	m.native.SetMaxOpenConns(8)
	shimDB.SetMaxOpenConns(8)

	type group struct {
		name    string
		db      *sql.DB
		rows    atomic.Int64
		stop    chan struct{}
		wg      sync.WaitGroup
		limited atomic.Int64 // workers that ended on 2200H
	}
	const workers = 4
	start := func(g *group) {
		g.stop = make(chan struct{})
		for range workers {
			g.wg.Go(func() {
				for {
					select {
					case <-g.stop:
						return
					default:
					}
					_, err := g.db.ExecContext(ctx, insert, g.name)
					switch code := sqlstate(err); {
					case err == nil:
						g.rows.Add(1)
					case code == "2200H" && g.name == "native":
						g.limited.Add(1)
						return
					case code == "23505":
						t.Errorf("%s: unique violation: %v", g.name, err)
						return
					default:
						t.Errorf("%s: %v", g.name, err)
						return
					}
				}
			})
		}
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for !cond() {
			if ctx.Err() != nil {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	native := &group{name: "native", db: m.native}
	shim := &group{name: "seqshim", db: shimDB}

	start(native)
	waitFor("200 native rows", func() bool { return native.rows.Load() >= 200 })
	const gap = 300
	steps, err := migrate.Import(ctx, m.native, m.store, migrate.Options{Only: []string{seq}, Gap: gap})
	if err != nil {
		t.Fatal(err)
	}
	imp := steps[0]
	nativeAtImport := native.rows.Load()
	if imp.Action != migrate.ActionCreate || !imp.Applied || imp.Spec.Start != imp.Native.LastValue+gap || imp.Cap != imp.Spec.Start-1 {
		t.Fatalf("import: %+v", imp)
	}
	start(shim)
	waitFor("the native side to reach its cap", func() bool { return native.limited.Load() == workers || t.Failed() })
	native.wg.Wait()
	shimAtLimit := shim.rows.Load()
	waitFor("500 seqshim rows", func() bool { return shim.rows.Load() >= 500 || t.Failed() })

	// Rollback: export while seqshim still inserts, then stop it.
	const exportGap = 10000
	steps, err = migrate.Export(ctx, m.native, m.store, migrate.Options{Only: []string{seq}, Gap: exportGap})
	if err != nil {
		t.Fatal(err)
	}
	exp := steps[0]
	close(shim.stop)
	shim.wg.Wait()
	if !exp.Applied || exp.NativeNext != exp.StoreNext+exportGap {
		t.Fatalf("export: %+v", exp)
	}
	native2 := &group{name: "native-after-export", db: m.native}
	start(native2)
	waitFor("300 native rows after export", func() bool { return native2.rows.Load() >= 300 || t.Failed() })
	close(native2.stop)
	native2.wg.Wait()
	if t.Failed() {
		return
	}

	count := func(side string) (n, lo, hi int64) {
		t.Helper()
		if err := m.native.QueryRow("SELECT count(*), coalesce(min(id), 0), coalesce(max(id), 0) FROM "+tbl+" WHERE side = $1", side).Scan(&n, &lo, &hi); err != nil {
			t.Fatal(err)
		}
		return
	}
	nN, nLo, nHi := count("native")
	sN, sLo, sHi := count("seqshim")
	aN, aLo, aHi := count("native-after-export")
	// Native: every value from 1 to the cap, each once, none beyond.
	if nN != imp.Cap || nLo != 1 || nHi != imp.Cap || nN != native.rows.Load() {
		t.Errorf("native rows: %d in [%d, %d], want %d in [1, %d]", nN, nLo, nHi, imp.Cap, imp.Cap)
	}
	// seqshim: from the store's start, below the store's next at export.
	if sN != shim.rows.Load() || sLo != imp.Spec.Start || sHi >= exp.StoreNext+exportGap {
		t.Errorf("seqshim rows: %d in [%d, %d], want from %d", sN, sLo, sHi, imp.Spec.Start)
	}
	// After export: native from exactly store next + gap.
	if aN != native2.rows.Load() || aLo != exp.NativeNext || aHi != exp.NativeNext+aN-1 {
		t.Errorf("native rows after export: %d in [%d, %d], want from %d", aN, aLo, aHi, exp.NativeNext)
	}
	t.Logf("native: %d rows (%d before import, 1..%d), stopped with 2200H at %d after seqshim's first %d rows; "+
		"seqshim: %d rows (%d..%d); export: database next %d (store next %d + %d); native after export: %d rows (%d..%d)",
		nN, nativeAtImport, nHi, imp.Cap, shimAtLimit, sN, sLo, sHi, exp.NativeNext, exp.StoreNext, exportGap, aN, aLo, aHi)
}
