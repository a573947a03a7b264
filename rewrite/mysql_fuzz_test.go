package rewrite

import (
	"reflect"
	"strings"
	"testing"
)

// FuzzMySQLPlan checks the MySQL dialect's invariants on arbitrary text:
// it does not panic, planning is deterministic, Pass, Local and Refuse
// plans keep the text, a Bind plan changes only its edits' ranges (each
// call becomes one placeholder, numbered among the statement's own), and
// the rendered text lexes and holds no managed call.
func FuzzMySQLPlan(f *testing.F) {
	for _, s := range []string{
		"INSERT INTO t (a, id) VALUES (?, NEXTVAL(s)), (?, next value for db.s)",
		"SELECT nextval(s), lastval(`s`) x, setval(s, -5, 0) FROM DUAL # c",
		"select 'a\\'b', \"q\", /*! nextval(s) */ 1--1, @x := nextval(s)",
		"SELECT nextval(s) + 0, ? FROM t WHERE id = previous value for s",
		"INSERT INTO t (a, b) VALUES (?, NEXTVAL(s)), (NULL, 0)",
		"insert t set id = null, a = ?",
		"INSERT INTO t VALUES (DEFAULT, 1, 2), (0, ?, 3)",
	} {
		f.Add(s)
	}
	managed := func(n Name) bool { return !strings.HasPrefix(n.Name, "u") }
	f.Fuzz(func(t *testing.T, sql string) {
		for _, o := range []Options{{Dialect: MySQL, DefaultSchema: "test"}, {Dialect: MySQL, DefaultSchema: "app", Managed: managed}} {
			pl := planMySQL(sql, &o)
			checkMyImplicit(t, &o, pl)
			if again := planMySQL(sql, &o); !reflect.DeepEqual(pl, again) {
				t.Fatalf("planning %q twice differs", sql)
			}
			if pl.Original != sql {
				t.Fatalf("Original changed")
			}
			switch pl.Kind {
			case Pass, Local, Refuse:
				if pl.SQL != sql || pl.edits != nil {
					t.Fatalf("%v plan changes the SQL: %q", pl.Kind, pl.SQL)
				}
				if (pl.Kind == Refuse) != (pl.Reason != "") {
					t.Fatalf("%v plan with reason %q", pl.Kind, pl.Reason)
				}
				if pl.Kind == Local && len(pl.Columns) != len(pl.Calls) {
					t.Fatalf("Local plan with %d columns for %d calls", len(pl.Columns), len(pl.Calls))
				}
			case Bind:
				checkMyBind(t, &o, pl)
			default:
				t.Fatalf("kind %v", pl.Kind)
			}
		}
	})
}

func checkMyBind(t *testing.T, o *Options, pl *Plan) {
	t.Helper()
	var b strings.Builder
	pos, placeholders := 0, 0
	for _, e := range pl.edits {
		if e.Start < pos || e.End < e.Start || e.End > len(pl.Original) {
			t.Fatalf("edits out of order: %+v", pl.edits)
		}
		b.WriteString(pl.Original[pos:e.Start])
		b.WriteString(e.Text)
		pos = e.End
		text := strings.TrimSpace(e.Text)
		switch {
		case strings.HasPrefix(e.Text, " AS `") && e.Start == e.End: // a column name kept
		case e.Start < e.End && (text == myPlaceholder || text == "?" || text == "LAST_INSERT_ID(?)"):
			placeholders++
		case e.Start == e.End && pl.Kind == Implicit && (text == "?" || text == ", ?" || text == ", LAST_INSERT_ID(?)" ||
			text == "LAST_INSERT_ID(?)" || strings.HasSuffix(text, "` = LAST_INSERT_ID(?)")):
			placeholders++
		case e.Start == e.End && pl.Kind == Implicit && strings.Count(text, "?") == 0 && strings.Contains(text, "`"): // the column
		default:
			t.Fatalf("unexpected edit %q at %d..%d", e.Text, e.Start, e.End)
		}
	}
	b.WriteString(pl.Original[pos:])
	if b.String() != pl.SQL || placeholders != len(pl.Calls) {
		t.Fatalf("rendered %q is not the original with its edits (%d placeholders, %d calls)", pl.SQL, placeholders, len(pl.Calls))
	}
	toks, ok := myLex(pl.SQL)
	if !ok {
		t.Fatalf("rendered SQL does not lex: %q", pl.SQL)
	}
	params := 0
	for _, tk := range toks {
		if tk.kind == myParam {
			params++
		}
	}
	if params != pl.NumParams+len(pl.Calls) {
		t.Fatalf("rendered %q has %d placeholders, want %d", pl.SQL, params, pl.NumParams+len(pl.Calls))
	}
	for k, c := range pl.Calls {
		if c.Param < 1 || c.Param > params || k > 0 && c.Param <= pl.Calls[k-1].Param {
			t.Fatalf("call %d at placeholder %d of %d", k, c.Param, params)
		}
	}
	if o.Managed == nil {
		if again := planMySQL(pl.SQL, o); len(again.Calls) != 0 {
			t.Fatalf("rendered %q still calls sequences", pl.SQL)
		}
	}
}

// checkMyImplicit runs Implicit on pl with a table whose first column is
// a managed AUTO_INCREMENT, whatever the INSERT names, and checks the
// derived plan like a Bind plan.
func checkMyImplicit(t *testing.T, o *Options, pl *Plan) {
	t.Helper()
	p := NewPlanner(*o)
	for _, zero := range []bool{false, true} {
		q, err := p.Implicit(pl, func(n Name) (*Table, error) {
			return &Table{Columns: []TableColumn{{Name: "id", Seq: n}, {Name: "a"}, {Name: "b"}}, ZeroGenerates: zero}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		switch q.Kind {
		case Implicit:
			checkMyBind(t, &Options{Dialect: MySQL, DefaultSchema: "x", Managed: func(Name) bool { return false }}, q)
		case Refuse:
			if q.Reason == "" {
				t.Fatalf("Refuse without a reason")
			}
		default:
			if q.SQL != pl.SQL {
				t.Fatalf("%v plan from Implicit changes the SQL", q.Kind)
			}
		}
		for _, n := range q.NullChecks {
			if n < 1 || n > q.NumParams {
				t.Fatalf("null check of parameter %d of %d", n, q.NumParams)
			}
		}
	}
}
