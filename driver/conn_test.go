package driver

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/seqshim/seqshim/rewrite"
	"github.com/seqshim/seqshim/seqcache"
)

// TestStatementWords: the statements the driver acts on, as the plan's
// facts tell them (comments and case included).
func TestStatementWords(t *testing.T) {
	p := rewrite.NewPlanner(rewrite.Options{})
	for q, want := range map[string]bool{
		"CREATE TABLE t (id serial)": true, "  alter table t": true, "(drop table t)": true,
		"Drop": true, "DELETE FROM t": false, "SELECT 1": false, "": false, "create": true,
		"/* migration 7 */ ALTER TABLE t ALTER id DROP DEFAULT": true, "-- x\ncreate index on t (a)": true,
		"SELECT 1; DROP TABLE t": true, "SELECT 'ALTER TABLE t'": false,
	} {
		if got := changesCatalog(p.Plan(q)); got != want {
			t.Errorf("changesCatalog(%q) = %v, want %v", q, got, want)
		}
	}
	for q, want := range map[string]bool{
		"DISCARD ALL": true, "discard  sequences ;": true, "DISCARD PLANS": false, "DISCARD": false, "SELECT 'DISCARD ALL'": false,
		"/* pool */ DISCARD ALL": true, "SELECT 1; discard sequences": true,
	} {
		if got := discardsSequences(p.Plan(q)); got != want {
			t.Errorf("discardsSequences(%q) = %v, want %v", q, got, want)
		}
	}
}

// fakeConn is a base connection that prepares every statement and runs
// it without a database, counting executions.
type fakeConn struct{ execs *int }

func (c fakeConn) Prepare(string) (driver.Stmt, error) { return fakeStmt(c), nil }
func (fakeConn) Close() error                          { return nil }
func (fakeConn) Begin() (driver.Tx, error)             { return nil, errors.New("fake") }

type fakeStmt struct{ execs *int }

func (fakeStmt) Close() error  { return nil }
func (fakeStmt) NumInput() int { return 0 }
func (s fakeStmt) Exec([]driver.Value) (driver.Result, error) {
	*s.execs++
	return driver.RowsAffected(0), nil
}
func (fakeStmt) Query([]driver.Value) (driver.Rows, error) { return nil, errors.New("fake") }

type fakeConnector struct{ execs *int }

func (c fakeConnector) Connect(context.Context) (driver.Conn, error) { return fakeConn(c), nil }
func (fakeConnector) Driver() driver.Driver                          { return nil }

// TestPreparedFacts: a prepared DISCARD forgets currval when executed, not
// when prepared, and a prepared DDL drops the table descriptions when
// executed; a statement sent directly acts the same (database/sql
// prepares it, since the base connection has no ExecContext).
func TestPreparedFacts(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Store = "memory://"
	cfg.Namespace = t.Name()
	execs := new(int)
	cn, err := NewConnector(fakeConnector{execs}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := cn.(*Connector)
	ctx := context.Background()
	spec, _ := seqcache.Define("public.s")
	if err := c.Cache().Create(ctx, spec); err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var v int64
	currval := func() error { return conn.QueryRowContext(ctx, "SELECT currval('s')").Scan(&v) }
	for _, discard := range []func() error{
		func() error {
			st, err := conn.PrepareContext(ctx, "/* pool */ discard SEQUENCES")
			if err != nil {
				return err
			}
			defer st.Close()
			if err := currval(); err != nil || v != 1 {
				return fmt.Errorf("currval after preparing DISCARD: %d, %v; want 1", v, err)
			}
			_, err = st.ExecContext(ctx)
			return err
		},
		func() error { _, err := conn.ExecContext(ctx, "-- reset\nDISCARD ALL"); return err },
	} {
		if err := conn.QueryRowContext(ctx, "SELECT setval('s', 1)").Scan(&v); err != nil || v != 1 {
			t.Fatalf("setval: %d, %v", v, err)
		}
		if err := discard(); err != nil {
			t.Fatal(err)
		}
		var pg *pgconn.PgError
		if err := currval(); !errors.As(err, &pg) || pg.Code != "55000" {
			t.Fatalf("currval after DISCARD: %d, %v; want 55000", v, err)
		}
	}
	for _, ddl := range []func() error{
		func() error {
			st, err := conn.PrepareContext(ctx, "/* m */ ALTER TABLE t ALTER id DROP DEFAULT")
			if err != nil {
				return err
			}
			defer st.Close()
			if n := len(c.catalog.tables); n != 1 {
				return fmt.Errorf("%d tables described after preparing DDL, want 1", n)
			}
			_, err = st.ExecContext(ctx)
			return err
		},
		func() error { _, err := conn.ExecContext(ctx, "/* m */ DROP TABLE t"); return err },
	} {
		c.catalog.tables["public.t"] = &rewrite.Table{}
		if err := ddl(); err != nil {
			t.Fatal(err)
		}
		if n := len(c.catalog.tables); n != 0 {
			t.Fatalf("%d tables still described after DDL", n)
		}
	}
	if *execs != 4 {
		t.Errorf("the base connection executed %d statements, want 4", *execs)
	}
}
