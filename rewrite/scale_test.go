package rewrite

import (
	"strings"
	"testing"
	"time"
)

// TestLargeInputs plans large and deeply nested texts: the planner must
// stay linear (a quadratic walk of nested CASEs took 15 s here), and text
// nested deeper than PostgreSQL's parser accepts passes through.
func TestLargeInputs(t *testing.T) {
	const n, d = 20000, 5000 // repetitions; nesting depth
	for _, tc := range []struct {
		name string
		sql  string
		kind Kind
	}{
		{"nested parens", "SELECT " + strings.Repeat("(", d) + "nextval('s')" + strings.Repeat(")", d), Bind},
		{"too deep", "SELECT " + strings.Repeat("(", maxDepth+1) + "nextval('s')" + strings.Repeat(")", maxDepth+1), Pass},
		{"nested case", "SELECT " + strings.Repeat("CASE WHEN a THEN 1 ELSE ", n) + "nextval('s')" + strings.Repeat(" END", n), Bind},
		{"nested case in parens", "SELECT " + strings.Repeat("(CASE WHEN a THEN 1 ELSE ", d) + "nextval('s')" + strings.Repeat(" END)", d), Bind},
		{"nested subqueries", "SELECT " + strings.Repeat("(SELECT ", d) + "nextval('s')" + strings.Repeat(")", d), Bind},
		{"many items", "SELECT " + strings.Repeat("nextval('s'), ", n) + "1", Bind},
		{"many rows", "INSERT INTO t VALUES " + strings.Repeat("(nextval('s'), 1), ", n) + "(1, 2)", Bind},
		{"many statements", strings.Repeat("SELECT nextval('s');", n), Refuse},
		{"many unions", strings.Repeat("SELECT nextval('s') UNION ", n) + "SELECT 1", Bind},
		{"nested setval", "SELECT " + strings.Repeat("setval('s', ", d) + "1" + strings.Repeat(")", d), Refuse},
		{"many CTEs", "WITH " + strings.Repeat("a AS (SELECT nextval('s')), ", n) + "b AS (SELECT 1) SELECT 1", Bind},
		{"many casts", "SELECT nextval('s')" + strings.Repeat("::text", n), Bind},
		{"string continuation", "SELECT nextval(" + strings.Repeat("'a'\n", n) + ")", Local},
	} {
		start := time.Now()
		pl := NewPlanner(Options{}).Plan(tc.sql)
		if el := time.Since(start); el > 5*time.Second {
			t.Errorf("%s (%d bytes): %v", tc.name, len(tc.sql), el)
		}
		if pl.Kind != tc.kind {
			t.Errorf("%s: %v, want %v (%s)", tc.name, pl.Kind, tc.kind, pl.Reason)
		}
	}
}
