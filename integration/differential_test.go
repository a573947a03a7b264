package integration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/seqshim/seqshim/seqcache"
)

// step is one statement of the differential script.
type step struct {
	mode string // "query" (default), "exec", "prepare" (prepared, run twice), "tx" (in a transaction, rolled back), "txfail" (in a failed transaction), "commit" and "rollback" (each line of sql in one transaction that ends so)
	sql  string
	args []any
}

// outcome is everything a step shows a caller.
type outcome struct {
	Cols     []string
	Types    []string
	Rows     []string
	Affected int64
	Code     string
}

func (o outcome) String() string {
	if o.Code != "" {
		return "SQLSTATE " + o.Code
	}
	return fmt.Sprintf("cols %v types %v rows %v affected %d", o.Cols, o.Types, o.Rows, o.Affected)
}

// script returns the differential statements; names maps the placeholders
// {a}, {d}, ... to this run's sequence and table names.
func script(names map[string]string) []step {
	steps := []step{
		{sql: "SELECT lastval()"},
		{sql: "SELECT currval('{a}')"},
		{sql: "SELECT nextval('{a}')"},
		{sql: "SELECT nextval('{a}') AS id"},
		{sql: "select NEXTVAL('{a}'), currval('{a}')"},
		{sql: "SELECT currval('{a}')"},
		{sql: "SELECT lastval()"},
		{sql: "SELECT nextval('public.{a}'::regclass)"},
		{sql: "SELECT pg_catalog.nextval('{a}')"},
		{sql: "SELECT nextval('\"{a}\"')"},
		{sql: "SELECT nextval('{A}')"},
		{sql: "SELECT nextval('{d}')"},
		{sql: "SELECT nextval('{d}'), nextval('{d}') AS second"},
		{sql: "SELECT currval('{d}'), lastval()"},
		{sql: "SELECT setval('{a}', 100)"},
		{sql: "SELECT nextval('{a}')"},
		{sql: "SELECT setval('{a}', 200, false)"},
		{sql: "SELECT currval('{a}')"},
		{sql: "SELECT nextval('{a}')"},
		{sql: "SELECT setval('{a}', $1, $2)", args: []any{int64(300), true}},
		{sql: "SELECT nextval('{a}'), currval('{a}'), lastval()"},
		{sql: "SELECT nextval($1)", args: []any{"{s}"}},
		{sql: "SELECT nextval('{s}')::bigint"},
		{sql: "/* leading comment */ SELECT nextval('{s}'); -- trailing"},
		{sql: "SELECT nextval('{a}'), nextval('{s}')"},
		{sql: "SELECT setval('{d}', -50)"},
		{sql: "SELECT nextval('{d}')"},
		{sql: "SELECT currval('{u}')"},
		{sql: "SELECT nextval('{nosuch}')"},
		{sql: "SELECT setval('{a}', 0)"},
		{sql: "SELECT setval('{b}', 99)"},
		{sql: "SELECT nextval('{a}')"}, // a failed setval leaves the sequence alone
		{mode: "exec", sql: "SELECT nextval('{a}')"},
	}
	for range 6 {
		steps = append(steps, step{sql: "SELECT nextval('{b}')"}) // 1..5, then 2200H
	}
	for range 4 {
		steps = append(steps, step{sql: "SELECT nextval('{c}')"}) // 1, 2, 3, 1
	}
	steps = append(steps,
		step{mode: "exec", sql: "INSERT INTO {t} (id, v) VALUES (nextval('{a}'), 'x')"},
		step{sql: "INSERT INTO {t} (id, v) VALUES (nextval('{a}'), $1) RETURNING id, v", args: []any{"y"}},
		step{sql: "INSERT INTO {t} (id, v) VALUES (nextval('{a}'), 'm1'), (nextval('{a}'), 'm2'), (nextval('{a}'), $1) RETURNING id, v", args: []any{"m3"}},
		step{sql: "INSERT INTO {t} VALUES (nextval('{a}'), currval('{a}')::text) RETURNING *"},
		step{sql: "INSERT INTO {t} (id, v) VALUES (nextval('{a}'), 'dup') ON CONFLICT (id) DO NOTHING RETURNING id"},
		step{sql: "INSERT INTO {t} (id, v) VALUES (currval('{a}'), 'dup') ON CONFLICT (id) DO UPDATE SET v = 'updated' RETURNING id, v"},
		step{sql: "SELECT nextval('{a}') + 1 AS plus"},
		step{sql: "SELECT nextval('{a}'), 'lit' AS l"},
		step{sql: "SELECT nextval('{a}'), $1::text AS p", args: []any{"param"}},
		step{sql: "SELECT nextval('{a}')::text"},
		step{sql: "WITH ins AS (INSERT INTO {t} (id, v) VALUES (nextval('{a}'), 'cte') RETURNING id) SELECT id FROM ins"},
		step{sql: "SELECT id, v FROM {t} ORDER BY id"},
		step{sql: "SELECT count(*) FROM {t}"},
		step{mode: "exec", sql: "UPDATE {t} SET v = 'u' WHERE v = $1", args: []any{"x"}},
		step{sql: "SELECT $1::int", args: []any{int64(7)}},
		step{sql: "SELECT 'nextval(''{a}'')' AS s"},
		step{sql: "SELECT 1 AS nextval"},
		step{sql: "SELEC nextval('{a}')"},
		step{sql: "SELECT 'unterminated"},
		step{sql: "INSERT INTO {t} (id, v) VALUES (nextval('{a}'), NULL) RETURNING id, v IS NULL"},
		step{mode: "prepare", sql: "SELECT nextval('{a}')"},
		step{mode: "prepare", sql: "INSERT INTO {t} (id, v) VALUES (nextval('{a}'), $1) RETURNING id", args: []any{"prep"}},
		step{mode: "prepare", sql: "SELECT currval('{a}'), lastval()"},
		step{mode: "prepare", sql: "SELECT id, v FROM {t} WHERE v = $1 ORDER BY id", args: []any{"prep"}},
		step{mode: "tx", sql: "INSERT INTO {t} (id, v) VALUES (nextval('{a}'), 'rolled back') RETURNING id"},
		step{sql: "SELECT nextval('{a}')"}, // the rolled-back value is not reused
		step{mode: "tx", sql: "SELECT nextval('{d}')"},
		step{sql: "SELECT currval('{d}')"},
		step{sql: "SELECT nextval('{b}')"},
		step{sql: "SELECT id FROM {t} WHERE v = 'rolled back'"},
		step{mode: "txfail", sql: "SELECT nextval('{a}')"},
		step{mode: "exec", sql: "DISCARD SEQUENCES"},
		step{sql: "SELECT currval('{a}')"},
		step{sql: "SELECT lastval()"},
		step{sql: "SELECT nextval('{a}'), lastval()"},
		step{mode: "exec", sql: "discard all;"},
		step{sql: "SELECT lastval()"},
		// A prepared DISCARD and one after a comment reset as a direct one.
		step{sql: "SELECT nextval('{a}')"},
		step{mode: "prepare", sql: "DISCARD SEQUENCES"},
		step{sql: "SELECT lastval()"},
		step{sql: "SELECT nextval('{a}')"},
		step{mode: "exec", sql: "/* pool reset */ Discard All"},
		step{sql: "SELECT currval('{a}')"},
		// Every constant spelling of the name argument.
		step{sql: "SELECT nextval(CAST('{u}' AS regclass))"},
		step{sql: "SELECT pg_catalog.nextval(regclass '{u}'), currval(CAST(CAST('{u}' AS text) AS pg_catalog.regclass))"},
		step{sql: "SELECT nextval(text E'{u}'), nextval(U&'{u}'::name::regclass)"},
		step{sql: "SELECT nextval(CAST($1 AS regclass))", args: []any{"{u}"}},
		step{sql: "SELECT nextval('{u}'::name)"}, // nextval(name) does not exist
		step{sql: "SELECT nextval(CAST('{u}' AS pg_catalog.name))"},
	)
	for i := range steps {
		for k, v := range names {
			steps[i].sql = strings.ReplaceAll(steps[i].sql, "{"+k+"}", v)
			for j, a := range steps[i].args {
				if s, ok := a.(string); ok {
					steps[i].args[j] = strings.ReplaceAll(s, "{"+k+"}", v)
				}
			}
		}
	}
	return steps
}

