package integration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/seqshim/seqshim/driver"
	"github.com/seqshim/seqshim/dynamo"
	"github.com/seqshim/seqshim/internal/testenv"
	"github.com/seqshim/seqshim/seqcache"
)

// myEnv is one test's MariaDB services: native go-sql-driver/mysql,
// seqshim-mysql on DynamoDB in a namespace of the test's own, and the
// store behind it.
type myEnv struct {
	t      testing.TB
	dsn    string
	ns     string
	store  *dynamo.Store
	native *sql.DB
	shim   *sql.DB
}

func newMyEnv(t testing.TB, params ...string) *myEnv {
	t.Helper()
	dsn := testenv.MariaDBDSN(t)
	cfg := testenv.AWSConfig(t)
	ns := testenv.UniqueName("my")
	store, err := dynamo.New(cfg, dynamo.Options{Table: table, Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureTable(context.Background()); err != nil {
		t.Fatal(err)
	}
	e := &myEnv{t: t, dsn: dsn, ns: ns, store: store}
	e.native = open(t, "mysql", dsn)
	e.shim = open(t, "seqshim-mysql", e.shimDSN(params...))
	return e
}

func (e *myEnv) shimDSN(params ...string) string {
	sep := "?"
	if strings.Contains(e.dsn, "?") {
		sep = "&"
	}
	all := append([]string{"seqshim.store=dynamodb://" + table, "seqshim.namespace=" + e.ns, "seqshim.block_size=1"}, params...)
	return e.dsn + sep + strings.Join(all, "&")
}

// sequence creates a sequence with a fresh name in MariaDB and, with the
// same parameters, in the store (as test.<name>); it returns the name.
func (e *myEnv) sequence(prefix string, opts ...seqcache.Option) string {
	e.t.Helper()
	name := testenv.UniqueName(prefix)
	spec, err := seqcache.Define("test."+name, opts...)
	if err != nil {
		e.t.Fatal(err)
	}
	cycle := "NOCYCLE"
	if spec.Cycle {
		cycle = "CYCLE"
	}
	e.exec(e.native, fmt.Sprintf("CREATE SEQUENCE %s START WITH %d INCREMENT BY %d MINVALUE %d MAXVALUE %d CACHE %d %s",
		name, spec.Start, spec.Increment, max(spec.MinValue, -9223372036854775807), min(spec.MaxValue, 9223372036854775806), spec.Cache, cycle))
	e.t.Cleanup(func() { e.native.Exec("DROP SEQUENCE IF EXISTS " + name) })
	if err := e.store.Create(context.Background(), spec); err != nil {
		e.t.Fatal(err)
	}
	return name
}

// storeSequence creates the store's sequence key with PostgreSQL's
// defaults (start 1), as `seqshim import` with an exact handover would.
func (e *myEnv) storeSequence(key string, opts ...seqcache.Option) {
	e.t.Helper()
	spec, err := seqcache.Define(key, opts...)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.store.Create(context.Background(), spec); err != nil {
		e.t.Fatal(err)
	}
}

// seqcacheCache is the option list of a sequence with CACHE n.
func seqcacheCache(n int64) []seqcache.Option { return []seqcache.Option{seqcache.CacheSize(n)} }

// spec returns the store's definition of the test sequence name.
func (e *myEnv) spec(name string) seqcache.Spec {
	e.t.Helper()
	seq, err := e.store.Get(context.Background(), "test."+name)
	if err != nil {
		e.t.Fatal(err)
	}
	return seq.Spec
}

func (e *myEnv) exec(db *sql.DB, query string, args ...any) {
	e.t.Helper()
	if _, err := db.Exec(query, args...); err != nil {
		e.t.Fatalf("%s: %v", query, err)
	}
}

// answer is what a statement returned, in a form two drivers can be
// compared by.
type answer struct {
	Cols     []string
	Types    []string
	Nullable []bool
	Rows     [][]any
	Err      string // number, SQLSTATE and message of a *mysql.MySQLError
}

func (a answer) String() string {
	if a.Err != "" {
		return "error " + a.Err
	}
	return fmt.Sprintf("cols %q types %v nullable %v rows %v", a.Cols, a.Types, a.Nullable, a.Rows)
}

func ask(t testing.TB, c *sql.Conn, query string, args ...any) answer {
	t.Helper()
	rows, err := c.QueryContext(context.Background(), query, args...)
	if err != nil {
		return answer{Err: myErrText(t, query, err)}
	}
	defer rows.Close()
	var a answer
	cts, err := rows.ColumnTypes()
	if err != nil {
		t.Fatal(err)
	}
	for _, ct := range cts {
		n, _ := ct.Nullable()
		a.Cols, a.Types, a.Nullable = append(a.Cols, ct.Name()), append(a.Types, ct.DatabaseTypeName()), append(a.Nullable, n)
	}
	for rows.Next() {
		vals := make([]any, len(cts))
		ptrs := make([]any, len(cts))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		a.Rows = append(a.Rows, vals)
	}
	if err := rows.Err(); err != nil {
		return answer{Err: myErrText(t, query, err)}
	}
	return a
}

func myErrText(t testing.TB, query string, err error) string {
	t.Helper()
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		t.Fatalf("%s: %v is not a *mysql.MySQLError", query, err)
	}
	return fmt.Sprintf("%d %s %s", me.Number, me.SQLState[:], me.Message)
}

// myStep is one statement of a differential script; {s} stands for the
// script's sequence.
type myStep struct {
	sql  string
	args []any
}

// TestMariaDBDifferential runs each script through native MariaDB
// sequences and through seqshim-mysql on one connection each, and
// compares every answer: values, column names, types, nullability,
// errors.
func TestMariaDBDifferential(t *testing.T) {
	e := newMyEnv(t)
	for _, sc := range []struct {
		name  string
		opts  []seqcache.Option
		steps []myStep
	}{
		{"nextval and lastval", nil, []myStep{
			{sql: "SELECT LASTVAL({s}), PREVIOUS VALUE FOR {s}"},
			{sql: "SELECT NEXTVAL({s})"},
			{sql: "select   nextval({s})   ,  NEXTVAL  ( {s} ) , next value for {s}"},
			{sql: "SELECT NEXTVAL({s}) AS id, lastval({s}) `l`, previous value for test.{s} 'p' FROM DUAL"},
			{sql: "/* c */ SELECT lastval(test.{s}) # c"},
			{sql: "SELECT NEXTVAL({s}), 1 AS one"},
			{sql: "SELECT NEXTVAL({s}) + 0, ? AS a", args: []any{7}},
			{sql: "SELECT (NEXTVAL({s}))"},
			{sql: "SET @v = NEXT VALUE FOR {s}"},
			{sql: "SELECT @v, @v + 1 AS w"},
			{sql: "DO NEXTVAL({s})"},
			{sql: "SELECT PREVIOUS VALUE FOR {s}"},
			{sql: "SELECT NEXTVAL({s}) UNION ALL SELECT 5"},
		}},
		{"setval", nil, []myStep{
			{sql: "SELECT NEXTVAL({s}), NEXTVAL({s}), NEXTVAL({s})"},
			{sql: "SELECT SETVAL({s}, 100)"},
			{sql: "SELECT NEXTVAL({s})"},
			{sql: "SELECT SETVAL({s}, 50)"},
			{sql: "SELECT SETVAL({s}, 50, 0), LASTVAL({s})"},
			{sql: "SELECT NEXTVAL({s})"},
			{sql: "SELECT SETVAL({s}, 1000, 0)"},
			{sql: "SELECT NEXTVAL({s})"},
			{sql: "SELECT setval({s}, ?, ?)", args: []any{2000, 1}}, // MariaDB's syntax error
			{sql: "SELECT NEXTVAL({s})"},
		}},
		{"run out", []seqcache.Option{seqcache.MaxValue(3)}, []myStep{
			{sql: "SELECT NEXTVAL({s}), NEXTVAL({s}), NEXTVAL({s})"},
			{sql: "SELECT NEXTVAL({s})"},
			{sql: "SELECT LASTVAL({s})"},
			{sql: "SELECT NEXTVAL({s}) + 0, ? AS a", args: []any{1}},
			{sql: "SELECT SETVAL({s}, 1)"},
			{sql: "SELECT SETVAL({s}, 100)"},
		}},
		{"cycle", []seqcache.Option{seqcache.Start(2), seqcache.MaxValue(3), seqcache.Cycle()}, []myStep{
			{sql: "SELECT NEXTVAL({s}), NEXTVAL({s}), NEXTVAL({s}), NEXTVAL({s})"},
		}},
		{"descending", []seqcache.Option{seqcache.Increment(-2)}, []myStep{
			{sql: "SELECT NEXTVAL({s}), NEXTVAL({s})"},
			{sql: "SELECT SETVAL({s}, -11)"},
			{sql: "SELECT NEXTVAL({s})"},
			{sql: "SELECT SETVAL({s}, -1)"},
		}},
		{"unknown", nil, []myStep{
			{sql: "SELECT NEXTVAL(nosuch_{s})"},
			{sql: "SELECT LASTVAL(nosuch_{s})"},
			{sql: "SELECT SETVAL(nosuch_{s}, 5)"},
			{sql: "SELECT next value for test.nosuch_{s}"},
		}},
	} {
		t.Run(sc.name, func(t *testing.T) {
			s := e.sequence("s", sc.opts...)
			ctx := context.Background()
			nc, err := e.native.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			sc2, err := e.shim.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer sc2.Close()
			// seqshim first: MariaDB's own sequence must not move.
			var got []answer
			for _, st := range sc.steps {
				got = append(got, ask(t, sc2, strings.ReplaceAll(st.sql, "{s}", s), st.args...))
			}
			var untouched sql.NullInt64
			if err := e.native.QueryRow("SELECT next_not_cached_value FROM " + s).Scan(&untouched); err != nil {
				t.Fatal(err)
			}
			if start := e.spec(s).Start; untouched.Int64 != start {
				t.Fatalf("seqshim moved MariaDB's own sequence %s: next_not_cached_value %d, want %d", s, untouched.Int64, start)
			}
			for i, st := range sc.steps {
				q := strings.ReplaceAll(st.sql, "{s}", s)
				if want := ask(t, nc, q, st.args...); !reflect.DeepEqual(got[i], want) {
					t.Errorf("%s\n  seqshim: %v\n  MariaDB: %v", q, got[i], want)
				}
			}
		})
	}
}

// TestMariaDBBind checks statements whose calls become placeholders among
// the caller's: each value lands in its own column, and a prepared
// statement draws fresh values on each execution.
func TestMariaDBBind(t *testing.T) {
	e := newMyEnv(t)
	s := e.sequence("b")
	tbl := testenv.UniqueName("t")
	e.exec(e.native, "CREATE TABLE "+tbl+" (id BIGINT PRIMARY KEY, a INT, b VARCHAR(10))")
	t.Cleanup(func() { e.native.Exec("DROP TABLE IF EXISTS " + tbl) })
	e.exec(e.shim, "INSERT INTO "+tbl+" (a, id, b) VALUES (?, NEXTVAL("+s+"), ?), (?, next value for "+s+", ?)", 10, "x", 20, "y")
	st, err := e.shim.Prepare("INSERT INTO " + tbl + " SET b = ?, id = NEXTVAL(" + s + "), a = ?")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i := range 2 {
		if _, err := st.Exec(fmt.Sprint("p", i), 30+i); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := e.native.Query("SELECT id, a, b FROM " + tbl + " ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id, a int64
		var b string
		if err := rows.Scan(&id, &a, &b); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%d/%d/%s", id, a, b))
	}
	want := []string{"1/10/x", "2/20/y", "3/30/p0", "4/31/p1"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("rows %q, want %q", got, want)
	}
	var untouched int64
	if err := e.native.QueryRow("SELECT next_not_cached_value FROM " + s).Scan(&untouched); err != nil || untouched != 1 {
		t.Fatalf("MariaDB's own sequence moved: %d, %v", untouched, err)
	}
}

// TestMariaDBRefused checks that a call evaluated per row fails with
// MariaDB's "not supported" error naming the statement part and the way
// out, and leaves MariaDB's own sequence alone.
func TestMariaDBRefused(t *testing.T) {
	e := newMyEnv(t)
	s := e.sequence("r")
	_, err := e.shim.Exec("UPDATE " + s + "_nosuch SET id = NEXTVAL(" + s + ")")
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1235 || string(me.SQLState[:]) != "42000" ||
		!strings.Contains(me.Message, "once per row in UPDATE") || !strings.Contains(me.Message, "pass them as parameters") {
		t.Fatalf("error %v, want 1235 42000 naming UPDATE and the way out", err)
	}
	var n int64
	if err := e.native.QueryRow("SELECT next_not_cached_value FROM " + s).Scan(&n); err != nil || n != 1 {
		t.Fatalf("MariaDB's own sequence moved: %d, %v", n, err)
	}
}

// TestMariaDBAutoIncrement runs the same INSERTs on a native
// AUTO_INCREMENT table and on one whose AUTO_INCREMENT seqshim manages
// (its sequence in the store, as an exact handover leaves it), and
// compares the ids, Result.LastInsertId, RowsAffected and LAST_INSERT_ID().
func TestMariaDBAutoIncrement(t *testing.T) {
	e := newMyEnv(t)
	ctx := context.Background()
	native, shim := testenv.UniqueName("an"), testenv.UniqueName("as")
	for _, tbl := range []string{native, shim} {
		e.exec(e.native, "CREATE TABLE "+tbl+" (id BIGINT AUTO_INCREMENT PRIMARY KEY, v INT)")
		t.Cleanup(func() { e.native.Exec("DROP TABLE IF EXISTS " + tbl) })
	}
	spec, err := seqcache.Define("test." + shim)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.Create(ctx, spec); err != nil {
		t.Fatal(err)
	}
	steps := []myStep{
		{sql: "INSERT INTO {t} (v) VALUES (1), (2), (3)"},
		{sql: "INSERT INTO {t} (id, v) VALUES (NULL, 4)"},
		{sql: "INSERT INTO {t} (id, v) VALUES (0, 5), (DEFAULT, 6)"},
		{sql: "INSERT INTO {t} SET v = 7"},
		{sql: "INSERT INTO {t} VALUES (NULL, 8)"},
		{sql: "INSERT INTO {t} (v) VALUES (?), (?)", args: []any{9, 10}},
		{sql: "INSERT INTO {t} (id, v) VALUES (?, ?)", args: []any{50, 11}}, // explicit: both keep LAST_INSERT_ID
		{sql: "SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')"},
		{sql: "INSERT INTO {t} (id, v) VALUES (0, 12)"},
	}
	run := func(db *sql.DB, tbl string) []string {
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var out []string
		for _, st := range steps {
			q := strings.ReplaceAll(st.sql, "{t}", tbl)
			res, err := c.ExecContext(ctx, q, st.args...)
			if err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			id, _ := res.LastInsertId()
			n, _ := res.RowsAffected()
			var last int64
			if err := c.QueryRowContext(ctx, "SELECT LAST_INSERT_ID()").Scan(&last); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%s: LastInsertId %d RowsAffected %d LAST_INSERT_ID() %d", st.sql, id, n, last))
		}
		rows, err := c.QueryContext(ctx, "SELECT id, v FROM "+tbl+" ORDER BY v")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var id, v int64
			if err := rows.Scan(&id, &v); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("row v=%d id=%d", v, id))
		}
		return out
	}
	want, got := run(e.native, native), run(e.shim, shim)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("seqshim:\n  %s\nMariaDB:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	seq, err := e.store.Get(ctx, "test."+shim)
	if err != nil || seq.Next < 11 {
		t.Fatalf("the store did not give the ids: %+v, %v", seq, err)
	}
}

// TestMariaDBAutoIncrementFromStore checks that the ids come from the
// store, not from MariaDB's counter, and what cannot be done is refused.
func TestMariaDBAutoIncrementFromStore(t *testing.T) {
	e := newMyEnv(t)
	ctx := context.Background()
	tbl := testenv.UniqueName("af")
	e.exec(e.native, "CREATE TABLE "+tbl+" (id BIGINT AUTO_INCREMENT PRIMARY KEY, v INT)")
	t.Cleanup(func() { e.native.Exec("DROP TABLE IF EXISTS " + tbl) })
	spec, err := seqcache.Define("test."+tbl, seqcache.Start(1000))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.Create(ctx, spec); err != nil {
		t.Fatal(err)
	}
	res, err := e.shim.Exec("INSERT INTO "+tbl+" (v) VALUES (?), (?)", 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := res.LastInsertId(); id != 1000 {
		t.Fatalf("LastInsertId %d, want 1000", id)
	}
	var ids []int64
	rows, err := e.native.Query("SELECT id FROM " + tbl + " ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	if !reflect.DeepEqual(ids, []int64{1000, 1001}) {
		t.Fatalf("ids %v, want [1000 1001]", ids)
	}
	for _, c := range []struct {
		sql  string
		args []any
		want string
	}{
		{"INSERT INTO " + tbl + " (v) SELECT 3", nil, "INSERT ... SELECT"},
		{"INSERT INTO " + tbl + " (id, v) VALUES (?, 4)", []any{nil}, "leave the column out"},
	} {
		_, err := e.shim.Exec(c.sql, c.args...)
		var me *mysql.MySQLError
		if !errors.As(err, &me) || me.Number != 1235 || !strings.Contains(me.Message, c.want) {
			t.Errorf("%s: %v, want 1235 saying %q", c.sql, err, c.want)
		}
	}
}

// TestMariaDBAutoIncrementConsecutive inserts rows several at a time from
// concurrent goroutines: each INSERT's ids are consecutive from its
// LastInsertId, as MariaDB gives them and as GORM computes them, even
// when a statement's rows would straddle two blocks of the cache; no id
// repeats (the primary key would say so).
func TestMariaDBAutoIncrementConsecutive(t *testing.T) {
	e := newMyEnv(t)
	ctx := context.Background()
	tbl := testenv.UniqueName("ac")
	e.exec(e.native, "CREATE TABLE "+tbl+" (id BIGINT AUTO_INCREMENT PRIMARY KEY, g INT, k INT, r INT)")
	t.Cleanup(func() { e.native.Exec("DROP TABLE IF EXISTS " + tbl) })
	spec, err := seqcache.Define("test." + tbl)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.Create(ctx, spec); err != nil {
		t.Fatal(err)
	}
	// Two caches on one store (a cache is per store and block size), as
	// two processes would be: their blocks interleave in the store.
	shims := []*sql.DB{open(t, "seqshim-mysql", e.shimDSN("seqshim.block_size=10")), open(t, "seqshim-mysql", e.shimDSN("seqshim.block_size=7"))}
	const goroutines, inserts = 4, 20
	firsts := make([][]int64, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range inserts {
				res, err := shims[g%2].Exec("INSERT INTO "+tbl+" (g, k, r) VALUES (?, ?, 0), (?, ?, 1), (?, ?, 2)", g, k, g, k, g, k)
				if err != nil {
					t.Error(err)
					return
				}
				id, err := res.LastInsertId()
				if err != nil {
					t.Error(err)
					return
				}
				firsts[g] = append(firsts[g], id)
			}
		}()
	}
	wg.Wait()
	rows, err := e.native.Query("SELECT id, g, k, r FROM " + tbl)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id, g, k, r int64
		if err := rows.Scan(&id, &g, &k, &r); err != nil {
			t.Fatal(err)
		}
		if want := firsts[g][k] + r; id != want {
			t.Errorf("goroutine %d insert %d row %d: id %d, want %d (LastInsertId + row)", g, k, r, id, want)
		}
		n++
	}
	if n != goroutines*inserts*3 {
		t.Fatalf("%d rows, want %d", n, goroutines*inserts*3)
	}
}

