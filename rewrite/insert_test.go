package rewrite

import (
	"fmt"
	"strings"
	"testing"
)

// insertString renders an insertStmt with the text of each span.
func insertString(sql string, ins *insertStmt) string {
	txt := func(s Span) string { return sql[s.Start:s.End] }
	var b strings.Builder
	fmt.Fprintf(&b, "table=%s %q target_end=%q", ins.Table.Key(), txt(ins.TableSpan), sql[:ins.TargetEnd][max(0, ins.TargetEnd-3):])
	if ins.Columns != nil {
		var cols []string
		for _, c := range ins.Columns {
			cols = append(cols, c.Name+"="+txt(c.Span))
		}
		fmt.Fprintf(&b, " columns=%s %q", strings.Join(cols, ","), txt(ins.ColumnList))
	} else if ins.ColumnList.Start != ins.TargetEnd || ins.ColumnList.End != ins.TargetEnd {
		fmt.Fprintf(&b, " BAD-ColumnList=%v", ins.ColumnList)
	}
	if ins.Overriding != "" {
		fmt.Fprintf(&b, " overriding=%s %q", ins.Overriding, txt(ins.OverridingSpan))
	}
	if ins.DefaultValues {
		b.WriteString(" default-values")
	}
	if ins.Select {
		b.WriteString(" select")
	}
	fmt.Fprintf(&b, " source=%q", txt(ins.Source))
	for _, r := range ins.Rows {
		var vals []string
		for _, v := range r.Values {
			s := txt(v.Span)
			if v.Default {
				s += "(D)"
			}
			vals = append(vals, s)
		}
		fmt.Fprintf(&b, " row%q[%s]", txt(r.Span), strings.Join(vals, "|"))
	}
	if ins.OnConflict >= 0 {
		fmt.Fprintf(&b, " on-conflict@%q", sql[ins.OnConflict:][:11])
	}
	if ins.Returning >= 0 {
		fmt.Fprintf(&b, " returning@%q", sql[ins.Returning:][:9])
	}
	fmt.Fprintf(&b, " end=%d", ins.End)
	return b.String()
}

func TestParseInsert(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		want string // "" when not an INSERT
	}{
		{`INSERT INTO t VALUES (1, 'a')`,
			`table=public.t "t" target_end="O t" source="VALUES (1, 'a')" row"(1, 'a')"[1|'a'] end=29`},
		{`insert into Public."Orders" AS o (id, "Name", data.f, arr[1]) OVERRIDING SYSTEM VALUE VALUES (DEFAULT, $1, '(x,y)', nextval('s')), ((1), default, DEFAULT + 1, $2) ON CONFLICT DO NOTHING RETURNING id;`,
			`table=public.Orders "Public.\"Orders\"" target_end="S o" columns=id=id,Name="Name",data=data.f,arr=arr[1] "(id, \"Name\", data.f, arr[1])" overriding=SYSTEM "OVERRIDING SYSTEM VALUE" source="VALUES (DEFAULT, $1, '(x,y)', nextval('s')), ((1), default, DEFAULT + 1, $2)" row"(DEFAULT, $1, '(x,y)', nextval('s'))"[DEFAULT(D)|$1|'(x,y)'|nextval('s')] row"((1), default, DEFAULT + 1, $2)"[(1)|default(D)|DEFAULT + 1|$2] on-conflict@"ON CONFLICT" returning@"RETURNING" end=198`},
		{`INSERT INTO t DEFAULT VALUES RETURNING *`,
			`table=public.t "t" target_end="O t" default-values source="DEFAULT VALUES" returning@"RETURNING" end=40`},
		{`INSERT INTO s.t (a) OVERRIDING USER VALUE SELECT a FROM u JOIN v ON u.x = v.x ON CONFLICT (a) DO UPDATE SET a = 1`,
			`table=s.t "s.t" target_end="s.t" columns=a=a "(a)" overriding=USER "OVERRIDING USER VALUE" select source="SELECT a FROM u JOIN v ON u.x = v.x" on-conflict@"ON CONFLICT" end=113`},
		{`WITH x AS (SELECT 1), y AS (SELECT 2) INSERT INTO db.sch.tab (SELECT * FROM x)`,
			`table=sch.tab "db.sch.tab" target_end="tab" select source="(SELECT * FROM x)" end=78`},
		{`INSERT INTO t VALUES (1) UNION VALUES (2)`,
			`table=public.t "t" target_end="O t" select source="VALUES (1) UNION VALUES (2)" end=41`},
		{`INSERT INTO t VALUES (1), (2) ORDER BY 1`,
			`table=public.t "t" target_end="O t" select source="VALUES (1), (2) ORDER BY 1" end=40`},
		{`SELECT 1`, ``},
		{`INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)`, ``},
		{`INSERT INTO t VALUES ('x`, ``},
		{`INSERT t VALUES (1)`, ``},
		{`INSERT INTO t DEFAULT VALUES VALUES (1)`, ``},
		{`INSERT INTO t`, ``},
	} {
		ins, ok := parseInsert(tc.sql, "")
		if tc.want == "" {
			if ok || ins != nil {
				t.Errorf("parseInsert(%q) = %s, want none", tc.sql, insertString(tc.sql, ins))
			}
			continue
		}
		if !ok {
			t.Errorf("parseInsert(%q) failed", tc.sql)
			continue
		}
		if got := insertString(tc.sql, ins); got != tc.want {
			t.Errorf("parseInsert(%q) =\n  %s\nwant\n  %s", tc.sql, got, tc.want)
		}
	}
}

