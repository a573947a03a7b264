package rewrite

import (
	"reflect"
	"strings"
	"testing"
)

// FuzzPlan checks the planner's invariants on arbitrary text:
//   - it does not panic, and planning is deterministic;
//   - every byte outside the replaced spans is unchanged (the rendered SQL
//     is the original with the plan's edits applied, and each replacement
//     covers exactly one call and starts with that call's parameter);
//   - a text without call sites renders to itself (Pass, SQL unchanged);
//   - the rendered SQL still lexes and holds no managed call site;
//   - Local plans have one column per call, Refuse plans a reason;
//   - facts are well formed and in statement order;
//   - Implicit, given a table with serial, identity and unmanaged
//     columns, is deterministic and renders the text with its edits.
//
// Its seed corpus is testdata/fuzz/FuzzPlan.
func FuzzPlan(f *testing.F) {
	f.Add(`INSERT INTO t VALUES (nextval('s'), $1) RETURNING currval('s')`)
	f.Add(`SELECT nextval('s')::text, NEXT VALUE FOR "X".y`)
	f.Add(`INSERT INTO t (v) VALUES (DEFAULT), ($1) RETURNING id`)
	f.Add(`INSERT INTO t DEFAULT VALUES`)
	f.Add(`WITH x AS (INSERT INTO t VALUES (1) RETURNING id) SELECT 1; COPY t (v) FROM STDIN`)
	f.Add(`/* c */ SET LOCAL search_path = a, b; DISCARD ALL; SELECT set_config('search_path', 'x', true)`)
	managed := func(n Name) bool { return !strings.HasPrefix(n.Name, "u") }
	f.Fuzz(func(t *testing.T, sql string) {
		for _, o := range []Options{{}, {Oracle: true, Managed: managed, DefaultSchema: "app"}} {
			p := NewPlanner(o)
			pl := p.plan(sql)
			if again := p.plan(sql); !reflect.DeepEqual(pl, again) {
				t.Fatalf("planning %q twice differs:\n%+v\n%+v", sql, pl, again)
			}
			checkPlan(t, p, sql, pl)
			checkFacts(t, pl)
			checkImplicitPlan(t, p, pl)
		}
	})
}

// fuzzTable describes every table alike: a serial id, a plain column, a
// GENERATED ALWAYS identity and a key-word column on an unmanaged
// sequence (when the planner's Managed says so).
func fuzzTable(n Name) (*Table, error) {
	return &Table{Columns: []TableColumn{
		{Name: "id", Seq: Name{n.Schema, n.Name + "_id_seq"}},
		{Name: "v"},
		{Name: "g", Identity: IdentityAlways, Seq: Name{n.Schema, "g_seq"}},
		{Name: "user", Identity: IdentityByDefault, Seq: Name{"public", "u_seq"}},
	}}, nil
}

// checkImplicitPlan checks Implicit's invariants on pl: deterministic;
// the plan itself when nothing is filled; an Implicit plan that is the
// original text with its edits applied, still lexes, and numbers its
// parameters after the statement's; a Refuse plan with a reason.
func checkImplicitPlan(t *testing.T, p *Planner, pl *Plan) {
	t.Helper()
	got, err := p.Implicit(pl, fuzzTable)
	if err != nil {
		t.Fatalf("Implicit(%q): %v", pl.Original, err)
	}
	if again, _ := p.Implicit(pl, fuzzTable); !reflect.DeepEqual(got, again) {
		t.Fatalf("Implicit(%q) twice differs:\n%+v\n%+v", pl.Original, got, again)
	}
	switch got.Kind {
	case Implicit:
		if !pl.NeedsTables() || pl.ins == nil {
			t.Fatalf("Implicit plan of %v %q", pl.Kind, pl.Original)
		}
		checkImplicit(t, got)
		if _, _, ok := lex(got.SQL, nil); !ok {
			t.Fatalf("implicit SQL does not lex: %q", got.SQL)
		}
	case Refuse:
		if got.Reason == "" || got.SQL != pl.Original {
			t.Fatalf("Refuse plan %q, reason %q", got.SQL, got.Reason)
		}
	default:
		if got != pl {
			t.Fatalf("Implicit(%q) replaced a %v plan with a %v plan", pl.Original, pl.Kind, got.Kind)
		}
	}
}

