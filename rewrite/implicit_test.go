package rewrite

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// implicitTables are the tables of the implicit planning tests, as a
// driver would read them from the catalog. Sequences whose name starts
// with u are not managed.
var implicitTables = map[string]*Table{
	"public.ser": {Columns: []TableColumn{{Name: "id", Seq: Name{"public", "ser_id_seq"}}, {Name: "name"}}},
	"public.big": {Columns: []TableColumn{{Name: "id", Seq: Name{"public", "big_id_seq"}}, {Name: "name"}, {Name: "age"}}},
	"public.idd": {Columns: []TableColumn{{Name: "id", Identity: IdentityByDefault, Seq: Name{"public", "idd_id_seq"}}, {Name: "name"}}},
	"public.ida": {Columns: []TableColumn{{Name: "id", Identity: IdentityAlways, Seq: Name{"public", "ida_id_seq"}}, {Name: "name"}}},
	"public.exd": {Columns: []TableColumn{{Name: "name"}, {Name: "id", Seq: Name{"public", "shared"}}, {Name: "other", Seq: Name{"public", "exd_other_seq"}}}},
	"public.unm": {Columns: []TableColumn{{Name: "id", Seq: Name{"public", "u_seq"}}, {Name: "name"}}},
	"public.uid": {Columns: []TableColumn{{Name: "id", Identity: IdentityByDefault, Seq: Name{"public", "u_id_seq"}}, {Name: "name"}}},
	"public.kw":  {Columns: []TableColumn{{Name: "v"}, {Name: "user", Seq: Name{"public", "kw_seq"}}, {Name: `Odd"Name`, Seq: Name{"public", "kw_seq"}}}},
	"app.t":      {Columns: []TableColumn{{Name: "id", Seq: Name{"app", "t_id_seq"}}, {Name: "v"}}},
}

func lookupTable(n Name) (*Table, error) {
	if t, ok := implicitTables[n.Key()]; ok {
		return t, nil
	}
	return nil, fmt.Errorf("no table %s", n.Key())
}

func callsString(pl *Plan) string {
	var out []string
	for _, c := range pl.Calls {
		out = append(out, fmt.Sprintf("%v %s $%d %q", c.Func, c.Key, c.Param, pl.Original[c.Span.Start:c.Span.End]))
	}
	return strings.Join(out, ", ")
}

