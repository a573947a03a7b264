package integration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/seqshim/seqshim/internal/testenv"
	"github.com/seqshim/seqshim/seqcache"
)

// TestSearchPathDifferential: unqualified sequence names, and the tables of
// INSERTs that leave a serial column out, resolve on each connection as
// 'name'::regclass does, through every way the search_path changes: the
// DSN, SET, SET LOCAL with commit and rollback (in SQL and through
// database/sql transactions), set_config, RESET, DISCARD ALL; two
// same-named sequences and tables in two schemas; schemas that do not
// exist, "$user", a temporary sequence that hides the others, quoted
// upper-case names, a sequence created and dropped in front of another on
// the path. Native pgx and seqshim with import_gap=0 (an exact handover)
// run the same statements, one connection each: every value, column and
// SQLSTATE is the same.
func TestSearchPathDifferential(t *testing.T) {
	sa, sb, sq := testenv.UniqueName("spa"), testenv.UniqueName("spb"), testenv.UniqueName("Spq")
	e := newEnv(t, "seqshim.import_gap=0", "search_path="+sa)
	nativeDB := open(t, "pgx", e.url+sepFor(e.url)+"search_path="+sa)
	repl := strings.NewReplacer("{a}", sa, "{b}", sb, "{q}", `"`+sq+`"`)
	ddl := []string{
		"CREATE SCHEMA {a}", "CREATE SCHEMA {b}", "CREATE SCHEMA {q}",
		"CREATE SEQUENCE {a}.sp START 100", "CREATE SEQUENCE {b}.sp START 500",
		"CREATE SEQUENCE {a}.only_a START 10", `CREATE SEQUENCE {q}."Up Seq" START 7`,
		"CREATE TABLE {a}.t (id serial PRIMARY KEY, v text)", "CREATE TABLE {b}.t (id bigserial PRIMARY KEY, v text)",
	}
	// Each side gets its own copy of the objects in its own database
	// state: the native side runs first on fresh objects, then they are
	// dropped and created again for seqshim.
	create := func() {
		for _, q := range ddl {
			e.exec(e.native, repl.Replace(q))
		}
	}
	drop := func() {
		for _, s := range []string{sa, sb, `"` + sq + `"`} {
			e.native.Exec("DROP SCHEMA IF EXISTS " + s + " CASCADE")
		}
	}
	t.Cleanup(drop)

	steps := []step{
		// The DSN's search_path.
		{sql: "SELECT nextval('sp')"},
		{sql: "SELECT currval('sp'), lastval()"},
		{sql: "INSERT INTO t (v) VALUES ('dsn') RETURNING id"},
		// SET: the same names, the other schema.
		{mode: "exec", sql: "SET search_path = {b}"},
		{sql: "SELECT currval('sp')"}, // {b}.sp exists, not yet called: 55000
		{sql: "SELECT nextval('sp')"},
		{sql: "INSERT INTO t (v) VALUES ('set') RETURNING id"},
		{sql: "SELECT nextval('only_a')"}, // not on the path: 42P01
		// SET LOCAL, in SQL: until COMMIT; a SET inside a rolled-back
		// transaction is undone too.
		{mode: "exec", sql: "BEGIN"},
		{mode: "exec", sql: "SET LOCAL search_path = {a}"},
		{sql: "SELECT nextval('sp')"},
		{sql: "INSERT INTO t (v) VALUES ('local') RETURNING id"},
		{mode: "exec", sql: "COMMIT"},
		{sql: "SELECT nextval('sp')"},
		{mode: "exec", sql: "BEGIN"},
		{mode: "exec", sql: "SET search_path = {a}"},
		{sql: "SELECT nextval('sp')"},
		{mode: "exec", sql: "ROLLBACK"},
		{sql: "SELECT nextval('sp')"},
		// The same through database/sql transactions, and set_config.
		{mode: "commit", sql: "SET LOCAL search_path = {a}\nSELECT nextval('sp')\nINSERT INTO t (v) VALUES ('tx') RETURNING id"},
		{sql: "SELECT nextval('sp')"},
		{mode: "rollback", sql: "SELECT set_config('search_path', '{a}', false)\nSELECT nextval('sp')"},
		{sql: "SELECT nextval('sp')"},
		{mode: "commit", sql: "SELECT set_config('search_path', '{a}', true)\nSELECT nextval('sp')"},
		{sql: "SELECT nextval('sp')"},
		{sql: "SELECT set_config('search_path', '{a}', false)"},
		{sql: "SELECT nextval('sp')"},
		// RESET and DISCARD ALL go back to the DSN's.
		{mode: "exec", sql: "SET search_path TO {b}"},
		{sql: "SELECT nextval('sp')"},
		{mode: "exec", sql: "RESET search_path"},
		{sql: "SELECT nextval('sp'), nextval('only_a')"},
		// Schemas that do not exist, "$user", quoted upper-case names.
		{mode: "exec", sql: `SET search_path = nosuch_schema, "$user", {b}`},
		{sql: "SELECT nextval('sp')"},
		{mode: "exec", sql: "SET search_path = nosuch_schema"},
		{sql: "SELECT nextval('sp')"},
		{sql: "INSERT INTO t (v) VALUES ('none') RETURNING id"},
		{mode: "exec", sql: "SET search_path = {q}, {a}"},
		{sql: `SELECT nextval('"Up Seq"'), nextval('up seq')`},
		{sql: `SELECT nextval('"Up Seq"'), currval('"Up Seq"')`},
		{sql: `SELECT nextval('{q}."Up Seq"')`},
		{sql: "SELECT nextval('sp')"},
		// A sequence created in front of another on the path, then dropped.
		// (New texts: a statement PostgreSQL prepared before keeps the
		// sequence it resolved then.)
		{mode: "exec", sql: "CREATE SEQUENCE {q}.sp START 900"},
		{sql: "SELECT nextval('sp') AS after_create"},
		{mode: "exec", sql: "DROP SEQUENCE {q}.sp"},
		{sql: "SELECT nextval('sp') AS after_drop"},
		// A temporary sequence hides the others and stays PostgreSQL's.
		{mode: "exec", sql: "CREATE TEMP SEQUENCE sp START 42"},
		{sql: "SELECT nextval('sp') AS temp"},
		{sql: "SELECT nextval('pg_temp.sp'), currval('sp')"},
		{sql: "SELECT currval('sp') * 2 AS twice, lastval()"},
		{sql: "INSERT INTO t (v) VALUES (currval('sp')::text) RETURNING id, v"}, // t's serial is seqshim's
		{sql: "SELECT nextval('sp'), nextval('{a}.only_a'), lastval()"},
		{sql: "SELECT lastval()"},
		{sql: "SELECT setval('sp', 100), nextval('sp')"},
		{mode: "exec", sql: "DISCARD TEMP"},
		{sql: "SELECT nextval('sp') AS after_discard_temp"},
		// A table is not a sequence.
		{sql: "SELECT nextval('t')"},
		// DISCARD ALL goes back to the DSN's too. (Last, and new texts:
		// it drops the statements pgx prepared.)
		{mode: "exec", sql: "SET search_path = {b}"},
		{mode: "exec", sql: "DISCARD ALL"},
		{sql: "SELECT nextval('sp') AS after_discard"},
		{sql: "INSERT INTO t (v) VALUES ('after discard') RETURNING id, v"},
	}
	for i := range steps {
		steps[i].sql = repl.Replace(steps[i].sql)
	}
	create()
	native := run(t, nativeDB, steps)
	drop()
	create()
	shim := run(t, e.shim, steps)
	for i, s := range steps {
		if native[i].String() != shim[i].String() {
			t.Errorf("step %d %s %q:\n  pgx:     %v\n  seqshim: %v", i, s.mode, s.sql, native[i], shim[i])
		}
	}
	// What the store holds is where each value came from.
	for key, want := range map[string]int64{sa + ".sp": 100, sb + ".sp": 500, sa + ".only_a": 10, sq + ".Up Seq": 7} {
		seq, err := e.store.Get(t.Context(), key)
		if err != nil || seq.Start != want {
			t.Errorf("store %s: %+v, %v; want it imported at %d", key, seq, err, want)
		}
	}
	var errs int
	for _, o := range native {
		if o.Code != "" {
			errs++
		}
	}
	if errs < 5 {
		t.Fatalf("script too weak: %d errors", errs)
	}
}

