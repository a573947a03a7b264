package rewrite

import (
	"reflect"
	"strings"
	"testing"
)

func myPlanner(o Options) *Planner {
	o.Dialect = MySQL
	if o.DefaultSchema == "" {
		o.DefaultSchema = "test"
	}
	return NewPlanner(o)
}

func TestMySQLLex(t *testing.T) {
	for _, c := range []struct {
		sql  string
		want []string // token texts as written
	}{
		{"SELECT `a``b`, 'x\\'y', \"q\" FROM t # c\n;", []string{"SELECT", "`a``b`", ",", `'x\'y'`, ",", `"q"`, "FROM", "t", ";"}},
		{"select 1--1", []string{"select", "1", "-", "-", "1"}},
		{"select 1 -- c\n, 2", []string{"select", "1", ",", "2"}},
		{"set @x := 5", []string{"set", "@x", ":=", "5"}},
		{"select /*! nextval(s) */ /* c */ ?", []string{"select", "nextval", "(", "s", ")", "?"}},
		{"select /*M!100500 1 */", []string{"select", "1"}},
		{"select a$b, é", []string{"select", "a", "$b", ",", "é"}},
		{"select x'0F', 1.5e3, .5", []string{"select", "x'0F'", ",", "1.5e3", ",", ".5"}},
	} {
		toks, ok := myLex(c.sql)
		if !ok {
			t.Errorf("myLex(%q) failed", c.sql)
			continue
		}
		var got []string
		for _, tk := range toks {
			got = append(got, c.sql[tk.start:tk.end])
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("myLex(%q) = %q, want %q", c.sql, got, c.want)
		}
	}
	for _, bad := range []string{"select 'unterminated", "select (1", "select 1)", "select /* open", "select `x"} {
		if _, ok := myLex(bad); ok {
			t.Errorf("myLex(%q) succeeded", bad)
		}
	}
}