// TestDifferential runs the same statements through plain pgx on
// PostgreSQL's sequences and through seqshim on DynamoDB sequences with
// the same parameters: rows, column names, database type names and
// SQLSTATEs must be identical.
func TestDifferential(t *testing.T) {
	e := newEnv(t)
	sfx := strings.TrimPrefix(e.ns, "it")
	names := map[string]string{
		"a": "a_" + sfx, "d": "d_" + sfx, "b": "b_" + sfx, "c": "c_" + sfx,
		"s": "s_" + sfx, "u": "u_" + sfx, "nosuch": "nosuch_" + sfx, "t": "t_" + sfx,
	}
	names["A"] = strings.ToUpper(names["a"])
	e.sequence(names["a"])
	e.sequence(names["d"], seqcache.Increment(-1))
	e.sequence(names["b"], seqcache.MaxValue(5))
	e.sequence(names["c"], seqcache.MaxValue(3), seqcache.Cycle())
	e.sequence(names["s"], seqcache.Increment(10), seqcache.Start(100))
	e.sequence(names["u"])
	tbl := names["t"]
	e.exec(e.native, fmt.Sprintf("CREATE TABLE %s (id bigint PRIMARY KEY, v text)", tbl))
	t.Cleanup(func() { e.native.Exec("DROP TABLE IF EXISTS " + tbl) })

	steps := script(names)
	if len(steps) < 60 {
		t.Fatalf("only %d steps", len(steps))
	}
	native := run(t, e.native, steps)
	e.exec(e.native, "TRUNCATE "+tbl)
	pgBefore := lastValues(t, e, names)
	shim := run(t, e.shim, steps)
	// seqshim answered from the store: PostgreSQL's sequences did not move,
	// and the store's did.
	if pgAfter := lastValues(t, e, names); pgAfter != pgBefore {
		t.Errorf("PostgreSQL's sequences moved during the seqshim run: %s, then %s", pgBefore, pgAfter)
	}
	// 58 values come from nextval calls and the VALUES rows of the script.
	if st := e.cache().Stats(); st.Served != 58 || st.Reservations < 6 {
		t.Errorf("seqshim's cache served %d values in %d reservations; want 58 in at least 6", st.Served, st.Reservations)
	}
	if sq, err := e.store.Get(context.Background(), "public."+names["a"]); err != nil || sq.Next <= 323 {
		t.Errorf("store's sequence a at %+v, %v; want past 323", sq, err)
	}
	for i, s := range steps {
		t.Logf("step %d %s %q: %v", i, s.mode, s.sql, shim[i])
		if native[i].String() != shim[i].String() {
			t.Errorf("step %d %s %q %v:\n  pgx:     %v\n  seqshim: %v", i, s.mode, s.sql, s.args, native[i], shim[i])
		}
	}
	// The script must have exercised what it claims.
	var errs, rows int
	for _, o := range native {
		if o.Code != "" {
			errs++
		}
		rows += len(o.Rows)
	}
	if errs < 10 || rows < 60 {
		t.Fatalf("script too weak: %d errors, %d rows", errs, rows)
	}
}