// TestImplicit covers the shapes the serial integration tests run on
// PostgreSQL: the SQL sent, and the calls that fill it.
func TestImplicit(t *testing.T) {
	p := NewPlanner(Options{Managed: func(n Name) bool { return !strings.HasPrefix(n.Name, "u") }})
	for _, tc := range []struct {
		sql   string
		kind  Kind
		want  string // SQL, or a part of the reason for Refuse
		calls string
	}{
		// Column list (GORM, sqlx, sqlc).
		{`INSERT INTO "ser" ("name") VALUES ($1) RETURNING "id"`, Implicit,
			`INSERT INTO "ser" ("name", "id") VALUES ($1, $2) RETURNING "id"`, `nextval public.ser_id_seq $2 ""`},
		{`INSERT INTO big (name, age) VALUES ($1, $2) RETURNING id, name, age`, Implicit,
			`INSERT INTO big (name, age, "id") VALUES ($1, $2, $3) RETURNING id, name, age`, `nextval public.big_id_seq $3 ""`},
		{`insert /* c */ into BIG(name)values('x')`, Implicit,
			`insert /* c */ into BIG(name, "id")values('x', $1)`, `nextval public.big_id_seq $1 ""`},
		// DEFAULT in place (bun), with an alias.
		{`INSERT INTO "idd" AS "u" ("id", "name") VALUES (DEFAULT, 'bun') RETURNING "id"`, Implicit,
			`INSERT INTO "idd" AS "u" ("id", "name") VALUES ($1, 'bun') RETURNING "id"`, `nextval public.idd_id_seq $1 "DEFAULT"`},
		// GENERATED ALWAYS takes a value only with OVERRIDING SYSTEM VALUE.
		{`INSERT INTO ida (name) VALUES ('always') RETURNING id`, Implicit,
			`INSERT INTO ida (name, "id") OVERRIDING SYSTEM VALUE VALUES ('always', $1) RETURNING id`, `nextval public.ida_id_seq $1 ""`},
		{`INSERT INTO ida (id, name) VALUES (DEFAULT, 'always default') RETURNING id, name`, Implicit,
			`INSERT INTO ida (id, name) OVERRIDING SYSTEM VALUE VALUES ($1, 'always default') RETURNING id, name`, `nextval public.ida_id_seq $1 "DEFAULT"`},
		{`INSERT INTO ida (id, name) OVERRIDING SYSTEM VALUE VALUES (DEFAULT, 'x')`, Implicit,
			`INSERT INTO ida (id, name) OVERRIDING SYSTEM VALUE VALUES ($1, 'x')`, `nextval public.ida_id_seq $1 "DEFAULT"`},
		// DEFAULT VALUES.
		{`INSERT INTO ser DEFAULT VALUES RETURNING id, name`, Implicit,
			`INSERT INTO ser ("id") VALUES ($1) RETURNING id, name`, `nextval public.ser_id_seq $1 "DEFAULT VALUES"`},
		{`INSERT INTO ida DEFAULT VALUES RETURNING id`, Implicit,
			`INSERT INTO ida ("id") OVERRIDING SYSTEM VALUE VALUES ($1) RETURNING id`, `nextval public.ida_id_seq $1 "DEFAULT VALUES"`},
		{`INSERT INTO exd DEFAULT VALUES`, Implicit,
			`INSERT INTO exd ("id", "other") VALUES ($1, $2)`, `nextval public.shared $1 "DEFAULT VALUES", nextval public.exd_other_seq $2 "DEFAULT VALUES"`},
		// No column list: the values fill the table's columns in order.
		{`INSERT INTO ser VALUES (DEFAULT, 'no list') RETURNING *`, Implicit,
			`INSERT INTO ser VALUES ($1, 'no list') RETURNING *`, `nextval public.ser_id_seq $1 "DEFAULT"`},
		{`INSERT INTO big VALUES (DEFAULT, 'short list') RETURNING *`, Implicit,
			`INSERT INTO big VALUES ($1, 'short list') RETURNING *`, `nextval public.big_id_seq $1 "DEFAULT"`},
		{`INSERT INTO exd VALUES ('trailing') RETURNING *`, Implicit,
			`INSERT INTO exd ("name", "id", "other") VALUES ('trailing', $1, $2) RETURNING *`,
			`nextval public.shared $1 "", nextval public.exd_other_seq $2 ""`},
		// Multi-row.
		{`INSERT INTO exd (name) VALUES ('a'), ('b'), ($1) RETURNING id, other, name`, Implicit,
			`INSERT INTO exd (name, "id", "other") VALUES ('a', $2, $3), ('b', $4, $5), ($1, $6, $7) RETURNING id, other, name`,
			`nextval public.shared $2 "", nextval public.exd_other_seq $3 "", nextval public.shared $4 "", nextval public.exd_other_seq $5 "", nextval public.shared $6 "", nextval public.exd_other_seq $7 ""`},
		{`INSERT INTO exd (name, other) VALUES ('explicit other', 1000) RETURNING id, other`, Implicit,
			`INSERT INTO exd (name, other, "id") VALUES ('explicit other', 1000, $1) RETURNING id, other`, `nextval public.shared $1 ""`},
		{`INSERT INTO ser (id, name) VALUES (500, 'explicit'), (DEFAULT, 'mixed') RETURNING id, name`, Implicit,
			`INSERT INTO ser (id, name) VALUES (500, 'explicit'), ($1, 'mixed') RETURNING id, name`, `nextval public.ser_id_seq $1 "DEFAULT"`},
		// ON CONFLICT, and WITH before the INSERT.
		{`INSERT INTO ser (name) VALUES ('conflict') ON CONFLICT (id) DO NOTHING RETURNING id`, Implicit,
			`INSERT INTO ser (name, "id") VALUES ('conflict', $1) ON CONFLICT (id) DO NOTHING RETURNING id`, `nextval public.ser_id_seq $1 ""`},
		{`WITH x AS (SELECT 'cte' AS name) INSERT INTO ser (name) VALUES ('cte') RETURNING id`, Implicit,
			`WITH x AS (SELECT 'cte' AS name) INSERT INTO ser (name, "id") VALUES ('cte', $1) RETURNING id`, `nextval public.ser_id_seq $1 ""`},
		// The statement's own calls come first.
		{`INSERT INTO exd (name) VALUES (nextval('big_id_seq')::text)`, Implicit,
			`INSERT INTO exd (name, "id", "other") VALUES ($1::int8::text, $2, $3)`,
			`nextval public.big_id_seq $1 "nextval('big_id_seq')", nextval public.shared $2 "", nextval public.exd_other_seq $3 ""`},
		// Names are always quoted.
		{`INSERT INTO kw (v) VALUES (1)`, Implicit, `INSERT INTO kw (v, "user", "Odd""Name") VALUES (1, $1, $2)`,
			`nextval public.kw_seq $1 "", nextval public.kw_seq $2 ""`},
		// Unqualified names resolve in the planner's schema.
		{`INSERT INTO app.t (v) VALUES (1)`, Implicit, `INSERT INTO app.t (v, "id") VALUES (1, $1)`, `nextval app.t_id_seq $1 ""`},
		// Nothing left to a managed default: the plan stands.
		{`INSERT INTO big (id, name) VALUES (nextval('big_id_seq'), 'explicit nextval') RETURNING id`, Bind,
			`INSERT INTO big (id, name) VALUES ($1::int8, 'explicit nextval') RETURNING id`, `nextval public.big_id_seq $1 "nextval('big_id_seq')"`},
		{`INSERT INTO ser (id, name) VALUES (1, 'x')`, Pass, `INSERT INTO ser (id, name) VALUES (1, 'x')`, ``},
		{`INSERT INTO ser (id, name) OVERRIDING USER VALUE VALUES (1, 'x')`, Pass, `INSERT INTO ser (id, name) OVERRIDING USER VALUE VALUES (1, 'x')`, ``},
		{`INSERT INTO unm (name) VALUES ('x')`, Pass, `INSERT INTO unm (name) VALUES ('x')`, ``},
		{`INSERT INTO uid (id, name) OVERRIDING USER VALUE VALUES (1, 'x')`, Pass, `INSERT INTO uid (id, name) OVERRIDING USER VALUE VALUES (1, 'x')`, ``},
		{`COPY big (id, name) FROM '/dev/null'`, Pass, `COPY big (id, name) FROM '/dev/null'`, ``},
		{`COPY big FROM STDIN`, Pass, `COPY big FROM STDIN`, ``},
		{`INSERT INTO big (id, name) SELECT 1, 'x'`, Pass, `INSERT INTO big (id, name) SELECT 1, 'x'`, ``},
		{`WITH x AS (INSERT INTO unm (name) VALUES ('cte') RETURNING id) SELECT id FROM x`, Pass, `WITH x AS (INSERT INTO unm (name) VALUES ('cte') RETURNING id) SELECT id FROM x`, ``},
		// Every refusal.
		{`INSERT INTO big (name) SELECT 'x' FROM generate_series(1, 3)`, Refuse,
			`INSERT ... SELECT into public.big leaves id to its default, which PostgreSQL would draw from its own sequence public.big_id_seq; list the column and select nextval('public.big_id_seq') for it, or insert with VALUES`, ``},
		{`INSERT INTO idd (id, name) OVERRIDING USER VALUE VALUES (1, 'x')`, Refuse,
			`OVERRIDING USER VALUE makes PostgreSQL draw public.idd.id from its own sequence public.idd_id_seq; drop the clause`, ``},
		{`WITH x AS (INSERT INTO big (name) VALUES ('cte') RETURNING id) SELECT id FROM x`, Refuse,
			`INSERT INTO public.big inside WITH or in a string of several statements may leave id to its default, which PostgreSQL would draw from its own sequence public.big_id_seq; send that INSERT as a statement of its own`, ``},
		{`INSERT INTO big (id, name) VALUES (7, 'a'); INSERT INTO big (name) VALUES ('b')`, Refuse,
			`INSERT INTO public.big inside WITH or in a string of several statements may leave id to its default`, ``},
		{`COPY big (name) FROM '/dev/null'`, Refuse,
			`COPY public.big leaves id to its default, which PostgreSQL would draw from its own sequence public.big_id_seq; add the column to the COPY and its values to the data, or insert with INSERT ... VALUES`, ``},
	} {
		o := p.opts
		if strings.Contains(tc.sql, "app.") {
			o.DefaultSchema = "app"
		}
		pp := NewPlanner(o)
		pl := pp.Plan(tc.sql)
		got, err := pp.Implicit(pl, lookupTable)
		if err != nil {
			t.Errorf("Implicit(%q): %v", tc.sql, err)
			continue
		}
		if got.Kind != tc.kind {
			t.Errorf("Implicit(%q) = %v %q %q, want %v", tc.sql, got.Kind, got.SQL, got.Reason, tc.kind)
			continue
		}
		if got.Original != tc.sql {
			t.Errorf("Implicit(%q).Original = %q", tc.sql, got.Original)
		}
		switch tc.kind {
		case Refuse:
			if !strings.Contains(got.Reason, tc.want) || got.SQL != tc.sql {
				t.Errorf("Implicit(%q) refused with %q, want %q", tc.sql, got.Reason, tc.want)
			}
			continue
		case Pass, Bind:
			if got != pl {
				t.Errorf("Implicit(%q) replaced the plan: %v %q", tc.sql, got.Kind, got.SQL)
			}
		}
		if got.SQL != tc.want {
			t.Errorf("Implicit(%q).SQL =\n  %s\nwant\n  %s", tc.sql, got.SQL, tc.want)
		}
		if c := callsString(got); c != tc.calls {
			t.Errorf("Implicit(%q).Calls =\n  %s\nwant\n  %s", tc.sql, c, tc.calls)
		}
		checkImplicit(t, got)
	}
}