func sepFor(url string) string {
	if strings.Contains(url, "?") {
		return "&"
	}
	return "?"
}

// TestSearchPathConcurrent: connections that switch between two schemas
// with same-named sequences, while another keeps creating and dropping a
// sequence elsewhere (which makes every connection resolve again), draw
// each value from the schema their search_path names at that moment, and
// no value twice. Run it with -race.
func TestSearchPathConcurrent(t *testing.T) {
	e := newEnv(t)
	sa, sb, sc := testenv.UniqueName("cpa"), testenv.UniqueName("cpb"), testenv.UniqueName("cpc")
	for _, q := range []string{
		"CREATE SCHEMA " + sa, "CREATE SCHEMA " + sb, "CREATE SCHEMA " + sc,
		"CREATE SEQUENCE " + sa + ".sp", "CREATE SEQUENCE " + sb + ".sp START 1000000000",
	} {
		e.exec(e.native, q)
	}
	t.Cleanup(func() {
		for _, s := range []string{sa, sb, sc} {
			e.native.Exec("DROP SCHEMA IF EXISTS " + s + " CASCADE")
		}
	})
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	const workers, rounds, perRound = 6, 8, 25
	type draw struct {
		schema string
		v      int64
	}
	got := make([][]draw, workers)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() { // DDL elsewhere: every connection's resolutions are dropped
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := e.shim.ExecContext(ctx, fmt.Sprintf("CREATE SEQUENCE %s.other%d", sc, i)); err != nil {
				t.Error(err)
				return
			}
			if _, err := e.shim.ExecContext(ctx, fmt.Sprintf("DROP SEQUENCE %s.other%d", sc, i)); err != nil {
				t.Error(err)
				return
			}
		}
	})
	var draws sync.WaitGroup
	for w := range workers {
		draws.Go(func() {
			c, err := e.shim.Conn(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			for r := range rounds {
				schema := []string{sa, sb}[(w+r)%2]
				local := r%3 == 2 // SET LOCAL in a transaction
				var q interface {
					ExecContext(context.Context, string, ...any) (sql.Result, error)
					QueryRowContext(context.Context, string, ...any) *sql.Row
				} = c
				var tx *sql.Tx
				if local {
					if tx, err = c.BeginTx(ctx, nil); err != nil {
						t.Error(err)
						return
					}
					q = tx
					_, err = tx.ExecContext(ctx, "SET LOCAL search_path = "+schema)
				} else {
					_, err = c.ExecContext(ctx, "SET search_path = "+schema)
				}
				if err != nil {
					t.Error(err)
					return
				}
				for range perRound {
					var v int64
					if err := q.QueryRowContext(ctx, "SELECT nextval('sp')").Scan(&v); err != nil {
						t.Error(err)
						return
					}
					got[w] = append(got[w], draw{schema, v})
				}
				if tx != nil {
					if err := tx.Commit(); err != nil {
						t.Error(err)
						return
					}
					_, err = c.ExecContext(ctx, "SET search_path = "+[]string{sb, sa}[(w+r)%2])
					var v int64
					if err == nil {
						err = c.QueryRowContext(ctx, "SELECT nextval('sp')").Scan(&v)
					}
					if err != nil {
						t.Error(err)
						return
					}
					got[w] = append(got[w], draw{[]string{sb, sa}[(w+r)%2], v})
				}
			}
		})
	}
	draws.Wait()
	close(stop)
	wg.Wait()
	seen := map[int64]bool{}
	var n int
	for w, ds := range got {
		for _, d := range ds {
			n++
			if inB := d.v >= 1_000_000_000; inB != (d.schema == sb) {
				t.Fatalf("worker %d: %d drawn with search_path %s", w, d.v, d.schema)
			}
			if seen[d.v] {
				t.Fatalf("worker %d: %d drawn twice", w, d.v)
			}
			seen[d.v] = true
		}
	}
	if want := workers * (rounds*perRound + rounds/3); n != want {
		t.Fatalf("%d values, want %d", n, want)
	}
}

