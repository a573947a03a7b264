package integration

import (
	"fmt"
	"strings"
	"testing"

	"github.com/seqshim/seqshim/internal/testenv"
)

// boundedSeq is a sequence with little room, and the values the database
// keeps when the default gap does not fit: half of what remains.
type boundedSeq struct {
	name, ddl string // ddl: %[1]s is the schema
	keep      int64  // with the default gap
	calls     int    // nextval calls in the script
}

var boundedSeqs = []boundedSeq{
	{"max3", "CREATE SEQUENCE %[1]s.max3 MAXVALUE 3", 1, 6},
	{"cyc3", "CREATE SEQUENCE %[1]s.cyc3 MINVALUE 1 MAXVALUE 3 CYCLE", 1, 8},
	{"int4", "CREATE SEQUENCE %[1]s.int4 AS integer START 2147483640", 4, 12},
	{"bigmax", "CREATE SEQUENCE %[1]s.bigmax START 9223372036854775800", 4, 12},
	{"bigmin", "CREATE SEQUENCE %[1]s.bigmin INCREMENT -1 START -9223372036854775800", 4, 13},
	{"down", "CREATE SEQUENCE %[1]s.down INCREMENT -2 MINVALUE -10 MAXVALUE -1", 2, 8},
	{"t_id_seq", "CREATE TABLE %[1]s.t (id smallserial PRIMARY KEY, v text)", 16383, 3},
}

// TestBoundedSequences: sequences whose remaining range is smaller than
// the gap are imported lazily on first use, through seqshim, and answer as
// PostgreSQL does. With import_gap=0 every value and SQLSTATE is that of
// native pgx on an identical sequence; with the default gap, the same up to
// the values the database keeps (half of the range). The database's own
// sequence then hands out exactly those values and fails with 2200H.
func TestBoundedSequences(t *testing.T) {
	for _, gap := range []string{"default", "0"} {
		t.Run("gap="+gap, func(t *testing.T) {
			var params []string
			if gap == "0" {
				params = append(params, "seqshim.import_gap=0")
			}
			e := newEnv(t, params...)
			nat, shim := testenv.UniqueName("nat"), testenv.UniqueName("shim")
			for _, schema := range []string{nat, shim} {
				e.exec(e.native, "CREATE SCHEMA "+schema)
				t.Cleanup(func() { e.native.Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE") })
				for _, s := range boundedSeqs {
					e.exec(e.native, fmt.Sprintf(s.ddl, schema))
				}
			}
			for _, s := range boundedSeqs {
				steps := func(schema string) []step {
					var out []step
					for range s.calls {
						out = append(out, step{sql: fmt.Sprintf("SELECT nextval('%s.%s')", schema, s.name)})
					}
					if s.name == "t_id_seq" {
						out = append(out, step{sql: fmt.Sprintf("INSERT INTO %s.t (v) VALUES ('x') RETURNING id", schema)},
							step{sql: fmt.Sprintf("SELECT currval('%s.t_id_seq'), lastval()", schema)})
					}
					return out
				}
				native := run(t, e.native, steps(nat))
				got := run(t, e.shim, steps(shim))
				keep := s.keep
				if gap == "0" {
					keep = 0
				}
				for i := range got {
					want := shiftedOutcome(native, i, keep, s.name == "t_id_seq")
					if want != "" && got[i].String() != want {
						t.Errorf("%s, step %d: seqshim %v, want %v (native %v)", s.name, i, got[i], want, native)
					}
				}
				// The database's own sequence keeps exactly keep values.
				if keep > 10 {
					var max int64
					if err := e.native.QueryRow("SELECT max_value FROM pg_sequences WHERE schemaname = $1 AND sequencename = $2", shim, s.name).Scan(&max); err != nil || max != keep {
						t.Errorf("%s: database capped at %d (%v), want %d", s.name, max, err, keep)
					}
					continue
				}
				left := run(t, e.native, steps(shim)[:keep+1])
				for i, o := range left {
					if want := native[i].String(); i < int(keep) && o.String() != want {
						t.Errorf("%s: native call %d after import: %v, want %v", s.name, i, o, want)
					}
				}
				if o := left[keep]; o.Code != "2200H" {
					t.Errorf("%s: native call %d after import: %v, want SQLSTATE 2200H", s.name, keep, o)
				}
			}
		})
	}
}

// shiftedOutcome is what seqshim's step i must show when the database kept
// keep values: native step i+keep, or, for a long range (serial), native
// step i with its values moved by keep. "" when the script is too short to
// tell.
func shiftedOutcome(native []outcome, i int, keep int64, offset bool) string {
	if !offset {
		if i+int(keep) >= len(native) {
			return ""
		}
		return native[i+int(keep)].String()
	}
	o := native[i]
	if o.Code != "" {
		return o.String()
	}
	rows := make([]string, len(o.Rows))
	for r, row := range o.Rows {
		var vals []string
		for _, f := range strings.Fields(strings.Trim(row, "[]")) {
			var v int64
			if _, err := fmt.Sscan(f, &v); err != nil {
				return "unparsable " + row
			}
			vals = append(vals, fmt.Sprint(v+keep))
		}
		rows[r] = "[" + strings.Join(vals, " ") + "]"
	}
	o.Rows = rows
	return o.String()
}
