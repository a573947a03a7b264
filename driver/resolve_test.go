package driver

import (
	"database/sql/driver"
	"testing"

	"github.com/seqshim/seqshim/rewrite"
)

// TestNamesForget: a connection forgets its role and search_path exactly
// when a statement's facts say they may have changed, and remembers them
// across the end of a transaction that did not set them.
func TestNamesForget(t *testing.T) {
	pl := rewrite.NewPlanner(rewrite.Options{DefaultSchema: rewrite.SearchPath})
	type step struct {
		sql   string
		inTx  bool // after the statement
		known bool // want
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"SET", []step{{"SET search_path = a", false, false}}},
		{"set_config", []step{{"SELECT set_config('search_path', 'a', false)", false, false}}},
		{"set_config of a parameter not named", []step{{"SELECT set_config($1, 'a', false)", false, false}}},
		{"RESET ALL", []step{{"RESET ALL", false, false}}},
		{"DISCARD ALL", []step{{"/* pool */ discard all", false, false}}},
		{"SET ROLE", []step{{"SET ROLE app", false, false}}},
		{"other settings and statements", []step{{"SET work_mem = '1MB'", false, true}, {"SELECT 1", false, true}, {"DISCARD PLANS", false, true}}},
		{"a transaction that set nothing", []step{{"BEGIN", true, true}, {"SELECT 1", true, true}, {"COMMIT", false, true}}},
		{"SET LOCAL, then COMMIT", []step{{"BEGIN", true, true}, {"SET LOCAL search_path = a", true, false}, {"SELECT nextval('s')", true, true}, {"COMMIT", false, false}}},
		{"SET, then ROLLBACK", []step{{"BEGIN", true, true}, {"SET search_path = a", true, false}, {"SELECT 1", true, true}, {"ROLLBACK", false, false}}},
		{"ROLLBACK TO keeps the transaction's", []step{{"BEGIN", true, true}, {"SET search_path = a", true, false}, {"SELECT 1", true, true},
			{"ROLLBACK TO SAVEPOINT x", true, false}, {"SELECT 1", true, true}, {"COMMIT", false, false}}},
		{"SET outside a transaction survives the next one", []step{{"SET search_path = a", false, false}, {"SELECT 1", false, true},
			{"BEGIN", true, true}, {"COMMIT", false, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n names
			for i, s := range tt.steps {
				n.known = true // as if the statement before resolved a name
				n.executed(pl.Plan(s.sql), s.inTx)
				if n.known != s.known {
					t.Fatalf("step %d %q: known %v, want %v", i, s.sql, n.known, s.known)
				}
			}
		})
	}
	// A database/sql transaction's end acts as COMMIT or ROLLBACK does.
	for _, end := range []func(driver.Tx) error{driver.Tx.Commit, driver.Tx.Rollback} {
		c := &conn{}
		c.names.executed(pl.Plan("SET LOCAL search_path = a"), true)
		c.names.known = true
		if err := end(tx{Tx: nopTx{}, c: c}); err != nil || c.names.known || c.names.setInTx {
			t.Fatalf("after the transaction: %+v, %v", c.names, err)
		}
	}
}

type nopTx struct{}

func (nopTx) Commit() error   { return nil }
func (nopTx) Rollback() error { return nil }
