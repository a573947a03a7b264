package rewrite

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// describe renders a call compactly and exactly:
// func name-or-$k [v=value called=is_called] @"text" [-> $param].
func describe(sql string, c Call) string {
	var b strings.Builder
	b.WriteString(c.Func.String())
	switch {
	case c.NameParam > 0:
		fmt.Fprintf(&b, " $%d", c.NameParam)
	case c.Seq == (Name{}) && c.Func != Lastval:
		b.WriteString(" ?") // a name seqshim cannot resolve (Refuse plans)
	case c.Func != Lastval:
		b.WriteString(" " + c.Seq.Key())
	}
	if c.Func == Setval {
		arg := func(a Arg, isBool bool) string {
			switch {
			case a.Param > 0:
				return fmt.Sprintf("$%d", a.Param)
			case isBool:
				return fmt.Sprint(a.Bool)
			}
			return fmt.Sprint(a.Int)
		}
		fmt.Fprintf(&b, " v=%s called=%s", arg(c.Value, false), arg(c.IsCalled, true))
	}
	fmt.Fprintf(&b, " @%q", sql[c.Span.Start:c.Span.End])
	if c.Param > 0 {
		fmt.Fprintf(&b, " -> $%d", c.Param)
	}
	return b.String()
}

var (
	oracle  = &Options{Oracle: true}
	noNVF   = &Options{NoNextValueFor: true}
	onlyS   = &Options{Managed: func(n Name) bool { return n.Name != "other" }}
	appSchm = &Options{DefaultSchema: "app"}
	onPath  = &Options{DefaultSchema: SearchPath}
)

type planCase struct {
	name   string
	opts   *Options
	sql    string
	kind   Kind
	out    string   // Bind: the rendered SQL; other kinds render to sql
	calls  []string // describe() of each call
	cols   []string // Local
	reason string   // Refuse: a fragment of the reason
}

