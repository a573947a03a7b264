package integration

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/seqshim/seqshim/seqcache"
)

// TestPassThroughFidelity runs statements without sequence calls through
// both drivers: values of every common type come back identical.
func TestPassThroughFidelity(t *testing.T) {
	e := newEnv(t)
	tbl := "pt_" + e.ns[2:]
	e.exec(e.native, fmt.Sprintf(`CREATE TABLE %s (id int PRIMARY KEY, arr int8[], doc jsonb, amount numeric(12,3),
		at timestamptz, d date, note text, flag bool, raw bytea)`, tbl))
	t.Cleanup(func() { e.native.Exec("DROP TABLE IF EXISTS " + tbl) })
	at := time.Date(2026, 11, 26, 18, 30, 15, 123456000, time.UTC)
	for i, db := range []*sql.DB{e.native, e.shim} {
		_, err := db.Exec(fmt.Sprintf("INSERT INTO %s VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)", tbl),
			i+1, []int64{1, 2, 3}, `{"nextval": "s", "n": [1, 2]}`, "1234.567", at, at, nil, true, []byte{0, 1, 255})
		if err != nil {
			t.Fatalf("insert through %d: %v", i, err)
		}
	}
	query := fmt.Sprintf("SELECT arr, doc, amount, at, d, note, flag, raw FROM %s WHERE id = $1", tbl)
	var got [2]string
	for i, db := range []*sql.DB{e.native, e.shim} {
		rows, err := db.Query(query, 1)
		if err != nil {
			t.Fatal(err)
		}
		o := collect(rows)
		got[i] = o.String()
	}
	if got[0] != got[1] {
		t.Fatalf("pgx: %s\nseqshim: %s", got[0], got[1])
	}
	if !strings.Contains(got[1], "1234.567") || !strings.Contains(got[1], "<nil>") || !strings.Contains(got[1], "NUMERIC") {
		t.Fatalf("unexpected row %s", got[1])
	}
	// A row written through seqshim reads back the same through pgx.
	var arr []int64
	var doc string
	err := e.native.QueryRow(fmt.Sprintf("SELECT arr, doc::text FROM %s WHERE id = 2", tbl)).Scan(stdlibArray(&arr), &doc)
	if err != nil || len(arr) != 3 || arr[2] != 3 || doc != `{"n": [1, 2], "nextval": "s"}` {
		t.Fatalf("row written through seqshim: %v %q %v", arr, doc, err)
	}
}

// stdlibArray scans a PostgreSQL array through pgx's type map.
func stdlibArray(dst *[]int64) any { return pgtype.NewMap().SQLScanner(dst) }

// TestRawCopyFrom reaches *stdlib.Conn through sql.Conn.Raw and Unwrap,
// and copies rows in with pgx's CopyFrom.
func TestRawCopyFrom(t *testing.T) {
	e := newEnv(t)
	tbl := "cp_" + e.ns[2:]
	e.exec(e.native, fmt.Sprintf("CREATE TABLE %s (id int8, v text)", tbl))
	t.Cleanup(func() { e.native.Exec("DROP TABLE IF EXISTS " + tbl) })
	ctx := context.Background()
	c, err := e.shim.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var copied int64
	err = c.Raw(func(dc any) error {
		u, ok := dc.(interface{ Unwrap() driver.Conn })
		if !ok {
			return fmt.Errorf("%T has no Unwrap", dc)
		}
		sc, ok := u.Unwrap().(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("Unwrap gives %T, want *stdlib.Conn", u.Unwrap())
		}
		copied, err = sc.Conn().CopyFrom(ctx, pgx.Identifier{tbl}, []string{"id", "v"},
			pgx.CopyFromRows([][]any{{int64(1), "a"}, {int64(2), "b"}, {int64(3), nil}}))
		return err
	})
	if err != nil || copied != 3 {
		t.Fatalf("CopyFrom: %d rows, %v", copied, err)
	}
	var n int
	if err := e.shim.QueryRow("SELECT count(*) FROM " + tbl).Scan(&n); err != nil || n != 3 {
		t.Fatalf("count after copy: %d, %v", n, err)
	}
}

// TestCancelLongQuery cancels pg_sleep through seqshim as through pgx.
func TestCancelLongQuery(t *testing.T) {
	e := newEnv(t)
	for _, db := range []*sql.DB{e.native, e.shim} {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		start := time.Now()
		_, err := db.ExecContext(ctx, "SELECT pg_sleep(10)")
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("pg_sleep past the deadline: %v, want DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("cancellation took %v", d)
		}
		if err := db.PingContext(context.Background()); err != nil {
			t.Fatalf("ping after cancel: %v", err)
		}
	}
}