// checkFacts checks that facts are in statement order and well formed.
func checkFacts(t *testing.T, pl *Plan) {
	t.Helper()
	last := 0
	for _, f := range pl.Facts {
		if f.Kind < CatalogChange || f.Kind > Transaction || f.Command == "" || f.Statement < last {
			t.Fatalf("bad facts for %q: %+v", pl.Original, pl.Facts)
		}
		if f.Constant && f.Kind != Setting {
			t.Fatalf("constant value on %+v", f)
		}
		last = f.Statement
	}
}

func checkPlan(t *testing.T, p *Planner, sql string, pl *Plan) {
	t.Helper()
	if pl.Original != sql {
		t.Fatalf("Original = %q, want %q", pl.Original, sql)
	}
	toks, _, ok := lex(sql, nil)
	a := analyzer{src: sql, toks: toks, opts: &p.opts}
	if ok {
		a.findCalls()
	}
	if !ok || len(a.calls) == 0 || !strings.Contains(strings.ToLower(sql), "val") {
		if pl.Kind != Pass || pl.SQL != sql || pl.Calls != nil {
			t.Fatalf("no call site in %q but plan %v %q", sql, pl.Kind, pl.SQL)
		}
	}
	// Calls: inside the text, in order, not overlapping.
	end := 0
	for _, c := range pl.Calls {
		if c.Span.Start < end || c.Span.End <= c.Span.Start || c.Span.End > len(sql) {
			t.Fatalf("call spans out of order or range: %+v", pl.Calls)
		}
		end = c.Span.End
		if c.Func < Nextval || c.Func > Lastval {
			t.Fatalf("bad func %v", c.Func)
		}
		for _, k := range []int{c.NameParam, c.Value.Param, c.IsCalled.Param} {
			if k > pl.NumParams {
				t.Fatalf("parameter $%d above NumParams %d", k, pl.NumParams)
			}
		}
	}
	switch pl.Kind {
	case Pass, Local, Refuse:
		if pl.SQL != sql || pl.edits != nil {
			t.Fatalf("%v plan changes the SQL: %q", pl.Kind, pl.SQL)
		}
		if pl.Kind == Local && (len(pl.Columns) != len(pl.Calls) || len(pl.Calls) == 0) {
			t.Fatalf("Local plan with %d columns for %d calls", len(pl.Columns), len(pl.Calls))
		}
		if (pl.Kind == Refuse) != (pl.Reason != "") {
			t.Fatalf("%v plan with reason %q", pl.Kind, pl.Reason)
		}
		if pl.Kind == Pass && pl.Calls != nil {
			t.Fatalf("Pass plan with calls")
		}
	case Bind:
		if len(pl.Calls) == 0 {
			t.Fatalf("Bind plan without calls")
		}
		checkEdits(t, pl)
		for _, e := range pl.edits {
			if e.Start == e.End && strings.TrimSpace(e.Text) != "AS "+pl.Calls[0].Func.String() &&
				!strings.HasPrefix(strings.TrimSpace(e.Text), "AS ") {
				t.Fatalf("unexpected insertion %q", e.Text)
			}
		}
		rt, _, ok := lex(pl.SQL, nil)
		if !ok {
			t.Fatalf("rendered SQL does not lex: %q", pl.SQL)
		}
		if p.opts.Managed == nil {
			r := analyzer{src: pl.SQL, toks: rt, opts: &p.opts}
			r.findCalls()
			if len(r.calls) != 0 {
				t.Fatalf("rendered SQL %q still has %d call sites", pl.SQL, len(r.calls))
			}
		}
	default:
		t.Fatalf("kind %v", pl.Kind)
	}
}