// checkImplicit verifies an Implicit plan's invariants: SQL is Original
// with the edits applied, the calls number the parameters after the
// statement's own in order, and each parameter is in SQL.
func checkImplicit(t *testing.T, pl *Plan) {
	t.Helper()
	end := 0
	for _, e := range pl.edits {
		if e.Start < end || e.End < e.Start || e.End > len(pl.Original) {
			t.Fatalf("edits out of order or range: %v", pl.edits)
		}
		end = e.End
	}
	if s := applyEdits(pl.Original, pl.edits); s != pl.SQL {
		t.Fatalf("SQL %q is not Original with the edits applied (%q)", pl.SQL, s)
	}
	for i, c := range pl.Calls {
		if c.Param != pl.NumParams+1+i || c.Span.Start > c.Span.End || c.Span.End > len(pl.Original) {
			t.Fatalf("call %d: %+v (NumParams %d)", i, c, pl.NumParams)
		}
		if c.Func == Nextval && c.Key != c.Seq.Key() {
			t.Fatalf("call %d: key %q of %v", i, c.Key, c.Seq)
		}
		if !strings.Contains(pl.SQL, "$"+fmt.Sprint(c.Param)) {
			t.Fatalf("parameter $%d not in %q", c.Param, pl.SQL)
		}
	}
}