// TestRefuse checks that per-row calls fail with 0A000 naming the way out,
// and that nothing was drawn from PostgreSQL's sequence.
func TestRefuse(t *testing.T) {
	e := newEnv(t)
	sfx := e.ns[2:]
	seq, tbl := "rf_"+sfx, "rf_t_"+sfx
	e.sequence(seq)
	e.exec(e.native, fmt.Sprintf("CREATE TABLE %s (id int8, v text)", tbl))
	e.exec(e.native, fmt.Sprintf("INSERT INTO %s VALUES (1, 'a'), (2, 'b')", tbl))
	t.Cleanup(func() { e.native.Exec("DROP TABLE IF EXISTS " + tbl) })
	for _, q := range []string{
		fmt.Sprintf("SELECT nextval('%s') FROM %s", seq, tbl),
		fmt.Sprintf("UPDATE %s SET id = nextval('%s')", tbl, seq),
		fmt.Sprintf("INSERT INTO %s SELECT nextval('%s'), v FROM %s", tbl, seq, tbl),
		fmt.Sprintf("SELECT nextval('%s') FROM generate_series(1, 3)", seq),
	} {
		_, err := e.shim.Exec(q)
		var pg *pgconn.PgError
		if !errors.As(err, &pg) || pg.Code != "0A000" || !strings.Contains(pg.Message, "nextval") || pg.Hint == "" {
			t.Errorf("%s: %v, want 0A000 naming nextval with a hint", q, err)
		}
		if _, err := e.shim.Prepare(q); !errors.As(err, &pg) || pg.Code != "0A000" {
			t.Errorf("Prepare(%s): %v, want 0A000", q, err)
		}
	}
	var called bool
	if err := e.native.QueryRow("SELECT is_called FROM " + seq).Scan(&called); err != nil || called {
		t.Fatalf("PostgreSQL's sequence was used: %v %v", called, err)
	}
}

// TestErrors checks the error types: *pgconn.PgError for existing code,
// the seqcache sentinel beneath, and the message PostgreSQL would give.
func TestErrors(t *testing.T) {
	e := newEnv(t)
	seq := "er_" + e.ns[2:]
	e.sequence(seq, seqcache.MaxValue(2))
	if _, err := e.shim.Exec(fmt.Sprintf("SELECT nextval('%s'), nextval('%s')", seq, seq)); err != nil {
		t.Fatal(err)
	}
	_, err := e.shim.Exec(fmt.Sprintf("SELECT nextval('%s')", seq))
	var pg *pgconn.PgError
	if !errors.As(err, &pg) || pg.Code != "2200H" || !errors.Is(err, seqcache.ErrLimitReached) {
		t.Fatalf("exhausted: %v", err)
	}
	_, nerr := e.native.Exec(fmt.Sprintf("SELECT nextval('%s'), nextval('%s'), nextval('%s')", seq, seq, seq))
	var npg *pgconn.PgError
	if !errors.As(nerr, &npg) || npg.Message != pg.Message {
		t.Fatalf("message %q, PostgreSQL says %q", pg.Message, npgMessage(npg))
	}
	// The wrong number of arguments never shifts a value onto a caller's parameter.
	_, err = e.shim.Exec(fmt.Sprintf("SELECT nextval('%s'), $1::text", seq))
	if !errors.As(err, &pg) || pg.Code != "08P01" {
		t.Fatalf("missing argument: %v, want 08P01", err)
	}
}

func npgMessage(p *pgconn.PgError) string {
	if p == nil {
		return "<no PgError>"
	}
	return p.Message
}

// TestUnmanagedStayNative checks the deny list: calls on denied sequences
// go to PostgreSQL untouched.
func TestUnmanagedStayNative(t *testing.T) {
	e := newEnv(t, "seqshim.deny=legacy_*")
	sfx := e.ns[2:]
	legacy, managed := "legacy_"+sfx, "m_"+sfx
	e.sequence(legacy, seqcache.Start(500))
	e.sequence(managed)
	e.exec(e.native, fmt.Sprintf("SELECT setval('%s', 900)", legacy)) // only PostgreSQL knows this
	var a, b int64
	if err := e.shim.QueryRow(fmt.Sprintf("SELECT nextval('%s'), nextval('%s')", legacy, managed)).Scan(&a, &b); err != nil {
		t.Fatal(err)
	}
	if a != 901 || b != 1 {
		t.Fatalf("nextval(legacy), nextval(managed) = %d, %d; want 901 from PostgreSQL and 1 from the store", a, b)
	}
}

// TestBadConfigAtOpen checks that a bad parameter fails sql.Open with a
// message that names the key and what it accepts.
func TestBadConfigAtOpen(t *testing.T) {
	e := newEnv(t)
	_, err := sql.Open("seqshim", e.shimDSN("seqshim.block_size=zero"))
	if err == nil || !strings.Contains(err.Error(), "seqshim.block_size") || !strings.Contains(err.Error(), "an integer from 1") {
		t.Fatalf("sql.Open with block_size=zero: %v", err)
	}
}

// TestPreparedNumInput checks that database/sql sees the caller's
// parameters only, and that each execution draws fresh values.
func TestPreparedNumInput(t *testing.T) {
	e := newEnv(t)
	seq := "ni_" + e.ns[2:]
	e.sequence(seq)
	st, err := e.shim.Prepare(fmt.Sprintf("SELECT nextval('%s'), $1::int + 1", seq))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Query(); err == nil || !strings.Contains(err.Error(), "expected 1 arguments, got 0") {
		t.Fatalf("Query without the argument: %v", err)
	}
	for want := int64(1); want <= 3; want++ {
		var v, p int64
		if err := st.QueryRow(41).Scan(&v, &p); err != nil || v != want || p != 42 {
			t.Fatalf("execution %d: %d, %d, %v", want, v, p, err)
		}
	}
}