// planCases cover every trap of the issue: names in strings, comments,
// dollar quotes and identifiers are never touched; nextval as a column
// name; 'C:\'; multi-row INSERTs with several calls per row; CTEs;
// RETURNING; ON CONFLICT; prepared-statement texts with $1..$12.
var planCases = []planCase{
	// ---- Local: only sequence calls.
	{name: "nextval", sql: `SELECT nextval('s')`, kind: Local,
		calls: []string{`nextval public.s @"nextval('s')"`}, cols: []string{"nextval"}},
	{name: "alias and currval", sql: `SELECT nextval('a') AS id, currval('a')`, kind: Local,
		calls: []string{`nextval public.a @"nextval('a')"`, `currval public.a @"currval('a')"`}, cols: []string{"id", "currval"}},
	{name: "setval 3 args", sql: `select setval('s', 42, false)`, kind: Local,
		calls: []string{`setval public.s v=42 called=false @"setval('s', 42, false)"`}, cols: []string{"setval"}},
	{name: "setval 2 args", sql: `SELECT setval('s', -5)`, kind: Local,
		calls: []string{`setval public.s v=-5 called=true @"setval('s', -5)"`}, cols: []string{"setval"}},
	{name: "setval underscores and hex", sql: `SELECT setval('s', 1_000, 'f'), setval('t', 0x10, TRUE)`, kind: Local,
		calls: []string{`setval public.s v=1000 called=false @"setval('s', 1_000, 'f')"`, `setval public.t v=16 called=true @"setval('t', 0x10, TRUE)"`},
		cols:  []string{"setval", "setval"}},
	{name: "lastval", sql: `SELECT lastval()`, kind: Local,
		calls: []string{`lastval @"lastval()"`}, cols: []string{"lastval"}},
	{name: "trailing semicolon", sql: `SELECT nextval('s');`, kind: Local,
		calls: []string{`nextval public.s @"nextval('s')"`}, cols: []string{"nextval"}},
	{name: "comments and whitespace anywhere",
		sql:  "  /* lead */ SELECT -- nextval('x')\n\tnextval /* between */ ( 's' ) /* y */ ; -- end\n",
		kind: Local, calls: []string{`nextval public.s @"nextval /* between */ ( 's' )"`}, cols: []string{"nextval"}},
	{name: "bigint cast stays local", sql: `SELECT nextval('s')::bigint, currval('s')::int8 AS c, lastval()::pg_catalog.int8`, kind: Local,
		calls: []string{`nextval public.s @"nextval('s')"`, `currval public.s @"currval('s')"`, `lastval @"lastval()"`},
		cols:  []string{"nextval", "c", "lastval"}},
	{name: "upper case function and name", sql: `SELECT NEXTVAL('Orders_Id_Seq')`, kind: Local,
		calls: []string{`nextval public.orders_id_seq @"NEXTVAL('Orders_Id_Seq')"`}, cols: []string{"nextval"}},
	{name: "quoted mixed-case name", sql: `SELECT nextval('"Mixed"')`, kind: Local,
		calls: []string{`nextval public.Mixed @"nextval('\"Mixed\"')"`}, cols: []string{"nextval"}},
	{name: "schema-qualified names", sql: `SELECT nextval('public.seq'), nextval('Sales."Order_Seq"'), nextval(' a . b ')`, kind: Local,
		calls: []string{`nextval public.seq @"nextval('public.seq')"`, `nextval sales.Order_Seq @"nextval('Sales.\"Order_Seq\"')"`, `nextval a.b @"nextval(' a . b ')"`},
		cols:  []string{"nextval", "nextval", "nextval"}},
	{name: "pg_catalog and regclass cast", sql: `SELECT pg_catalog.nextval('s'::regclass), "pg_catalog"."currval"('s'::pg_catalog.regclass)`, kind: Local,
		calls: []string{`nextval public.s @"pg_catalog.nextval('s'::regclass)"`, `currval public.s @"\"pg_catalog\".\"currval\"('s'::pg_catalog.regclass)"`},
		cols:  []string{"nextval", "currval"}},
	{name: "U& quoted function name", sql: `SELECT U&"nextv\0061l"('s')`, kind: Local,
		calls: []string{`nextval public.s @"U&\"nextv\\0061l\"('s')"`}, cols: []string{"nextval"}},
	{name: "quoted function name and text cast", sql: `SELECT "nextval"('s'::text), nextval('t'::varchar), nextval('u'::character varying)`, kind: Local,
		calls: []string{`nextval public.s @"\"nextval\"('s'::text)"`, `nextval public.t @"nextval('t'::varchar)"`, `nextval public.u @"nextval('u'::character varying)"`},
		cols:  []string{"nextval", "nextval", "nextval"}},
	{name: "E string name", sql: `SELECT nextval(E'my\x73eq'), nextval(e'it\'s')`, kind: Local,
		calls: []string{`nextval public.myseq @"nextval(E'my\\x73eq')"`, `nextval public.it's @"nextval(e'it\\'s')"`},
		cols:  []string{"nextval", "nextval"}},
	{name: "U& string name", sql: `SELECT nextval(U&'d\0061t\+000061'), nextval(U&'d!0061ta' UESCAPE '!')`, kind: Local,
		calls: []string{`nextval public.data @"nextval(U&'d\\0061t\\+000061')"`, `nextval public.data @"nextval(U&'d!0061ta' UESCAPE '!')"`},
		cols:  []string{"nextval", "nextval"}},
	{name: "CAST spellings", sql: `SELECT nextval(CAST('s' AS regclass)), pg_catalog.currval(cast(CAST(E'\x73' AS text) as pg_catalog.regclass)::regclass), nextval(CAST($1 AS pg_catalog.text))`, kind: Local,
		calls: []string{`nextval public.s @"nextval(CAST('s' AS regclass))"`, `currval public.s @"pg_catalog.currval(cast(CAST(E'\\x73' AS text) as pg_catalog.regclass)::regclass)"`, `nextval $1 @"nextval(CAST($1 AS pg_catalog.text))"`},
		cols:  []string{"nextval", "currval", "nextval"}},
	{name: "typed constants", sql: `SELECT nextval(regclass 's'), nextval(pg_catalog.text 'App.T'), nextval(character varying U&'\0073')`, kind: Local,
		calls: []string{`nextval public.s @"nextval(regclass 's')"`, `nextval app.t @"nextval(pg_catalog.text 'App.T')"`, `nextval public.s @"nextval(character varying U&'\\0073')"`},
		cols:  []string{"nextval", "nextval", "nextval"}},
	{name: "name cast again", sql: `SELECT nextval('s'::name::regclass), nextval(CAST('s'::name AS regclass)), nextval($1::name::text)`, kind: Local,
		calls: []string{`nextval public.s @"nextval('s'::name::regclass)"`, `nextval public.s @"nextval(CAST('s'::name AS regclass))"`, `nextval $1 @"nextval($1::name::text)"`},
		cols:  []string{"nextval", "nextval", "nextval"}},
	{name: "nextval(name) does not exist", sql: `SELECT nextval('s'::name)`, kind: Pass},
	{name: "nextval(CAST AS name) does not exist", sql: `SELECT nextval(CAST('s' AS name))`, kind: Pass},
	{name: "nextval(name $1) does not exist", sql: `SELECT nextval($1::regclass::name)`, kind: Pass},
	{name: "string continuation", sql: "SELECT nextval('my' \n  'seq')", kind: Local,
		calls: []string{"nextval public.myseq @\"nextval('my' \\n  'seq')\""}, cols: []string{"nextval"}},
	{name: "name parameter", sql: `SELECT nextval($1)`, kind: Local,
		calls: []string{`nextval $1 @"nextval($1)"`}, cols: []string{"nextval"}},
	{name: "setval parameters", sql: `SELECT setval($1::regclass, $2, $3::boolean)`, kind: Local,
		calls: []string{`setval $1 v=$2 called=$3 @"setval($1::regclass, $2, $3::boolean)"`}, cols: []string{"setval"}},
	{name: "adjacent bare alias", sql: `SELECT nextval('s')x`, kind: Local,
		calls: []string{`nextval public.s @"nextval('s')"`}, cols: []string{"x"}},
	{name: "bare and quoted aliases", sql: `SELECT nextval('s') id, currval('s') AS "Id", lastval() AS Last`, kind: Local,
		calls: []string{`nextval public.s @"nextval('s')"`, `currval public.s @"currval('s')"`, `lastval @"lastval()"`},
		cols:  []string{"id", "Id", "last"}},
	{name: "NEXT VALUE FOR", sql: `SELECT NEXT VALUE FOR s, next value for "Sch".Seq2`, kind: Local,
		calls: []string{`nextval public.s @"NEXT VALUE FOR s"`, `nextval Sch.seq2 @"next value for \"Sch\".Seq2"`},
		cols:  []string{"nextval", "nextval"}},
	{name: "names left to the search_path", opts: onPath, sql: `SELECT nextval('s'), currval('"S"'), nextval('public.s'), NEXT VALUE FOR t`, kind: Local,
		calls: []string{`nextval .s @"nextval('s')"`, `currval .S @"currval('\"S\"')"`, `nextval public.s @"nextval('public.s')"`, `nextval .t @"NEXT VALUE FOR t"`},
		cols:  []string{"nextval", "currval", "nextval", "nextval"}},
	{name: "default schema option", opts: appSchm, sql: `SELECT nextval('s'), nextval('public.s')`, kind: Local,
		calls: []string{`nextval app.s @"nextval('s')"`, `nextval public.s @"nextval('public.s')"`}, cols: []string{"nextval", "nextval"}},
	{name: "oracle nextval from dual", opts: oracle, sql: `SELECT s.NEXTVAL, app.s.currval FROM DUAL`, kind: Local,
		calls: []string{`nextval public.s @"s.NEXTVAL"`, `currval app.s @"app.s.currval"`}, cols: []string{"nextval", "currval"}},
	{name: "identifier truncated to 63 bytes", sql: `SELECT nextval('` + strings.Repeat("x", 70) + `')`, kind: Local,
		calls: []string{`nextval public.` + strings.Repeat("x", 63) + ` @"nextval('` + strings.Repeat("x", 70) + `')"`}, cols: []string{"nextval"}},

	// ---- Bind: each call evaluated once per execution.
	{name: "multi-row insert", sql: `INSERT INTO t (id, name) VALUES (nextval('t_id_seq'), $1), (nextval('t_id_seq'), $2) RETURNING id`, kind: Bind,
		out:   `INSERT INTO t (id, name) VALUES ($3::int8, $1), ($4::int8, $2) RETURNING id`,
		calls: []string{`nextval public.t_id_seq @"nextval('t_id_seq')" -> $3`, `nextval public.t_id_seq @"nextval('t_id_seq')" -> $4`}},
	{name: "several calls per row", sql: `INSERT INTO t VALUES (nextval('a'), nextval('b'), 'x'), (nextval('a'), nextval('b'), 'y')`, kind: Bind,
		out: `INSERT INTO t VALUES ($1::int8, $2::int8, 'x'), ($3::int8, $4::int8, 'y')`,
		calls: []string{`nextval public.a @"nextval('a')" -> $1`, `nextval public.b @"nextval('b')" -> $2`,
			`nextval public.a @"nextval('a')" -> $3`, `nextval public.b @"nextval('b')" -> $4`}},
	{name: "returning id", sql: `INSERT INTO orders (id, customer_id, total) VALUES (nextval('orders_id_seq'), $1, $2) RETURNING id`, kind: Bind,
		out:   `INSERT INTO orders (id, customer_id, total) VALUES ($3::int8, $1, $2) RETURNING id`,
		calls: []string{`nextval public.orders_id_seq @"nextval('orders_id_seq')" -> $3`}},
	{name: "prepared statement with $1..$12",
		sql:   `INSERT INTO wide (id, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12) VALUES (nextval('wide_id_seq'), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		kind:  Bind,
		out:   `INSERT INTO wide (id, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12) VALUES ($13::int8, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		calls: []string{`nextval public.wide_id_seq @"nextval('wide_id_seq')" -> $13`}},
	{name: "$1..$12 out of order, two rows",
		sql:   `INSERT INTO p (a, b, c, d, e, f, id) VALUES ($12, $2, $3, $1, $5, $6, nextval('p_seq')), ($7, $8, $9, $10, $11, $4, nextval('p_seq'))`,
		kind:  Bind,
		out:   `INSERT INTO p (a, b, c, d, e, f, id) VALUES ($12, $2, $3, $1, $5, $6, $13::int8), ($7, $8, $9, $10, $11, $4, $14::int8)`,
		calls: []string{`nextval public.p_seq @"nextval('p_seq')" -> $13`, `nextval public.p_seq @"nextval('p_seq')" -> $14`}},
	{name: "on conflict do nothing", sql: `INSERT INTO t (id, k) VALUES (nextval('s'), $1) ON CONFLICT (k) DO UPDATE SET n = t.n + 1 RETURNING id`, kind: Bind,
		out:   `INSERT INTO t (id, k) VALUES ($2::int8, $1) ON CONFLICT (k) DO UPDATE SET n = t.n + 1 RETURNING id`,
		calls: []string{`nextval public.s @"nextval('s')" -> $2`}},
	{name: "on conflict do update of one row", sql: `INSERT INTO t (k) VALUES ($1) ON CONFLICT (k) DO UPDATE SET v = nextval('s')`, kind: Bind,
		out:   `INSERT INTO t (k) VALUES ($1) ON CONFLICT (k) DO UPDATE SET v = $2::int8`,
		calls: []string{`nextval public.s @"nextval('s')" -> $2`}},
	{name: "returning currval of one row", sql: `INSERT INTO t VALUES (nextval('s')) RETURNING id, currval('s')`, kind: Bind,
		out:   `INSERT INTO t VALUES ($1::int8) RETURNING id, $2::int8 AS currval`,
		calls: []string{`nextval public.s @"nextval('s')" -> $1`, `currval public.s @"currval('s')" -> $2`}},
	{name: "default values returning", sql: `INSERT INTO t DEFAULT VALUES RETURNING currval('t_id_seq') AS id`, kind: Bind,
		out:   `INSERT INTO t DEFAULT VALUES RETURNING $1::int8 AS id`,
		calls: []string{`currval public.t_id_seq @"currval('t_id_seq')" -> $1`}},
	{name: "select list keeps column name", sql: `SELECT nextval('s'), 'x'`, kind: Bind,
		out: `SELECT $1::int8 AS nextval, 'x'`, calls: []string{`nextval public.s @"nextval('s')" -> $1`}},
	{name: "expression needs no alias", sql: `SELECT nextval('s') + 1`, kind: Bind,
		out: `SELECT $1::int8 + 1`, calls: []string{`nextval public.s @"nextval('s')" -> $1`}},
	{name: "cast to text keeps name", sql: `SELECT nextval('s')::text`, kind: Bind,
		out: `SELECT $1::int8::text AS nextval`, calls: []string{`nextval public.s @"nextval('s')" -> $1`}},
	{name: "cast to double precision keeps name", sql: `SELECT nextval('s')::double precision, 1`, kind: Bind,
		out: `SELECT $1::int8::double precision AS nextval, 1`, calls: []string{`nextval public.s @"nextval('s')" -> $1`}},
	{name: "cast with bare alias", sql: `SELECT nextval('s')::text id, 1`, kind: Bind,
		out: `SELECT $1::int8::text id, 1`, calls: []string{`nextval public.s @"nextval('s')" -> $1`}},
	{name: "parenthesised call", sql: `SELECT (nextval('s'))`, kind: Bind,
		out: `SELECT ($1::int8) AS nextval`, calls: []string{`nextval public.s @"nextval('s')" -> $1`}},
	{name: "coalesce names itself", sql: `SELECT coalesce(currval('s'), 0)`, kind: Bind,
		out: `SELECT coalesce($1::int8, 0)`, calls: []string{`currval public.s @"currval('s')" -> $1`}},
	{name: "case else names the column", sql: `SELECT CASE WHEN $1 THEN currval('a') ELSE nextval('b') END`, kind: Bind,
		out:   `SELECT CASE WHEN $1 THEN $2::int8 ELSE $3::int8 END AS nextval`,
		calls: []string{`currval public.a @"currval('a')" -> $2`, `nextval public.b @"nextval('b')" -> $3`}},
	{name: "negation and subtraction", sql: `SELECT -nextval('s'), 1-nextval('s')`, kind: Bind,
		out:   `SELECT -$1::int8, 1-$2::int8`,
		calls: []string{`nextval public.s @"nextval('s')" -> $1`, `nextval public.s @"nextval('s')" -> $2`}},
	{name: "array constructor", sql: `SELECT ARRAY[nextval('s'), nextval('s')]`, kind: Bind,
		out:   `SELECT ARRAY[$1::int8, $2::int8]`,
		calls: []string{`nextval public.s @"nextval('s')" -> $1`, `nextval public.s @"nextval('s')" -> $2`}},
	{name: "adjacent alias keeps a space", sql: `SELECT nextval('s')x, 1`, kind: Bind,
		out: `SELECT $1::int8 x, 1`, calls: []string{`nextval public.s @"nextval('s')" -> $1`}},
	{name: "adjacent key word keeps a space", sql: `SELECT"nextval"('s'), 1`, kind: Bind,
		out: `SELECT $1::int8 AS nextval, 1`, calls: []string{`nextval public.s @"\"nextval\"('s')" -> $1`}},
	{name: "scalar subquery", sql: `SELECT (SELECT nextval('s')) AS id, 2`, kind: Bind,
		out: `SELECT (SELECT $1::int8 AS nextval) AS id, 2`, calls: []string{`nextval public.s @"nextval('s')" -> $1`}},
	{name: "union of once-evaluated selects", sql: `SELECT nextval('s') UNION ALL SELECT nextval('s')`, kind: Bind,
		out:   `SELECT $1::int8 AS nextval UNION ALL SELECT $2::int8 AS nextval`,
		calls: []string{`nextval public.s @"nextval('s')" -> $1`, `nextval public.s @"nextval('s')" -> $2`}},
	{name: "top-level VALUES", sql: `VALUES (nextval('s'), 'a'), (nextval('s'), 'b')`, kind: Bind,
		out:   `VALUES ($1::int8, 'a'), ($2::int8, 'b')`,
		calls: []string{`nextval public.s @"nextval('s')" -> $1`, `nextval public.s @"nextval('s')" -> $2`}},
	{name: "distinct on", sql: `SELECT DISTINCT ON (1) nextval('s')`, kind: Bind,
		out: `SELECT DISTINCT ON (1) $1::int8 AS nextval`, calls: []string{`nextval public.s @"nextval('s')" -> $1`}},
	{name: "select without FROM with WHERE", sql: `SELECT nextval('s') WHERE $1`, kind: Bind,
		out: `SELECT $2::int8 AS nextval WHERE $1`, calls: []string{`nextval public.s @"nextval('s')" -> $2`}},
	{name: "CTE without FROM feeding INSERT ... SELECT FROM the CTE",
		sql:   `WITH ids AS (SELECT nextval('s') AS id) INSERT INTO t (id, name) SELECT id, $1 FROM ids`,
		kind:  Bind,
		out:   `WITH ids AS (SELECT $2::int8 AS id) INSERT INTO t (id, name) SELECT id, $1 FROM ids`,
		calls: []string{`nextval public.s @"nextval('s')" -> $2`}},
	{name: "data-modifying CTE", sql: `WITH new AS (INSERT INTO t (id) VALUES (nextval('s')) RETURNING id) SELECT id FROM new`, kind: Bind,
		out:   `WITH new AS (INSERT INTO t (id) VALUES ($1::int8) RETURNING id) SELECT id FROM new`,
		calls: []string{`nextval public.s @"nextval('s')" -> $1`}},
	{name: "materialized CTEs and two calls", sql: `WITH a AS MATERIALIZED (SELECT nextval('s') AS x), b AS NOT MATERIALIZED (VALUES (nextval('s'))) SELECT * FROM a, b`, kind: Bind,
		out:   `WITH a AS MATERIALIZED (SELECT $1::int8 AS x), b AS NOT MATERIALIZED (VALUES ($2::int8)) SELECT * FROM a, b`,
		calls: []string{`nextval public.s @"nextval('s')" -> $1`, `nextval public.s @"nextval('s')" -> $2`}},
	{name: "insert select without FROM", sql: `INSERT INTO t (id, v) SELECT nextval('s'), $1 RETURNING id`, kind: Bind,
		out: `INSERT INTO t (id, v) SELECT $2::int8 AS nextval, $1 RETURNING id`, calls: []string{`nextval public.s @"nextval('s')" -> $2`}},
	{name: "call statement", sql: `CALL add_order(nextval('s'), $1)`, kind: Bind,
		out: `CALL add_order($2::int8, $1)`, calls: []string{`nextval public.s @"nextval('s')" -> $2`}},
	{name: "NEXT VALUE FOR in VALUES", sql: `INSERT INTO t VALUES (NEXT VALUE FOR s, 'x')`, kind: Bind,
		out: `INSERT INTO t VALUES ($1::int8, 'x')`, calls: []string{`nextval public.s @"NEXT VALUE FOR s" -> $1`}},
	{name: "oracle in VALUES", opts: oracle, sql: `INSERT INTO t VALUES (s.NEXTVAL, "S".CurrVal)`, kind: Bind,
		out:   `INSERT INTO t VALUES ($1::int8, $2::int8)`,
		calls: []string{`nextval public.s @"s.NEXTVAL" -> $1`, `currval public.S @"\"S\".CurrVal" -> $2`}},
	{name: "setval constant in a larger statement", sql: `INSERT INTO log (v) VALUES (setval('s', 100))`, kind: Bind,
		out: `INSERT INTO log (v) VALUES ($1::int8)`, calls: []string{`setval public.s v=100 called=true @"setval('s', 100)" -> $1`}},
	{name: "currval per row is constant", sql: `UPDATE t SET parent = currval('p_seq') WHERE id = $1`, kind: Bind,
		out: `UPDATE t SET parent = $2::int8 WHERE id = $1`, calls: []string{`currval public.p_seq @"currval('p_seq')" -> $2`}},
	{name: "lastval in DELETE returning", sql: `DELETE FROM t WHERE id = lastval() RETURNING id, lastval()`, kind: Bind,
		out:   `DELETE FROM t WHERE id = $1::int8 RETURNING id, $2::int8 AS lastval`,
		calls: []string{`lastval @"lastval()" -> $1`, `lastval @"lastval()" -> $2`}},
	{name: "currval in SELECT FROM", sql: `SELECT currval('s'), name FROM t WHERE id = currval('s')`, kind: Bind,
		out:   `SELECT $1::int8 AS currval, name FROM t WHERE id = $2::int8`,
		calls: []string{`currval public.s @"currval('s')" -> $1`, `currval public.s @"currval('s')" -> $2`}},
	{name: "managed and unmanaged", opts: onlyS, sql: `SELECT nextval('s'), nextval('other')`, kind: Bind,
		out: `SELECT $1::int8 AS nextval, nextval('other')`, calls: []string{`nextval public.s @"nextval('s')" -> $1`}},
	{name: "operators #- ?| OPERATOR()", sql: `SELECT '{"a":1}'::jsonb #- '{a}', '{"a":1}'::jsonb ?| array['a'], 1 OPERATOR(pg_catalog.+) nextval('s')`, kind: Bind,
		out:   `SELECT '{"a":1}'::jsonb #- '{a}', '{"a":1}'::jsonb ?| array['a'], 1 OPERATOR(pg_catalog.+) $1::int8`,
		calls: []string{`nextval public.s @"nextval('s')" -> $1`}},
	{name: "C:\\ is a complete string", sql: `SELECT 'C:\', nextval('s')`, kind: Bind,
		out: `SELECT 'C:\', $1::int8 AS nextval`, calls: []string{`nextval public.s @"nextval('s')" -> $1`}},
	{name: "name inside E string untouched", sql: `SELECT E'it''s \' nextval(''x'')', nextval('s')`, kind: Bind,
		out: `SELECT E'it''s \' nextval(''x'')', $1::int8 AS nextval`, calls: []string{`nextval public.s @"nextval('s')" -> $1`}},
	{name: "names inside dollar quotes untouched", sql: `SELECT $$ nextval('x') $$, $tag$ nextval('y') $not$ $tag$, nextval('s')`, kind: Bind,
		out:   `SELECT $$ nextval('x') $$, $tag$ nextval('y') $not$ $tag$, $1::int8 AS nextval`,
		calls: []string{`nextval public.s @"nextval('s')" -> $1`}},
	{name: "quoted identifiers untouched", sql: `INSERT INTO t ("nextval('x')", nextval) VALUES (nextval('s'), 1)`, kind: Bind,
		out: `INSERT INTO t ("nextval('x')", nextval) VALUES ($1::int8, 1)`, calls: []string{`nextval public.s @"nextval('s')" -> $1`}},
	{name: "dollars inside an identifier", sql: `SELECT 1 AS a$$b, nextval('s')`, kind: Bind,
		out: `SELECT 1 AS a$$b, $1::int8 AS nextval`, calls: []string{`nextval public.s @"nextval('s')" -> $1`}},
	{name: "bit, hex, national and escape strings", sql: `SELECT X'1F', B'101', N'n', e'\\', U&'\0041', nextval('s')`, kind: Bind,
		out: `SELECT X'1F', B'101', N'n', e'\\', U&'\0041', $1::int8 AS nextval`, calls: []string{`nextval public.s @"nextval('s')" -> $1`}},
	{name: "comments inside the statement untouched", sql: "INSERT INTO t /* nextval('x') */ VALUES (nextval('s') -- nextval('y')\n)", kind: Bind,
		out: "INSERT INTO t /* nextval('x') */ VALUES ($1::int8 -- nextval('y')\n)", calls: []string{`nextval public.s @"nextval('s')" -> $1`}},
	{name: "C:\\ concatenated", sql: `SELECT 'C:\' || nextval('s')::text`, kind: Bind,
		out: `SELECT 'C:\' || $1::int8::text`, calls: []string{`nextval public.s @"nextval('s')" -> $1`}},

	{name: "insert if not exists", sql: `INSERT INTO t (id, name) SELECT nextval('s'), $1 WHERE NOT EXISTS (SELECT 1 FROM t WHERE name = $1)`, kind: Bind,
		out:   `INSERT INTO t (id, name) SELECT $2::int8 AS nextval, $1 WHERE NOT EXISTS (SELECT 1 FROM t WHERE name = $1)`,
		calls: []string{`nextval public.s @"nextval('s')" -> $2`}},
	{name: "dangling AS (fuzz)", sql: `SELECT CurrvAl('A')AS`, kind: Bind,
		out: `SELECT $1::int8 AS`, calls: []string{`currval public.a @"CurrvAl('A')" -> $1`}},
	{name: "call inside a type modifier after the head call (fuzz)", sql: `SELECT nextval('s')::numeric(currval('s'))`, kind: Bind,
		out:   `SELECT $1::int8::numeric($2::int8) AS nextval`,
		calls: []string{`nextval public.s @"nextval('s')" -> $1`, `currval public.s @"currval('s')" -> $2`}},
	{name: "comment right after the call", sql: `SELECT nextval('s')/*c*/, 1`, kind: Bind,
		out: `SELECT $1::int8 AS nextval/*c*/, 1`, calls: []string{`nextval public.s @"nextval('s')" -> $1`}},

	// ---- Refuse: per-row evaluation, or something seqshim does not answer.
	{name: "batch of ids from generate_series", sql: `SELECT nextval('s') FROM generate_series(1, $1)`, kind: Refuse,
		calls: []string{`nextval public.s @"nextval('s')"`}, reason: "in SELECT ... FROM;"},
	{name: "select from", sql: `SELECT nextval('s') FROM t`, kind: Refuse,
		calls:  []string{`nextval public.s @"nextval('s')"`},
		reason: `nextval('s') is evaluated once per row in SELECT ... FROM; seqshim answers it once per statement: fetch the values first with SELECT nextval('s') (one call per row) and pass them as parameters, or use a column default`},
	{name: "select from where", sql: `SELECT id, nextval('s') FROM t WHERE x > 1`, kind: Refuse,
		calls: []string{`nextval public.s @"nextval('s')"`}, reason: "in SELECT ... FROM;"},
	{name: "update", sql: `UPDATE t SET id = nextval('s')`, kind: Refuse,
		calls: []string{`nextval public.s @"nextval('s')"`}, reason: "nextval('s') is evaluated once per row in UPDATE;"},
	{name: "delete", sql: `DELETE FROM t WHERE id < nextval('s')`, kind: Refuse,
		calls: []string{`nextval public.s @"nextval('s')"`}, reason: "in DELETE;"},
	{name: "merge", sql: `MERGE INTO t USING src ON t.id = src.id WHEN NOT MATCHED THEN INSERT VALUES (nextval('s'))`, kind: Refuse,
		calls: []string{`nextval public.s @"nextval('s')"`}, reason: "in MERGE;"},
	{name: "insert select from", sql: `INSERT INTO t SELECT nextval('s'), name FROM src`, kind: Refuse,
		calls: []string{`nextval public.s @"nextval('s')"`}, reason: "in INSERT ... SELECT ... FROM;"},
	{name: "set-returning function", sql: `SELECT generate_series(1, 3), nextval('s')`, kind: Refuse,
		calls: []string{`nextval public.s @"nextval('s')"`}, reason: "in a SELECT list with the set-returning function generate_series;"},
	{name: "insert select with unnest", sql: `INSERT INTO t (id, v) SELECT nextval('s'), unnest($1::text[])`, kind: Refuse,
		calls: []string{`nextval public.s @"nextval('s')"`}, reason: "set-returning function unnest"},
	{name: "window", sql: `SELECT sum(nextval('s')) OVER ()`, kind: Refuse,
		calls: []string{`nextval public.s @"nextval('s')"`}, reason: "in a SELECT with a window;"},
	{name: "subquery with FROM", sql: `SELECT (SELECT nextval('s') FROM t LIMIT 1)`, kind: Refuse,
		calls: []string{`nextval public.s @"nextval('s')"`}, reason: "in a subquery with FROM;"},
	{name: "function in FROM", sql: `SELECT * FROM nextval('s')`, kind: Refuse,
		calls: []string{`nextval public.s @"nextval('s')"`}, reason: "in a FROM clause;"},
	{name: "lateral subquery", sql: `SELECT * FROM t, LATERAL (SELECT nextval('s')) x`, kind: Refuse,
		calls: []string{`nextval public.s @"nextval('s')"`}, reason: "in a FROM clause;"},
	{name: "exists subquery in FROM query", sql: `SELECT x FROM t WHERE EXISTS (SELECT nextval('s'))`, kind: Refuse,
		calls: []string{`nextval public.s @"nextval('s')"`}, reason: "in SELECT ... FROM;"},
	{name: "CTE with FROM", sql: `WITH x AS (SELECT nextval('s') FROM t) SELECT * FROM x`, kind: Refuse,
		calls: []string{`nextval public.s @"nextval('s')"`}, reason: "in a WITH query with FROM;"},
	{name: "returning of several rows", sql: `INSERT INTO t VALUES (1), (2) RETURNING currval('s'), nextval('u')`, kind: Refuse,
		calls: []string{`currval public.s @"currval('s')"`, `nextval public.u @"nextval('u')"`}, reason: "currval('s') is evaluated once per row in RETURNING of an INSERT of several rows of a statement that also calls nextval or setval;"},
	{name: "on conflict update of several rows", sql: `INSERT INTO t VALUES ($1), ($2) ON CONFLICT (id) DO UPDATE SET v = nextval('s')`, kind: Refuse,
		calls: []string{`nextval public.s @"nextval('s')"`}, reason: "in ON CONFLICT DO UPDATE of an INSERT of several rows;"},
	{name: "currval per row next to nextval", sql: `UPDATE t SET a = currval('s'), b = nextval('s')`, kind: Refuse,
		calls: []string{`currval public.s @"currval('s')"`, `nextval public.s @"nextval('s')"`}, reason: "currval('s') is evaluated once per row in UPDATE of a statement that also calls nextval or setval; seqshim answers it once per statement: fetch the value first with SELECT currval('s') and pass it as a parameter"},
	{name: "name parameter outside Local", sql: `INSERT INTO t VALUES (nextval($1))`, kind: Refuse,
		calls:  []string{`nextval $1 @"nextval($1)"`},
		reason: `nextval($1) takes the sequence name from a parameter; seqshim resolves such a name only in a statement made of sequence calls alone: run SELECT nextval($1) first and pass its value as a parameter`},
	{name: "setval parameter in a larger statement", sql: `INSERT INTO t VALUES (setval('s', $1))`, kind: Refuse,
		calls: []string{`setval public.s v=$1 called=true @"setval('s', $1)"`}, reason: "takes setval's arguments from parameters inside a larger statement"},
	{name: "name from an expression", sql: `SELECT nextval(seqname) FROM seqs`, kind: Refuse,
		calls: []string{`nextval ? @"nextval(seqname)"`}, reason: "nextval(seqname) takes the sequence name from an expression; seqshim needs a string constant or a parameter: write nextval('schema.name') or nextval($1)"},
	{name: "CAST to another type", sql: `SELECT nextval(CAST('s' AS int)), nextval(CAST(seqname AS regclass))`, kind: Refuse,
		calls: []string{`nextval ? @"nextval(CAST('s' AS int))"`, `nextval ? @"nextval(CAST(seqname AS regclass))"`}, reason: "nextval(CAST('s' AS int)) takes the sequence name from an expression"},
	{name: "name by OID", sql: `SELECT nextval(16384)`, kind: Refuse,
		calls: []string{`nextval ? @"nextval(16384)"`}, reason: "gives the sequence by OID"},
	{name: "name by OID string", sql: `SELECT currval('16384')`, kind: Refuse,
		calls: []string{`currval ? @"currval('16384')"`}, reason: "gives the sequence by OID"},
	{name: "catalog-qualified name", sql: `SELECT nextval('db.public.s')`, kind: Refuse,
		calls: []string{`nextval ? @"nextval('db.public.s')"`}, reason: "qualifies the sequence name with a database"},
	{name: "setval from a subquery", sql: `SELECT setval('s', (SELECT max(id) FROM t))`, kind: Refuse,
		calls: []string{`setval public.s v=0 called=true @"setval('s', (SELECT max(id) FROM t))"`}, reason: "computes setval's value in SQL"},
	{name: "setval is_called expression", sql: `SELECT setval('s', 5, x > 1)`, kind: Refuse,
		calls: []string{`setval public.s v=5 called=false @"setval('s', 5, x > 1)"`}, reason: "computes setval's is_called in SQL"},
	{name: "two statements", sql: `INSERT INTO t VALUES (nextval('s')); SELECT 1`, kind: Refuse,
		calls:  []string{`nextval public.s @"nextval('s')"`},
		reason: "the query string holds 2 statements and statement 1 calls nextval('s'); seqshim answers sequence calls only in a query string of one statement: send the statements one at a time"},
	{name: "two statements, second refused", sql: `SELECT 1; UPDATE t SET id = nextval('s')`, kind: Refuse,
		calls: []string{`nextval public.s @"nextval('s')"`}, reason: "statement 2 of 2: nextval('s') is evaluated once per row in UPDATE;"},
	{name: "create table as", sql: `CREATE TABLE t2 AS SELECT nextval('s') AS id FROM t`, kind: Refuse,
		calls: []string{`nextval public.s @"nextval('s')"`}, reason: "in CREATE TABLE ... AS;"},
	{name: "copy", sql: `COPY (SELECT nextval('s')) TO STDOUT`, kind: Refuse,
		calls: []string{`nextval public.s @"nextval('s')"`}, reason: "seqshim does not answer sequence calls in COPY statements (nextval('s')): run SELECT nextval('s') first and pass the value as a parameter"},
	{name: "prepare", sql: `PREPARE p AS INSERT INTO t VALUES (nextval('s'))`, kind: Refuse,
		calls: []string{`nextval public.s @"nextval('s')"`}, reason: "is in PREPARE ... AS"},
	{name: "explain analyze", sql: `EXPLAIN (ANALYZE, BUFFERS) SELECT nextval('s')`, kind: Refuse,
		calls: []string{`nextval public.s @"nextval('s')"`}, reason: "in EXPLAIN ANALYZE statements"},
	{name: "FROM dual without the Oracle option", sql: `SELECT nextval('s') FROM dual`, kind: Refuse,
		calls: []string{`nextval public.s @"nextval('s')"`}, reason: "in SELECT ... FROM;"},
	{name: "NEXT VALUE FOR per row", sql: `SELECT NEXT VALUE FOR s FROM t`, kind: Refuse,
		calls: []string{`nextval public.s @"NEXT VALUE FOR s"`}, reason: "NEXT VALUE FOR s is evaluated once per row in SELECT ... FROM; seqshim answers it once per statement: fetch the values first with SELECT nextval('public.s')"},
	{name: "oracle per row", opts: oracle, sql: `SELECT t.nextval FROM t`, kind: Refuse,
		calls: []string{`nextval public.t @"t.nextval"`}, reason: "t.nextval is evaluated once per row in SELECT ... FROM"},

	// ---- Pass: no call site, or none managed; text untouched.
	{name: "plain select", sql: `SELECT * FROM users WHERE id = $1`, kind: Pass},
	{name: "name in a string", sql: `SELECT 'nextval(''s'')'`, kind: Pass},
	{name: "name in dollar quotes", sql: `SELECT $q$nextval('s')$q$`, kind: Pass},
	{name: "name in a quoted identifier", sql: `SELECT 1 AS "nextval('s')"`, kind: Pass},
	{name: "name in comments", sql: "SELECT /* nextval('x') /* nested */ nextval('z') */ 1 -- nextval('y')", kind: Pass},
	{name: "nextval as a column", sql: `SELECT nextval, t.nextval, "nextval" FROM t ORDER BY nextval`, kind: Pass},
	{name: "nextval as a table with a column list", sql: `INSERT INTO nextval (a) VALUES (1)`, kind: Pass},
	{name: "nextval as a CTE with a column list", sql: `WITH nextval (a) AS (SELECT 1) SELECT a FROM nextval`, kind: Pass},
	{name: "nextval as a table alias with columns", sql: `SELECT * FROM t AS nextval (a, b), u nextval(c)`, kind: Pass},
	{name: "qualified function of another schema", sql: `SELECT myschema.nextval('s'), x.pg_catalog.nextval('s')`, kind: Pass},
	{name: "other arity", sql: `SELECT nextval('a', 'b'), lastval('x'), setval('s')`, kind: Pass},
	{name: "oracle form off by default", sql: `SELECT s.nextval FROM t`, kind: Pass},
	{name: "NEXT VALUE FOR turned off", opts: noNVF, sql: `SELECT NEXT VALUE FOR s`, kind: Pass},
	{name: "not managed", opts: onlyS, sql: `SELECT nextval('other') FROM t`, kind: Pass},
	{name: "unterminated string", sql: `SELECT nextval('s`, kind: Pass},
	{name: "unterminated comment", sql: `SELECT nextval('s') /* /* */`, kind: Pass},
	{name: "unterminated dollar quote", sql: `SELECT $a$ nextval('s') $b$, nextval('s')`, kind: Pass},
	{name: "unbalanced parentheses", sql: `SELECT nextval('s'))`, kind: Pass},
	{name: "invalid name syntax", sql: `SELECT nextval('a..b'), nextval('s')`, kind: Pass},
	{name: "empty name", sql: `INSERT INTO t VALUES (nextval(''))`, kind: Pass},
	{name: "numeric setval value", sql: `SELECT setval('s', 1.5)`, kind: Pass},
	{name: "DDL stores defaults", sql: `CREATE SEQUENCE s; CREATE TABLE t (id bigint DEFAULT nextval('s') PRIMARY KEY, v text)`, kind: Pass},
	{name: "alter default", sql: `ALTER TABLE t ALTER COLUMN id SET DEFAULT nextval('t_id_seq'::regclass)`, kind: Pass},
	{name: "function body BEGIN ATOMIC", sql: `CREATE FUNCTION f() RETURNS bigint LANGUAGE sql BEGIN ATOMIC SELECT nextval('s'); SELECT CASE WHEN true THEN 1 END; END; SELECT 1`, kind: Pass},
	{name: "explain without analyze", sql: `EXPLAIN SELECT nextval('s') FROM t`, kind: Pass},
	{name: "insert without calls", sql: `INSERT INTO t (v) VALUES ('select nextval(''s'')') RETURNING id`, kind: Pass},
	{name: "empty", sql: ``, kind: Pass},
	{name: "only semicolons and comments", sql: `; -- nothing ;`, kind: Pass},
}

func TestPlanCases(t *testing.T) {
	if len(planCases) < 80 {
		t.Fatalf("only %d cases", len(planCases))
	}
	planners := map[*Options]*Planner{}
	for _, tc := range planCases {
		t.Run(tc.name, func(t *testing.T) {
			p := planners[tc.opts]
			if p == nil {
				o := Options{}
				if tc.opts != nil {
					o = *tc.opts
				}
				p = NewPlanner(o)
				planners[tc.opts] = p
			}
			pl := p.Plan(tc.sql)
			if pl.Kind != tc.kind {
				t.Fatalf("Plan(%q).Kind = %v, want %v (reason %q)", tc.sql, pl.Kind, tc.kind, pl.Reason)
			}
			if pl.Original != tc.sql {
				t.Errorf("Original = %q", pl.Original)
			}
			want := tc.sql
			if tc.kind == Bind {
				want = tc.out
			}
			if pl.SQL != want {
				t.Errorf("SQL =\n  %s\nwant\n  %s", pl.SQL, want)
			}
			var got []string
			for _, c := range pl.Calls {
				got = append(got, describe(tc.sql, c))
			}
			if !slices.Equal(got, tc.calls) {
				t.Errorf("calls =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.calls, "\n  "))
			}
			if !slices.Equal(pl.Columns, tc.cols) {
				t.Errorf("columns = %q, want %q", pl.Columns, tc.cols)
			}
			switch {
			case tc.kind == Refuse && !strings.Contains(pl.Reason, tc.reason):
				t.Errorf("reason =\n  %s\nwant it to contain\n  %s", pl.Reason, tc.reason)
			case tc.kind == Refuse && tc.reason == "":
				t.Errorf("case has no reason to check")
			case tc.kind != Refuse && pl.Reason != "":
				t.Errorf("reason = %q on a %v plan", pl.Reason, pl.Kind)
			}
			if tc.kind != Bind && pl.edits != nil {
				t.Errorf("edits on a %v plan: %v", pl.Kind, pl.edits)
			}
			if tc.kind == Bind {
				checkEdits(t, pl)
				if n := NewPlanner(Options{Oracle: p.opts.Oracle}).Plan(pl.SQL); n.Kind != Pass || len(n.Calls) != 0 {
					// Calls on sequences that are not managed remain.
					if tc.opts != onlyS {
						t.Errorf("rendered SQL still has calls: %v %q", n.Kind, n.Reason)
					}
				}
			}
		})
	}
}

// checkEdits verifies that pl.SQL is pl.Original with pl.edits applied,
// that each call's span is replaced by an edit that starts with its
// parameter, and that every byte outside the edits is unchanged.
func checkEdits(t *testing.T, pl *Plan) {
	t.Helper()
	var b strings.Builder
	pos := 0
	for _, e := range pl.edits {
		if e.Start < pos || e.End < e.Start || e.End > len(pl.Original) {
			t.Fatalf("edits out of order or range: %v", pl.edits)
		}
		b.WriteString(pl.Original[pos:e.Start])
		b.WriteString(e.Text)
		pos = e.End
	}
	b.WriteString(pl.Original[pos:])
	if b.String() != pl.SQL {
		t.Fatalf("edits do not produce SQL:\n  %s\n  %s", b.String(), pl.SQL)
	}
	k := 0
	for _, e := range pl.edits {
		if e.Start == e.End {
			continue
		}
		if k >= len(pl.Calls) {
			t.Fatalf("more replacements than calls: %v", pl.edits)
		}
		c := pl.Calls[k]
		k++
		param := fmt.Sprintf("$%d::int8", c.Param)
		if e.Start != c.Span.Start || e.End != c.Span.End || strings.TrimSpace(e.Text)[:len(param)] != param {
			t.Errorf("edit %+v does not replace call %+v with %s", e, c, param)
		}
		if c.Param != pl.NumParams+k {
			t.Errorf("call %d has parameter $%d, want $%d", k, c.Param, pl.NumParams+k)
		}
	}
	if k != len(pl.Calls) {
		t.Errorf("%d replacements for %d calls", k, len(pl.Calls))
	}
}