func TestMySQLPlan(t *testing.T) {
	type call struct {
		fn    Func
		key   string
		param int
	}
	for _, c := range []struct {
		sql    string
		kind   Kind
		out    string // Bind: the rendered SQL
		cols   []string
		calls  []call
		reason string // Refuse: a part of the reason
	}{
		// Local: only calls; columns named as MariaDB names them.
		{sql: "SELECT NEXTVAL(s)", kind: Local, cols: []string{"NEXTVAL(s)"}, calls: []call{{Nextval, "test.s", 0}}},
		{sql: "select   nextval(s6)   ,  NEXTVAL  ( s6 ) ;", kind: Local, cols: []string{"nextval(s6)", "NEXTVAL  ( s6 )"},
			calls: []call{{Nextval, "test.s6", 0}, {Nextval, "test.s6", 0}}},
		{sql: "SELECT next value for db.s AS id, previous value for `db`.`s` 'p', lastval(s) `l`", kind: Local,
			cols: []string{"id", "p", "l"}, calls: []call{{Nextval, "db.s", 0}, {Currval, "db.s", 0}, {Currval, "test.s", 0}}},
		{sql: "SELECT setval(s, -42), setval(s, +5, false)", kind: Local, cols: []string{"setval(s, -42)", "setval(s, +5, false)"},
			calls: []call{{Setval, "test.s", 0}, {Setval, "test.s", 0}}},
		{sql: "/*x*/ SELECT setval(s, 42, 0) FROM DUAL # c", kind: Local, cols: []string{"setval(s, 42, 0)"}, calls: []call{{Setval, "test.s", 0}}},
		{sql: "select nextval(`My Seq`) x", kind: Local, cols: []string{"x"}, calls: []call{{Nextval, "test.My Seq", 0}}},
		// Bind: evaluated once; the calls become ? among the caller's.
		{sql: "INSERT INTO t (a, id, b) VALUES (?, NEXTVAL(s), ?), (?, next value for s, ?)", kind: Bind,
			out:   "INSERT INTO t (a, id, b) VALUES (?, CAST(? AS SIGNED), ?), (?, CAST(? AS SIGNED), ?)",
			calls: []call{{Nextval, "test.s", 2}, {Nextval, "test.s", 5}}},
		{sql: "select nextval(s), 1, nextval(s)+0 x, ?", kind: Bind,
			out:   "select CAST(? AS SIGNED) AS `nextval(s)`, 1, CAST(? AS SIGNED)+0 x, ?",
			calls: []call{{Nextval, "test.s", 1}, {Nextval, "test.s", 2}}},
		{sql: "SELECT (nextval(s)) + ?", kind: Bind, out: "SELECT (CAST(? AS SIGNED)) + ? AS `(nextval(s)) + ?`", calls: []call{{Nextval, "test.s", 1}}},
		{sql: "SET @x = nextval(s)", kind: Bind, out: "SET @x = CAST(? AS SIGNED)", calls: []call{{Nextval, "test.s", 1}}},
		{sql: "insert into t set id = next value for s, v = ?", kind: Bind, out: "insert into t set id = CAST(? AS SIGNED), v = ?", calls: []call{{Nextval, "test.s", 1}}},
		{sql: "INSERT INTO t VALUES (nextval(s)) ON DUPLICATE KEY UPDATE v = lastval(s)", kind: Bind,
			out: "INSERT INTO t VALUES (CAST(? AS SIGNED)) ON DUPLICATE KEY UPDATE v = CAST(? AS SIGNED)", calls: []call{{Nextval, "test.s", 1}, {Currval, "test.s", 2}}},
		{sql: "UPDATE t SET parent = lastval(p) WHERE id = ?", kind: Bind, out: "UPDATE t SET parent = CAST(? AS SIGNED) WHERE id = ?", calls: []call{{Currval, "test.p", 1}}},
		{sql: "SELECT a FROM t WHERE id = previous value for s", kind: Bind, out: "SELECT a FROM t WHERE id = CAST(? AS SIGNED)", calls: []call{{Currval, "test.s", 1}}},
		{sql: "select extract(year from now()), nextval(s)", kind: Bind, out: "select extract(year from now()), CAST(? AS SIGNED) AS `nextval(s)`", calls: []call{{Nextval, "test.s", 1}}},
		// Refuse: per row, or what seqshim cannot evaluate.
		{sql: "SELECT nextval(s) FROM t", kind: Refuse, reason: "once per row in SELECT ... FROM"},
		{sql: "UPDATE t SET id = nextval(s)", kind: Refuse, reason: "once per row in UPDATE"},
		{sql: "INSERT INTO t SELECT nextval(s) FROM u", kind: Refuse, reason: "INSERT ... SELECT ... FROM"},
		{sql: "INSERT INTO t VALUES (1), (2) ON DUPLICATE KEY UPDATE id = nextval(s)", kind: Refuse, reason: "ON DUPLICATE KEY UPDATE"},
		{sql: "SELECT setval(s, 5, 1, 2)", kind: Refuse, reason: "round"},
		{sql: "SELECT nextval(s); SELECT 1", kind: Refuse, reason: "one statement"},
		{sql: "SELECT /*! nextval(s) */", kind: Refuse, reason: "executable comment"},
		{sql: "SELECT 1abc, nextval(s)", kind: Refuse, reason: "cannot read"},
		{sql: `SELECT NEXTVAL("s")`, kind: Refuse, reason: "ANSI_QUOTES"},
		{sql: `INSERT INTO t VALUES (NEXT VALUE FOR "s")`, kind: Refuse, reason: "ANSI_QUOTES"},
		{sql: "EXPLAIN SELECT nextval(s)", kind: Refuse, reason: "EXPLAIN statements"},
		// Pass: no call, a stored default, not a call, a syntax error.
		{sql: "SELECT nextval FROM t", kind: Pass},
		{sql: "SELECT 'nextval(s)', `next value for s` -- nextval(s)", kind: Pass},
		{sql: "CREATE TABLE t (id int DEFAULT NEXTVAL(s))", kind: Pass},
		{sql: "INSERT INTO nextval (a) VALUES (1)", kind: Pass},
		{sql: "select nextval('s')", kind: Pass},
		{sql: "select t.nextval(s)", kind: Pass},
		{sql: "select 'unterminated", kind: Pass},
		{sql: "select setval(s, ?)", kind: Pass}, // MariaDB's syntax error
		{sql: "SELECT setval(s, (select max(id) from t))", kind: Pass},
		{sql: "SELECT setval(s, '5')", kind: Pass},
	} {
		pl := myPlanner(Options{}).Plan(c.sql)
		if pl.Kind != c.kind {
			t.Errorf("%q: kind %v (%s), want %v", c.sql, pl.Kind, pl.Reason, c.kind)
			continue
		}
		var got []call
		for _, cl := range pl.Calls {
			got = append(got, call{cl.Func, cl.Key, cl.Param})
		}
		if c.kind != Pass && c.kind != Refuse && !reflect.DeepEqual(got, c.calls) {
			t.Errorf("%q: calls %v, want %v", c.sql, got, c.calls)
		}
		switch c.kind {
		case Bind:
			if pl.SQL != c.out {
				t.Errorf("%q: SQL %q, want %q", c.sql, pl.SQL, c.out)
			}
		case Local:
			if !reflect.DeepEqual(pl.Columns, c.cols) {
				t.Errorf("%q: columns %q, want %q", c.sql, pl.Columns, c.cols)
			}
		case Refuse:
			if !strings.Contains(pl.Reason, c.reason) {
				t.Errorf("%q: reason %q, want it to say %q", c.sql, pl.Reason, c.reason)
			}
		}
		if c.kind != Bind && pl.SQL != c.sql {
			t.Errorf("%q: %v plan changes the SQL to %q", c.sql, pl.Kind, pl.SQL)
		}
	}
}

func TestMySQLManaged(t *testing.T) {
	p := myPlanner(Options{Managed: func(n Name) bool { return n.Name != "native" }})
	if pl := p.Plan("SELECT nextval(native)"); pl.Kind != Pass {
		t.Errorf("unmanaged: %v", pl.Kind)
	}
	pl := p.Plan("SELECT nextval(native), nextval(s)")
	if pl.Kind != Bind || pl.SQL != "SELECT nextval(native), CAST(? AS SIGNED) AS `nextval(s)`" {
		t.Errorf("mixed: %v %q", pl.Kind, pl.SQL)
	}
}