// TestMariaDBExecLocal compares Exec of statements seqshim answers in
// process with MariaDB's: the result (0 rows affected, insert id 0) and
// the sequence's next value.
func TestMariaDBExecLocal(t *testing.T) {
	e := newMyEnv(t)
	s := e.sequence("x")
	for _, db := range []*sql.DB{e.shim, e.native} {
		res, err := db.Exec("SELECT NEXTVAL(" + s + ")")
		if err != nil {
			t.Fatal(err)
		}
		n, err1 := res.RowsAffected()
		id, err2 := res.LastInsertId()
		if n != 0 || id != 0 || err1 != nil || err2 != nil {
			t.Errorf("Exec: RowsAffected %d, %v; LastInsertId %d, %v; want 0, 0 as MariaDB", n, err1, id, err2)
		}
		var v int64
		if err := db.QueryRow("SELECT NEXTVAL(" + s + ")").Scan(&v); err != nil || v != 2 {
			t.Errorf("NEXTVAL after Exec = %d, %v; want 2", v, err)
		}
	}
}

// TestMariaDBNewConnector opens seqshim-mysql with sql.OpenDB over
// go-sql-driver/mysql's connector; it shares the cache of the registered
// drivers for the same store.
func TestMariaDBNewConnector(t *testing.T) {
	e := newMyEnv(t)
	s := e.sequence("nc")
	mcfg, err := mysql.ParseDSN(e.dsn)
	if err != nil {
		t.Fatal(err)
	}
	base, err := mysql.NewConnector(mcfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg := driver.DefaultConfig()
	cfg.Store, cfg.Namespace, cfg.Schema, cfg.BlockSize = "dynamodb://"+table, e.ns, mcfg.DBName, 1
	c, err := driver.NewMySQLConnector(base, cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	defer db.Close()
	var v int64
	if err := db.QueryRow("SELECT NEXTVAL(" + s + ")").Scan(&v); err != nil || v != 1 {
		t.Fatalf("NEXTVAL = %d, %v", v, err)
	}
	viaDB, err := driver.CacheOf(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	viaShim, err := driver.CacheOf(context.Background(), e.shim)
	if err != nil {
		t.Fatal(err)
	}
	if viaDB != viaShim {
		t.Error("sql.OpenDB(NewMySQLConnector) and sql.Open(\"seqshim-mysql\") on one store have two caches")
	}
	cfg.Schema = ""
	if _, err := driver.NewMySQLConnector(base, cfg); err == nil {
		t.Error("NewMySQLConnector without Schema: no error")
	}
}

// TestMariaDBUse: after USE, unqualified names are in the new database, as
// MariaDB resolves them, for sequence calls and for AUTO_INCREMENT tables.
func TestMariaDBUse(t *testing.T) {
	e := newMyEnv(t)
	ctx := context.Background()
	other := testenv.UniqueName("seqshim_db")
	e.exec(e.native, "CREATE DATABASE "+other)
	t.Cleanup(func() { e.native.Exec("DROP DATABASE IF EXISTS " + other) })
	s := testenv.UniqueName("u")
	for key, start := range map[string]int64{"test." + s: 1, other + "." + s: 500, other + ".t": 700} {
		spec, err := seqcache.Define(key, seqcache.Start(start))
		if err != nil {
			t.Fatal(err)
		}
		if err := e.store.Create(ctx, spec); err != nil {
			t.Fatal(err)
		}
	}
	e.exec(e.native, "CREATE TABLE "+other+".t (id BIGINT AUTO_INCREMENT PRIMARY KEY, v INT)")
	c, err := e.shim.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	next := func() int64 {
		t.Helper()
		var v int64
		if err := c.QueryRowContext(ctx, "SELECT NEXTVAL("+s+")").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := next(); v != 1 {
		t.Fatalf("before USE: %d, want 1 (test.%s)", v, s)
	}
	if _, err := c.ExecContext(ctx, "USE "+other); err != nil {
		t.Fatal(err)
	}
	if v := next(); v != 500 {
		t.Fatalf("after USE %s: %d, want 500 (%s.%s)", other, v, other, s)
	}
	res, err := c.ExecContext(ctx, "INSERT INTO t (v) VALUES (?)", 1)
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := res.LastInsertId(); id != 700 {
		t.Fatalf("INSERT INTO t after USE: id %d, want 700 from %s.t", id, other)
	}
	if _, err := c.ExecContext(ctx, "USE test"); err != nil {
		t.Fatal(err)
	}
	if v := next(); v != 2 {
		t.Fatalf("after USE test: %d, want 2", v)
	}
}

// TestMariaDBLazyImport: a MariaDB sequence the store lacks is imported on
// its first NEXTVAL (store past next_not_cached_value by the gap, MariaDB
// capped below), as on PostgreSQL; the name of a table is MariaDB's 4089
// and is not imported.
func TestMariaDBLazyImport(t *testing.T) {
	e := newMyEnv(t, "seqshim.import_gap=100")
	s, tbl := testenv.UniqueName("lz"), testenv.UniqueName("lt")
	e.exec(e.native, "CREATE SEQUENCE "+s+" CACHE 1")
	e.exec(e.native, "CREATE TABLE "+tbl+" (id INT AUTO_INCREMENT PRIMARY KEY)")
	t.Cleanup(func() { e.native.Exec("DROP SEQUENCE IF EXISTS " + s); e.native.Exec("DROP TABLE IF EXISTS " + tbl) })
	e.exec(e.native, "DO NEXTVAL("+s+"), NEXTVAL("+s+")")
	var v int64
	if err := e.shim.QueryRow("SELECT NEXTVAL(" + s + ")").Scan(&v); err != nil || v != 102 {
		t.Fatalf("first NEXTVAL through seqshim = %d, %v; want 102 (last value 2 + gap 100)", v, err)
	}
	var max int64
	if err := e.native.QueryRow("SELECT maximum_value FROM " + s).Scan(&max); err != nil || max != 101 {
		t.Fatalf("MariaDB's cap: %d, %v; want 101", max, err)
	}
	ctx := context.Background()
	nc, err := e.native.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	sc, err := e.shim.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	q := "SELECT NEXTVAL(" + tbl + ")"
	if got, want := ask(t, sc, q), ask(t, nc, q); !reflect.DeepEqual(got, want) || !strings.HasPrefix(want.Err, "4089 ") {
		t.Errorf("%s\n  seqshim: %v\n  MariaDB: %v", q, got, want)
	}
	if _, err := e.store.Get(ctx, "test."+tbl); err == nil {
		t.Errorf("NEXTVAL of a table imported it")
	}
}
