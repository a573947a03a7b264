package rewrite

import (
	"reflect"
	"strings"
	"testing"
)

func TestDescribeMySQL(t *testing.T) {
	d := DescribeMySQL("INSERT IGNORE INTO db.`t` PARTITION (p1) (a, `id`, t.b) VALUES (1, ?, 'x'), (NULL, DEFAULT, f(1, 2))", "test")
	ins := d.Insert
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
	if s := DescribeMySQL("insert t set a = 1, id = null on duplicate key update a = 2", "test").Insert; s == nil ||
		!reflect.DeepEqual(s.SetColumns, []string{"a", "id"}) || s.Table != (Name{"test", "t"}) {
		t.Errorf("SET form %+v", s)
	}
	if s := DescribeMySQL("REPLACE INTO t SELECT * FROM u", "test").Insert; s == nil || !s.Select {
		t.Errorf("SELECT form %+v", s)
	}
	for _, c := range []struct {
		sql       string
		ddl, set_ bool
	}{{"/* x */ alter table t add c int", true, false}, {"TRUNCATE t", true, false}, {"SET sql_mode = ''", false, true}, {"select 1", false, false}} {
		if d := DescribeMySQL(c.sql, "test"); d.DDL != c.ddl || d.Set != c.set_ || d.Insert != nil {
			t.Errorf("%q: %+v", c.sql, d)
		}
	}
}

func TestPlanMySQLImplicit(t *testing.T) {
	tbl := &MySQLTable{Columns: []string{"id", "a", "b"}, Auto: "id", Seq: Name{"test", "t"}, Key: "test.t", ZeroGenerates: true}
	p := myPlanner(Options{})
	for _, c := range []struct {
		sql    string
		kind   Kind
		out    string
		params []int // the calls' placeholders
		caller []int
		reason string
	}{
		{sql: "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)", kind: Bind,
			out: "INSERT INTO t (a, b, `id`) VALUES (?, ?, LAST_INSERT_ID(?)), (?, ?, ?)", params: []int{3, 6}},
		{sql: "INSERT INTO t (id, a) VALUES (NULL, 1), (7, 2), (DEFAULT, 3), (0, 4)", kind: Bind,
			out: "INSERT INTO t (id, a) VALUES (LAST_INSERT_ID(?), 1), (7, 2), (?, 3), (?, 4)", params: []int{1, 2, 3}},
		{sql: "INSERT INTO t VALUES (null, ?, 'x')", kind: Bind, out: "INSERT INTO t VALUES (LAST_INSERT_ID(?), ?, 'x')", params: []int{1}},
		{sql: "INSERT INTO t (a, b) VALUES (NEXTVAL(s), ?)", kind: Bind,
			out: "INSERT INTO t (a, b, `id`) VALUES (CAST(? AS SIGNED), ?, LAST_INSERT_ID(?))", params: []int{1, 3}},
		{sql: "insert into t set a = ?", kind: Bind, out: "insert into t set a = ?, `id` = LAST_INSERT_ID(?)", params: []int{2}},
		{sql: "INSERT INTO t () VALUES ()", kind: Bind, out: "INSERT INTO t (`id`) VALUES (LAST_INSERT_ID(?))", params: []int{1}},
		{sql: "INSERT INTO t (id, a) VALUES (5, 1)", kind: Pass},
		{sql: "INSERT INTO t (a, id) VALUES (?, ?)", kind: Pass, caller: []int{2}},
		{sql: "INSERT INTO t (a) SELECT a FROM u", kind: Refuse, reason: "INSERT ... SELECT"},
		{sql: "INSERT INTO t VALUES ()", kind: Refuse, reason: "name the column"},
	} {
		base := p.Plan(c.sql)
		ins := DescribeMySQL(c.sql, "test").Insert
		if ins == nil {
			t.Fatalf("%q: not described", c.sql)
		}
		pl, caller := PlanMySQLImplicit(base, ins, tbl)
		if pl.Kind != c.kind || c.kind == Bind && pl.SQL != c.out || !strings.Contains(pl.Reason, c.reason) {
			t.Errorf("%q: %v %q %q\n want %v %q", c.sql, pl.Kind, pl.SQL, pl.Reason, c.kind, c.out)
			continue
		}
		var params []int
		for _, cl := range pl.Calls {
			params = append(params, cl.Param)
		}
		if c.kind == Bind && !reflect.DeepEqual(params, c.params) {
			t.Errorf("%q: placeholders %v, want %v", c.sql, params, c.params)
		}
		if !reflect.DeepEqual(caller, c.caller) {
			t.Errorf("%q: caller parameters %v, want %v", c.sql, caller, c.caller)
		}
	}
	// With NO_AUTO_VALUE_ON_ZERO, 0 is a value.
	noZero := *tbl
	noZero.ZeroGenerates = false
	sql := "INSERT INTO t (id, a) VALUES (0, 1)"
	if pl, _ := PlanMySQLImplicit(p.Plan(sql), DescribeMySQL(sql, "test").Insert, &noZero); pl.Kind != Pass {
		t.Errorf("0 under NO_AUTO_VALUE_ON_ZERO: %v %q", pl.Kind, pl.SQL)
	}
}