// run executes steps on one connection, as a session.
func run(t *testing.T, db *sql.DB, steps []step) []outcome {
	ctx := context.Background()
	c, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	out := make([]outcome, len(steps))
	for i, s := range steps {
		out[i] = runStep(ctx, c, s)
	}
	return out
}

func runStep(ctx context.Context, c *sql.Conn, s step) outcome {
	switch s.mode {
	case "exec":
		res, err := c.ExecContext(ctx, s.sql, s.args...)
		if err != nil {
			return failed(err)
		}
		n, _ := res.RowsAffected()
		return outcome{Affected: n}
	case "prepare":
		st, err := c.PrepareContext(ctx, s.sql)
		if err != nil {
			return failed(err)
		}
		defer st.Close()
		var o outcome
		for range 2 {
			rows, err := st.QueryContext(ctx, s.args...)
			if err != nil {
				return failed(err)
			}
			r := collect(rows)
			if r.Code != "" {
				return r
			}
			o.Cols, o.Types, o.Rows = r.Cols, r.Types, append(o.Rows, r.Rows...)
		}
		return o
	case "txfail": // the statement runs in a transaction that has failed
		tx, err := c.BeginTx(ctx, nil)
		if err != nil {
			return failed(err)
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, "SELECT 1/0"); err == nil {
			return outcome{Code: "1/0 did not fail"}
		}
		rows, err := tx.QueryContext(ctx, s.sql, s.args...)
		if err != nil {
			return failed(err)
		}
		return collect(rows)
	case "commit", "rollback": // each line in one database/sql transaction
		tx, err := c.BeginTx(ctx, nil)
		if err != nil {
			return failed(err)
		}
		var o outcome
		for _, q := range strings.Split(s.sql, "\n") {
			r := outcome{}
			if rows, err := tx.QueryContext(ctx, q, s.args...); err != nil {
				r = failed(err)
			} else {
				r = collect(rows)
			}
			o.Rows = append(o.Rows, r.String())
		}
		if s.mode == "commit" {
			err = tx.Commit()
		} else {
			err = tx.Rollback()
		}
		if err != nil {
			o.Code = failed(err).Code
		}
		return o
	case "tx":
		tx, err := c.BeginTx(ctx, nil)
		if err != nil {
			return failed(err)
		}
		defer tx.Rollback()
		rows, err := tx.QueryContext(ctx, s.sql, s.args...)
		if err != nil {
			return failed(err)
		}
		return collect(rows)
	default:
		rows, err := c.QueryContext(ctx, s.sql, s.args...)
		if err != nil {
			return failed(err)
		}
		return collect(rows)
	}
}

