package driver

import (
	"testing"

	"github.com/seqshim/seqshim/rewrite"
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