// TestSearchPathDefaults: the search_path a connection starts with, from
// the DSN's options=-c search_path=... or the role's default (ALTER ROLE
// ... SET search_path), resolves names through seqshim as it does for
// 'sp'::regclass on a native connection with the same DSN.
func TestSearchPathDefaults(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sa, sb, sc := testenv.UniqueName("dfa"), testenv.UniqueName("dfb"), testenv.UniqueName("dfc")
	role := testenv.UniqueName("dfrole")
	for _, q := range []string{
		"CREATE SCHEMA " + sa, "CREATE SCHEMA " + sb, "CREATE SCHEMA " + sc,
		"CREATE SEQUENCE " + sa + ".sp START 100", "CREATE SEQUENCE " + sb + ".sp START 500", "CREATE SEQUENCE " + sc + ".sp START 900",
		"CREATE ROLE " + role + " LOGIN",
		fmt.Sprintf("GRANT USAGE ON SCHEMA %s, %s, %s TO %s", sa, sb, sc, role),
		fmt.Sprintf("GRANT ALL ON ALL SEQUENCES IN SCHEMA %s TO %s", sc, role),
		fmt.Sprintf("ALTER ROLE %s SET search_path = %s, %s", role, sc, sa),
	} {
		e.exec(e.native, q)
	}
	t.Cleanup(func() {
		for _, s := range []string{sa, sb, sc} {
			e.native.Exec("DROP SCHEMA IF EXISTS " + s + " CASCADE")
		}
		e.native.Exec("DROP OWNED BY " + role)
		e.native.Exec("DROP ROLE IF EXISTS " + role)
	})
	check := func(what, nativeURL, shimURL, want string, wantValue int64) {
		t.Helper()
		var native string
		if err := open(t, "pgx", nativeURL).QueryRowContext(ctx, "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = 'sp'::regclass").Scan(&native); err != nil || native != want {
			t.Fatalf("%s: natively 'sp' is %q (%v), want %s", what, native, err, want)
		}
		var v int64
		if err := open(t, "seqshim", shimURL).QueryRowContext(ctx, "SELECT nextval('sp')").Scan(&v); err != nil || v != wantValue {
			t.Fatalf("%s: seqshim nextval('sp') = %d, %v; want %d from %s", what, v, err, wantValue, want)
		}
		if _, err := e.store.Get(ctx, want); err != nil {
			t.Fatalf("%s: the store lacks %s: %v", what, want, err)
		}
	}
	opt := "options=-c%20search_path%3D" + sb
	check("DSN options", e.url+sepFor(e.url)+opt, e.shimDSN("seqshim.import_gap=0", opt), sb+".sp", 500)
	roleURL := strings.Replace(e.url, "postgres://postgres@", "postgres://"+role+"@", 1)
	if roleURL == e.url {
		t.Skipf("DATABASE_URL %q is not postgres://postgres@...: cannot derive another user's URL", e.url)
	}
	// The role may not alter the sequence: the import goes ahead with the
	// default gap, uncapped, with a warning (see TestImportOneWithoutPrivilege).
	check("role default", roleURL, strings.Replace(e.shimDSN(), "postgres://postgres@", "postgres://"+role+"@", 1), sc+".sp", 900+1_000_000)
}