func collect(rows *sql.Rows) outcome {
	defer rows.Close()
	var o outcome
	var err error
	if o.Cols, err = rows.Columns(); err != nil {
		return failed(err)
	}
	types, err := rows.ColumnTypes()
	if err != nil {
		return failed(err)
	}
	for _, ct := range types {
		o.Types = append(o.Types, ct.DatabaseTypeName()+"/"+ct.ScanType().String())
	}
	for rows.Next() {
		vals := make([]any, len(o.Cols))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return failed(err)
		}
		o.Rows = append(o.Rows, fmt.Sprintf("%v", vals))
	}
	if err := rows.Err(); err != nil {
		return failed(err)
	}
	return o
}

func failed(err error) outcome {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return outcome{Code: pg.Code}
	}
	return outcome{Code: "not a PgError: " + err.Error()}
}

// lastValues reads PostgreSQL's own state of the test's sequences.
func lastValues(t *testing.T, e *env, names map[string]string) string {
	var out []string
	for _, k := range []string{"a", "b", "c", "d", "s", "u"} {
		var last int64
		var called bool
		if err := e.native.QueryRow(fmt.Sprintf("SELECT last_value, is_called FROM %s", names[k])).Scan(&last, &called); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s=%d/%v", k, last, called))
	}
	return strings.Join(out, " ")
}
