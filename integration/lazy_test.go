package integration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/seqshim/seqshim/internal/testenv"
)

// TestLazyImport: the first nextval of a sequence only PostgreSQL has
// imports it (store start = last_value + gap), caps PostgreSQL's own just
// below, and racing connections settle on one import.
func TestLazyImport(t *testing.T) {
	e := newEnv(t, "seqshim.import_gap=100")
	seq := "lazy_" + e.ns[2:]
	e.exec(e.native, "CREATE SEQUENCE "+seq)
	t.Cleanup(func() { e.native.Exec("DROP SEQUENCE IF EXISTS " + seq) })
	e.exec(e.native, fmt.Sprintf("SELECT setval('%s', 41)", seq))

	var wg sync.WaitGroup
	got := make([]int64, 8)
	for i := range got {
		wg.Go(func() {
			if err := e.shim.QueryRow(fmt.Sprintf("SELECT nextval('%s')", seq)).Scan(&got[i]); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	seen := map[int64]bool{}
	for _, v := range got {
		if v < 141 || v > 148 || seen[v] {
			t.Fatalf("values %v: want 141..148 once each", got)
		}
		seen[v] = true
	}
	var max int64
	if err := e.native.QueryRow("SELECT max_value FROM pg_sequences WHERE sequencename = $1", seq).Scan(&max); err != nil || max != 140 {
		t.Fatalf("PostgreSQL's cap: %d, %v; want MAXVALUE 140", max, err)
	}
	// The native side keeps the values below the cap, then fails loudly.
	for want := int64(42); want <= 140; want++ {
		var v int64
		if err := e.native.QueryRow(fmt.Sprintf("SELECT nextval('%s')", seq)).Scan(&v); err != nil || v != want {
			t.Fatalf("native nextval: %d, %v; want %d", v, err, want)
		}
	}
	_, err := e.native.Exec(fmt.Sprintf("SELECT nextval('%s')", seq))
	var pg *pgconn.PgError
	if !errors.As(err, &pg) || pg.Code != "2200H" {
		t.Fatalf("native past the cap: %v, want 2200H", err)
	}
}

// TestLazyImportOff: with seqshim.lazy_import=false a sequence the store
// lacks is 42P01, and PostgreSQL's is left alone.
func TestLazyImportOff(t *testing.T) {
	e := newEnv(t, "seqshim.lazy_import=false")
	seq := "nolazy_" + e.ns[2:]
	e.exec(e.native, "CREATE SEQUENCE "+seq)
	t.Cleanup(func() { e.native.Exec("DROP SEQUENCE IF EXISTS " + seq) })
	_, err := e.shim.ExecContext(context.Background(), fmt.Sprintf("SELECT nextval('%s')", seq))
	var pg *pgconn.PgError
	if !errors.As(err, &pg) || pg.Code != "42P01" {
		t.Fatalf("nextval without import: %v, want 42P01", err)
	}
	var max int64
	if err := e.native.QueryRow("SELECT max_value FROM pg_sequences WHERE sequencename = $1", seq).Scan(&max); err != nil || max != 9223372036854775807 {
		t.Fatalf("PostgreSQL's sequence was capped: %d, %v", max, err)
	}
}

// TestLazyImportErrors: an import that cannot be done reaches the caller
// with its own SQLSTATE, reason and fix, never as a store failure (08006):
// a lock timeout (55P03), no privilege to stop the sequence exactly
// (42501), a sequence with nothing left to hand over (2200H, as
// PostgreSQL's nextval).
func TestLazyImportErrors(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sfx := e.ns[2:]
	want := func(what string, err error, code string, parts ...string) {
		t.Helper()
		var pg *pgconn.PgError
		if !errors.As(err, &pg) || pg.Code != code {
			t.Errorf("%s: %v, want SQLSTATE %s", what, err, code)
			return
		}
		all := pg.Message + " | " + pg.Detail + " | " + pg.Hint
		for _, p := range parts {
			if !strings.Contains(all, p) {
				t.Errorf("%s: %q lacks %q", what, all, p)
			}
		}
	}

	// Nothing left: PostgreSQL's own answer.
	spent := "spent_" + sfx
	e.exec(e.native, fmt.Sprintf("CREATE SEQUENCE %s MAXVALUE 2; SELECT nextval('%[1]s'), nextval('%[1]s')", spent))
	t.Cleanup(func() { e.native.Exec("DROP SEQUENCE IF EXISTS " + spent) })
	_, err := e.shim.ExecContext(ctx, fmt.Sprintf("SELECT nextval('%s')", spent))
	want("exhausted", err, "2200H", fmt.Sprintf(`nextval: reached maximum value of sequence "%s" (2)`, spent), "nothing is left to hand over")

	// A transaction that called nextval holds the sequence's lock.
	held := "held_" + sfx
	e.exec(e.native, "CREATE SEQUENCE "+held)
	t.Cleanup(func() { e.native.Exec("DROP SEQUENCE IF EXISTS " + held) })
	tx, err := e.native.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(fmt.Sprintf("SELECT nextval('%s')", held)); err != nil {
		t.Fatal(err)
	}
	_, err = e.shim.ExecContext(ctx, fmt.Sprintf("SELECT nextval('%s')", held))
	tx.Rollback()
	want("lock held", err, "55P03", fmt.Sprintf(`seqshim: cannot import sequence "%s" from PostgreSQL: waiting for the sequence's lock`, held),
		"lock timeout", "a long transaction that called nextval on it holds its lock")
	var v int64
	if err := e.shim.QueryRow(fmt.Sprintf("SELECT nextval('%s')", held)).Scan(&v); err != nil || v != 1000001 {
		t.Errorf("after the transaction ended: %d, %v; want 1000001", v, err)
	}

	// A user who may not alter the sequence cannot hand it over exactly.
	role := testenv.UniqueName("lazyapp")
	priv := "priv_" + sfx
	e.exec(e.native, "CREATE SEQUENCE "+priv)
	e.exec(e.native, "CREATE ROLE "+role+" LOGIN")
	t.Cleanup(func() {
		e.native.Exec("DROP SEQUENCE IF EXISTS " + priv)
		e.native.Exec(fmt.Sprintf("DROP OWNED BY %s", role))
		e.native.Exec("DROP ROLE IF EXISTS " + role)
	})
	e.exec(e.native, fmt.Sprintf("GRANT SELECT, USAGE ON SEQUENCE %s TO %s", priv, role))
	appURL := strings.Replace(e.shimDSN("seqshim.import_gap=0"), "postgres://postgres@", "postgres://"+role+"@", 1)
	if !strings.HasPrefix(appURL, "postgres://"+role+"@") {
		t.Skipf("DATABASE_URL %q is not postgres://postgres@...: cannot derive another user's URL", e.url)
	}
	app := open(t, "seqshim", appURL)
	_, err = app.ExecContext(ctx, fmt.Sprintf("SELECT nextval('%s')", priv))
	want("no privilege", err, "42501", "cannot cap the database's sequence", "must be owner of sequence",
		fmt.Sprintf(`have the owner run: ALTER SEQUENCE "public"."%s" MAXVALUE 0`, priv))
	if _, err := e.store.Get(ctx, "public."+priv); sqlstate(err) != "42P01" {
		t.Errorf("store after the refused import: %v", err)
	}
}

// TestCurrvalBeforeImport: currval of a sequence PostgreSQL has and the
// store does not yet is 55000, as PostgreSQL answers before nextval; 42P01
// only for a sequence that exists nowhere. Neither imports it.
func TestCurrvalBeforeImport(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	seq := "cv_" + e.ns[2:]
	e.exec(e.native, "CREATE SEQUENCE "+seq)
	t.Cleanup(func() { e.native.Exec("DROP SEQUENCE IF EXISTS " + seq) })
	for _, q := range []string{"SELECT currval('%s')", "SELECT currval('public.%s')", "SELECT currval('%s'), lastval()"} {
		for _, db := range []*sql.DB{e.native, e.shim} {
			_, err := db.ExecContext(ctx, fmt.Sprintf(q, seq))
			var pg *pgconn.PgError
			if !errors.As(err, &pg) || pg.Code != "55000" || pg.Message != fmt.Sprintf(`currval of sequence "%s" is not yet defined in this session`, seq) {
				t.Errorf("%s: %v, want PostgreSQL's 55000", fmt.Sprintf(q, seq), err)
			}
		}
	}
	for _, db := range []*sql.DB{e.native, e.shim} {
		_, err := db.ExecContext(ctx, fmt.Sprintf("SELECT currval('public.nosuch_%s')", seq))
		var pg *pgconn.PgError
		if !errors.As(err, &pg) || pg.Code != "42P01" {
			t.Errorf("currval of no sequence: %v, want 42P01", err)
		}
	}
	if _, err := e.store.Get(ctx, "public."+seq); sqlstate(err) != "42P01" {
		t.Errorf("currval imported the sequence: %v", err)
	}
}

// TestCreatedAgain: a managed sequence dropped and created again through
// seqshim, alone or with its table, directly or in a transaction, keeps
// the store's values (seqshim goes on with them), and PostgreSQL's new
// sequence is capped below them at once: a native nextval fails with 2200H
// instead of handing out 1 again. A creation rolled back changes nothing.
func TestCreatedAgain(t *testing.T) {
	e := newEnv(t, "seqshim.import_gap=0")
	ctx := context.Background()
	sfx := e.ns[2:]
	seq, tbl := "again_"+sfx, "again_t_"+sfx
	t.Cleanup(func() {
		e.native.Exec("DROP SEQUENCE IF EXISTS " + seq)
		e.native.Exec("DROP TABLE IF EXISTS " + tbl)
	})
	shimExec := func(q string) {
		t.Helper()
		if _, err := e.shim.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	next := func(db *sql.DB, q string) (int64, string) {
		t.Helper()
		var v int64
		err := db.QueryRowContext(ctx, q).Scan(&v)
		return v, sqlstate(err)
	}
	nextval := "SELECT nextval('" + seq + "')"
	shimExec("CREATE SEQUENCE " + seq)
	for want := int64(1); want <= 2; want++ {
		if v, code := next(e.shim, nextval); v != want || code != "" {
			t.Fatalf("seqshim: %d %s, want %d", v, code, want)
		}
	}
	// Directly.
	shimExec("DROP SEQUENCE " + seq)
	shimExec("CREATE SEQUENCE " + seq)
	if v, code := next(e.native, nextval); code != "2200H" {
		t.Fatalf("native nextval of the sequence created again: %d %s, want 2200H", v, code)
	}
	if v, code := next(e.shim, nextval); v != 3 || code != "" {
		t.Fatalf("seqshim after the sequence was created again: %d %s, want 3", v, code)
	}
	// In a transaction that rolls back, then one that commits.
	for _, commit := range []bool{false, true} {
		tx, err := e.shim.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{"DROP SEQUENCE " + seq, "CREATE SEQUENCE " + seq + " START 10"} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if commit {
			err = tx.Commit()
		} else {
			err = tx.Rollback()
		}
		if err != nil {
			t.Fatal(err)
		}
		if v, code := next(e.native, nextval); code != "2200H" {
			t.Fatalf("commit %v: native nextval: %d %s, want 2200H", commit, v, code)
		}
	}
	if v, code := next(e.shim, nextval); v != 4 || code != "" {
		t.Fatalf("seqshim after the transactions: %d %s, want 4", v, code)
	}
	// With its table.
	insert := "INSERT INTO " + tbl + " DEFAULT VALUES RETURNING id"
	shimExec("CREATE TABLE " + tbl + " (id serial PRIMARY KEY)")
	if v, code := next(e.shim, insert); v != 1 || code != "" {
		t.Fatalf("seqshim insert: %d %s, want 1", v, code)
	}
	shimExec("DROP TABLE " + tbl)
	shimExec("CREATE TABLE " + tbl + " (id serial PRIMARY KEY)")
	if v, code := next(e.native, insert); code != "2200H" {
		t.Fatalf("native insert into the table created again: %d %s, want 2200H", v, code)
	}
	if v, code := next(e.shim, insert); v != 2 || code != "" {
		t.Fatalf("seqshim insert into the table created again: %d %s, want 2", v, code)
	}
}

// TestDottedNames: a dot inside a quoted sequence name is part of the
// name; a schema whose name holds a dot is refused with 0A000, since the
// store key "schema.name" could be another sequence's; nothing is imported.
func TestDottedNames(t *testing.T) {
	e := newEnv(t, "seqshim.import_gap=0")
	ctx := context.Background()
	plain, dotted := testenv.UniqueName("dn"), testenv.UniqueName("dn")+".x"
	for _, q := range []string{
		"CREATE SCHEMA " + plain, `CREATE SCHEMA "` + dotted + `"`,
		`CREATE SEQUENCE ` + plain + `."a.b" START 7`, `CREATE SEQUENCE "` + dotted + `".s`,
	} {
		e.exec(e.native, q)
	}
	t.Cleanup(func() {
		e.native.Exec("DROP SCHEMA IF EXISTS " + plain + " CASCADE")
		e.native.Exec(`DROP SCHEMA IF EXISTS "` + dotted + `" CASCADE`)
	})
	var v int64
	if err := e.shim.QueryRowContext(ctx, `SELECT nextval('`+plain+`."a.b"')`).Scan(&v); err != nil || v != 7 {
		t.Fatalf(`nextval of "a.b": %d, %v; want 7`, v, err)
	}
	if _, err := e.store.Get(ctx, plain+".a.b"); err != nil {
		t.Errorf("store: %v", err)
	}
	c, err := e.shim.Conn(ctx) // one session: SET, then the name it resolves
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, q := range []string{`SELECT nextval('"` + dotted + `".s')`, `SET search_path = "` + dotted + `"`, `SELECT nextval('s')`} {
		_, err := c.ExecContext(ctx, q)
		if strings.HasPrefix(q, "SET") {
			if err != nil {
				t.Fatal(err)
			}
			continue
		}
		var pg *pgconn.PgError
		if !errors.As(err, &pg) || pg.Code != "0A000" || !strings.Contains(pg.Message, "schema whose name holds a dot") {
			t.Errorf("%s: %v, want 0A000", q, err)
		}
	}
	if _, err := e.store.Get(ctx, dotted+".s"); sqlstate(err) != "42P01" {
		t.Errorf("the dotted schema's sequence was imported: %v", err)
	}
}