// TestStoreOnlyName: an unqualified name PostgreSQL has nowhere is looked
// up in seqshim.schema in the store (a sequence made with `seqshim
// create`); one PostgreSQL has, but off the path, is 42P01 as natively,
// never the store's.
func TestStoreOnlyName(t *testing.T) {
	e := newEnv(t, "search_path=pg_catalog")
	ctx := context.Background()
	sfx := e.ns[2:]
	only, hidden := "so_"+sfx, "hidden_"+sfx
	spec, err := seqcache.Define("public."+only, seqcache.Start(5))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.Create(ctx, spec); err != nil {
		t.Fatal(err)
	}
	e.sequence(hidden) // in PostgreSQL's public and in the store
	var v int64
	if err := e.shim.QueryRowContext(ctx, "SELECT nextval('"+only+"')").Scan(&v); err != nil || v != 5 {
		t.Fatalf("store-only sequence: %d, %v; want 5", v, err)
	}
	native := open(t, "pgx", e.url+sepFor(e.url)+"search_path=pg_catalog")
	for _, db := range []*sql.DB{native, e.shim} {
		_, err := db.ExecContext(ctx, "SELECT nextval('"+hidden+"')")
		var pg *pgconn.PgError
		if !errors.As(err, &pg) || pg.Code != "42P01" || pg.Message != fmt.Sprintf(`relation "%s" does not exist`, hidden) {
			t.Errorf("sequence off the path: %v, want PostgreSQL's 42P01", err)
		}
	}
}