func TestImplicitTableError(t *testing.T) {
	p := NewPlanner(Options{})
	boom := errors.New("catalog unreachable")
	for _, sql := range []string{
		`INSERT INTO t (v) VALUES (1)`,
		`COPY t (v) FROM STDIN`,
		`WITH x AS (INSERT INTO t (v) VALUES (1) RETURNING id) SELECT id FROM x`,
	} {
		got, err := p.Implicit(p.Plan(sql), func(Name) (*Table, error) { return nil, boom })
		if !errors.Is(err, boom) || got != nil {
			t.Errorf("Implicit(%q) = %v, %v; want the lookup's error", sql, got, err)
		}
	}
	// Statements that write no table never look one up.
	for _, sql := range []string{`SELECT nextval('s')`, `UPDATE t SET v = 1`, `COPY t TO STDOUT`, `SELECT 1`} {
		pl := p.Plan(sql)
		got, err := p.Implicit(pl, func(Name) (*Table, error) { return nil, boom })
		if err != nil || got != pl || pl.NeedsTables() {
			t.Errorf("Implicit(%q) = %v, %v (NeedsTables %v); want the plan itself", sql, got, err, pl.NeedsTables())
		}
	}
}

func TestDefaultSequence(t *testing.T) {
	p := NewPlanner(Options{DefaultSchema: "app", Managed: func(Name) bool { return false }, CacheSize: 4})
	for expr, want := range map[string]string{
		`nextval('orders_id_seq'::regclass)`:     "app.orders_id_seq",
		`nextval('sales."Order_Seq"'::regclass)`: `sales.Order_Seq`,
		`nextval('s')`:                           "app.s",
		`0`:                                      "",
		`(nextval('s'::regclass) * 2)`:           "",
		`now()`:                                  "",
		`nextval(('s'::text)::regclass)`:         "",
		`currval('s'::regclass)`:                 "",
		`'nextval(''s'')'::text`:                 "",
	} {
		n, ok := p.DefaultSequence(expr)
		if got := map[bool]string{true: n.Key(), false: ""}[ok]; got != want {
			t.Errorf("DefaultSequence(%q) = %q, want %q", expr, got, want)
		}
	}
	if n := p.cache.len(); n != 0 {
		t.Errorf("DefaultSequence left %d plans in the plan cache", n)
	}
}
