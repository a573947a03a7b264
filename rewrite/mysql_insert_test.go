package rewrite

import (
	"reflect"
	"strings"
	"testing"
)

func TestDescribeMySQL(t *testing.T) {
	p := myPlanner(Options{})
	ins := p.Plan("INSERT IGNORE INTO db.`t` PARTITION (p1) (a, `id`, t.b) VALUES (1, ?, 'x'), (NULL, DEFAULT, f(1, 2))").myIns
	if ins == nil || ins.Table != (Name{"db", "t"}) || !reflect.DeepEqual(ins.Columns, []string{"a", "id", "b"}) || len(ins.Rows) != 2 {
		t.Fatalf("insert %+v", ins)
	}
	src := "INSERT IGNORE INTO db.`t` PARTITION (p1) (a, `id`, t.b) VALUES (1, ?, 'x'), (NULL, DEFAULT, f(1, 2))"
	var vals []string
	for _, row := range ins.Rows {
		for _, sp := range row {
			vals = append(vals, src[sp.Start:sp.End])
		}
	}
	if want := []string{"1", "?", "'x'", "NULL", "DEFAULT", "f(1, 2)"}; !reflect.DeepEqual(vals, want) {
		t.Errorf("values %q, want %q", vals, want)
	}
	if s := p.Plan("insert t set a = 1, id = null on duplicate key update a = 2").myIns; s == nil ||
		!reflect.DeepEqual(s.SetColumns, []string{"a", "id"}) || s.Table != (Name{"test", "t"}) {
		t.Errorf("SET form %+v", s)
	}
	if s := p.Plan("REPLACE INTO t SELECT * FROM u").myIns; s == nil || !s.Select {
		t.Errorf("SELECT form %+v", s)
	}
	for _, c := range []struct {
		sql  string
		want []Fact
	}{
		{"/* x */ alter table t add c int", []Fact{{Kind: CatalogChange, Command: "ALTER", Object: "TABLE"}}},
		{"TRUNCATE t", []Fact{{Kind: CatalogChange, Command: "TRUNCATE", Object: "T"}}},
		{"SET SESSION sql_mode = ''", []Fact{{Kind: Setting, Command: "SET", Object: "sql_mode"}}},
		{"set @@session.sql_mode := 'x'", []Fact{{Kind: Setting, Command: "SET", Object: "sql_mode"}}},
		{"SET @x = 1", nil},
		{"USE `other db`", []Fact{{Kind: Setting, Command: "USE", Object: "database", Value: "other db", Constant: true}}},
		{"select 1", nil},
	} {
		if pl := p.Plan(c.sql); !reflect.DeepEqual(pl.Facts, c.want) || pl.myIns != nil {
			t.Errorf("%q: facts %+v, want %+v", c.sql, pl.Facts, c.want)
		}
	}
}

func TestPlanMySQLImplicit(t *testing.T) {
	tbl := &Table{Columns: []TableColumn{{Name: "id", Seq: Name{"test", "t"}}, {Name: "a"}, {Name: "b"}}, ZeroGenerates: true}
	p := myPlanner(Options{})
	implicit := func(sql string, tbl *Table) *Plan {
		t.Helper()
		pl, err := p.Implicit(p.Plan(sql), func(n Name) (*Table, error) {
			if n != (Name{"test", "t"}) {
				t.Fatalf("asked for table %v", n)
			}
			return tbl, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return pl
	}
	for _, c := range []struct {
		sql    string
		kind   Kind
		out    string
		params []int // the calls' placeholders
		caller []int
		reason string
	}{
		{sql: "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)", kind: Implicit,
			out: "INSERT INTO t (a, b, `id`) VALUES (?, ?, LAST_INSERT_ID(?)), (?, ?, ?)", params: []int{3, 6}},
		{sql: "INSERT INTO t (id, a) VALUES (NULL, 1), (7, 2), (DEFAULT, 3), (0, 4)", kind: Implicit,
			out: "INSERT INTO t (id, a) VALUES (LAST_INSERT_ID(?), 1), (7, 2), (?, 3), (?, 4)", params: []int{1, 2, 3}},
		{sql: "INSERT INTO t VALUES (null, ?, 'x')", kind: Implicit, out: "INSERT INTO t VALUES (LAST_INSERT_ID(?), ?, 'x')", params: []int{1}},
		{sql: "INSERT INTO t (a, b) VALUES (NEXTVAL(s), ?)", kind: Implicit,
			out: "INSERT INTO t (a, b, `id`) VALUES (CAST(? AS SIGNED), ?, LAST_INSERT_ID(?))", params: []int{1, 3}},
		{sql: "insert into t set a = ?", kind: Implicit, out: "insert into t set a = ?, `id` = LAST_INSERT_ID(?)", params: []int{2}},
		{sql: "INSERT INTO t () VALUES ()", kind: Implicit, out: "INSERT INTO t (`id`) VALUES (LAST_INSERT_ID(?))", params: []int{1}},
		{sql: "INSERT INTO t (id, a) VALUES (5, 1)", kind: Pass},
		{sql: "INSERT INTO t (a, id) VALUES (?, ?)", kind: Pass, caller: []int{2}},
		{sql: "INSERT INTO t (a) SELECT a FROM u", kind: Refuse, reason: "INSERT ... SELECT"},
		{sql: "INSERT INTO t VALUES ()", kind: Refuse, reason: "name the column"},
	} {
		pl := implicit(c.sql, tbl)
		caller := pl.NullChecks
		if pl.Kind != c.kind || c.kind == Implicit && pl.SQL != c.out || !strings.Contains(pl.Reason, c.reason) {
			t.Errorf("%q: %v %q %q\n want %v %q", c.sql, pl.Kind, pl.SQL, pl.Reason, c.kind, c.out)
			continue
		}
		var params []int
		for _, cl := range pl.Calls {
			params = append(params, cl.Param)
		}
		if c.kind == Implicit && !reflect.DeepEqual(params, c.params) {
			t.Errorf("%q: placeholders %v, want %v", c.sql, params, c.params)
		}
		if !reflect.DeepEqual(caller, c.caller) {
			t.Errorf("%q: caller parameters %v, want %v", c.sql, caller, c.caller)
		}
	}
	// With NO_AUTO_VALUE_ON_ZERO, 0 is a value.
	noZero := *tbl
	noZero.ZeroGenerates = false
	if pl := implicit("INSERT INTO t (id, a) VALUES (0, 1)", &noZero); pl.Kind != Pass {
		t.Errorf("0 under NO_AUTO_VALUE_ON_ZERO: %v %q", pl.Kind, pl.SQL)
	}
	// An unmanaged sequence leaves the table to MariaDB.
	unmanaged := myPlanner(Options{Managed: func(Name) bool { return false }})
	if pl, err := unmanaged.Implicit(unmanaged.Plan("INSERT INTO t (a) VALUES (1)"), func(Name) (*Table, error) { return tbl, nil }); err != nil || pl.Kind != Pass {
		t.Errorf("unmanaged: %v %v", pl.Kind, err)
	}
}