func TestPlanInsert(t *testing.T) {
	p := NewPlanner(Options{DefaultSchema: "app"})
	sql := `INSERT INTO orders (id, v) VALUES (nextval('orders_id_seq'), $1) RETURNING id`
	pl := p.Plan(sql)
	if pl.Kind != Bind || pl.ins == nil {
		t.Fatalf("Plan: %v, insert %v", pl.Kind, pl.ins)
	}
	want := `table=app.orders "orders" target_end="ers" columns=id=id,v=v "(id, v)" source="VALUES (nextval('orders_id_seq'), $1)" row"(nextval('orders_id_seq'), $1)"[nextval('orders_id_seq')|$1] returning@"RETURNING" end=77`
	if got := insertString(sql, pl.ins); got != want {
		t.Errorf("Plan.ins =\n  %s\nwant\n  %s", got, want)
	}
	// Plans of other statements have no Insert.
	for _, s := range []string{`SELECT 1`, `UPDATE t SET a = 1`, `INSERT INTO t VALUES (1); SELECT 1`} {
		if pl := p.Plan(s); pl.ins != nil {
			t.Errorf("Plan(%q).ins = %+v", s, pl.ins)
		}
	}
	// A Pass plan of an INSERT has one too, for column defaults.
	if pl := p.Plan(`INSERT INTO t (v) VALUES ($1)`); pl.Kind != Pass || pl.ins == nil || pl.ins.Table != (Name{"app", "t"}) {
		t.Errorf("Pass INSERT: %v %+v", pl.Kind, pl.ins)
	}
}

func TestOtherInserts(t *testing.T) {
	p := NewPlanner(Options{})
	tests := []struct {
		sql  string
		want string // keys of otherInserts
		top  string // Insert.Table, "" when nil
	}{
		{"INSERT INTO t (a) VALUES (1)", "", "public.t"},
		{"WITH x AS (INSERT INTO app.\"Log\" (a) VALUES (1) RETURNING id) SELECT id FROM x", "app.Log", ""},
		{"WITH x AS (INSERT INTO a VALUES (1) RETURNING id) INSERT INTO b (id) SELECT id FROM x", "public.a", "public.b"},
		{"INSERT INTO a (v) VALUES (1); INSERT INTO db.s.b (v) VALUES (2)", "public.a s.b", ""},
		{"SELECT 'INSERT INTO t' /* INSERT INTO u */", "", ""},
		{"WITH x AS (INSERT INTO t (id) VALUES (nextval('s')) RETURNING id) SELECT id FROM x", "public.t", ""},
	}
	for _, tc := range tests {
		pl := p.Plan(tc.sql)
		var keys []string
		for _, n := range pl.otherInserts {
			keys = append(keys, n.Key())
		}
		top := ""
		if pl.ins != nil {
			top = pl.ins.Table.Key()
		}
		if got := strings.Join(keys, " "); got != tc.want || top != tc.top {
			t.Errorf("Plan(%q): otherInserts %q, insertStmt %q; want %q, %q", tc.sql, got, top, tc.want, tc.top)
		}
	}
}

func TestCallKey(t *testing.T) {
	pl := NewPlanner(Options{DefaultSchema: "app"}).Plan(`SELECT nextval('"Mixed"'), lastval(), currval('public.s'), nextval($1)`)
	var keys []string
	for _, c := range pl.Calls {
		keys = append(keys, c.Key)
	}
	if got := strings.Join(keys, ","); got != "app.Mixed,,public.s," {
		t.Fatalf("keys %q", got)
	}
}

func TestCopyFrom(t *testing.T) {
	p := NewPlanner(Options{})
	tests := []struct{ sql, want string }{
		{"COPY t FROM STDIN", "public.t []"},
		{`copy app."T" (id, "Name") from '/tmp/x' with (format csv)`, "app.T [id Name]"},
		{"COPY t (a) TO STDOUT", ""},
		{"COPY (SELECT 1) TO STDOUT", ""},
		{"SELECT 1", ""},
	}
	for _, tc := range tests {
		got := ""
		if c := p.Plan(tc.sql).cp; c != nil {
			got = fmt.Sprintf("%s %v", c.Table.Key(), c.Columns)
			if c.Columns == nil {
				got = c.Table.Key() + " []"
			}
		}
		if got != tc.want {
			t.Errorf("Plan(%q).cp = %q, want %q", tc.sql, got, tc.want)
		}
	}
}

// TestParseInsertRows is the former ExampleParseInsert: the rows, their
// DEFAULT values and RETURNING, by offset.
func TestParseInsertRows(t *testing.T) {
	sql := `INSERT INTO orders (customer_id, note) VALUES ($1, DEFAULT), ($2, 'x') RETURNING id`
	ins, ok := parseInsert(sql, "")
	if !ok {
		t.Fatal("parseInsert failed")
	}
	var b strings.Builder
	fmt.Fprintln(&b, ins.Table.Key(), sql[ins.ColumnList.Start:ins.ColumnList.End])
	for _, r := range ins.Rows {
		fmt.Fprintln(&b, sql[r.Span.Start:r.Span.End], len(r.Values), r.Values[1].Default)
	}
	fmt.Fprint(&b, sql[ins.Returning:])
	want := "public.orders (customer_id, note)\n($1, DEFAULT) 2 true\n($2, 'x') 2 false\nRETURNING id"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
