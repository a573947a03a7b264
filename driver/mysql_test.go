package driver

import (
	"database/sql/driver"
	"reflect"
	"testing"

	"github.com/seqshim/seqshim/rewrite"
)

// TestSpliceArgs: MySQL's placeholders are positional, so each call's
// value goes at its own position among the caller's arguments.
func TestSpliceArgs(t *testing.T) {
	p := &rewrite.Plan{NumParams: 3, Calls: []rewrite.Call{{Param: 2}, {Param: 5}}}
	args := []driver.NamedValue{{Ordinal: 1, Value: "a"}, {Ordinal: 2, Value: "b"}, {Ordinal: 3, Value: "c"}}
	got := spliceArgs(p, args, []any{int64(10), nil})
	want := []driver.NamedValue{{Ordinal: 1, Value: "a"}, {Ordinal: 2, Value: int64(10)}, {Ordinal: 3, Value: "b"},
		{Ordinal: 4, Value: "c"}, {Ordinal: 5, Value: nil}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("spliceArgs = %v, want %v", got, want)
	}
}

func TestEvenlySpaced(t *testing.T) {
	for _, c := range []struct {
		v    []int64
		want bool
	}{{nil, true}, {[]int64{5}, true}, {[]int64{5, 6}, true}, {[]int64{5, 6, 7}, true}, {[]int64{-1, -3, -5}, true},
		{[]int64{5, 6, 101}, false}, {[]int64{1, 2, 3, 10}, false}} {
		if got := evenlySpaced(c.v); got != c.want {
			t.Errorf("evenlySpaced(%v) = %v", c.v, got)
		}
	}
}

// TestMySQLDSN: the seqshim parameters leave a go-sql-driver/mysql DSN,
// and unqualified names default to its database.
func TestMySQLDSN(t *testing.T) {
	d := newMySQL(New(nil, DefaultConfig()))
	rest, params, err := d.splitDSN("u:p@tcp(db:3306)/orders?parseTime=true&seqshim.store=memory://&seqshim.block_size=5")
	if err != nil || rest != "u:p@tcp(db:3306)/orders?parseTime=true" || params["store"] != "memory://" || params["block_size"] != "5" {
		t.Fatalf("splitDSN = %q, %v, %v", rest, params, err)
	}
	cfg, err := d.dialectConfig(Config{}, rest)
	if err != nil || cfg.Schema != "orders" {
		t.Fatalf("schema %q, %v; want the DSN's database", cfg.Schema, err)
	}
	if _, err := d.dialectConfig(Config{}, "u@tcp(db)/"); err == nil {
		t.Fatal("a DSN without a database and no seqshim.schema: no error")
	}
	if cfg, _ := d.dialectConfig(Config{Schema: "other"}, rest); cfg.Schema != "other" {
		t.Fatalf("seqshim.schema overridden: %q", cfg.Schema)
	}
}
