package migrate

import (
	"math"
	"strings"
	"testing"

	"github.com/seqshim/seqshim/seqcache"
)

func TestMySQLPlanImport(t *testing.T) {
	seq := mysqlObject{Native: Native{Schema: "db", Name: "s", Start: -1, Increment: -2, MinValue: -100, MaxValue: -1,
		Cycle: true, Cache: 1000, LastValue: -11, Called: true}}
	st := mysqlPlanImport(seq, nil, 10)
	if st.Action != ActionCreate || st.StoreNext != -31 || st.Cap != -29 ||
		len(st.SQL) != 1 || st.SQL[0] != "ALTER SEQUENCE `db`.`s` MINVALUE -29 NOCYCLE" {
		t.Errorf("descending sequence: %+v", st)
	}
	tbl := mysqlObject{Native: Native{Schema: "db", Name: "t`x", Start: 1, Increment: 1, MinValue: 1, MaxValue: math.MaxInt32,
		Cache: 1, LastValue: 41, Called: true}, table: true, column: "id", unique: true}
	st = mysqlPlanImport(tbl, nil, 10)
	if st.Action != ActionCreate || st.StoreNext != 51 || st.SQL != nil || st.Spec.MaxValue != math.MaxInt32 ||
		!strings.Contains(st.Note, "AUTO_INCREMENT cannot be capped") {
		t.Errorf("table: %+v", st)
	}
	tbl.unique = false
	if st = mysqlPlanImport(tbl, nil, 10); st.Action != ActionFail || !strings.Contains(st.Err.Error(), "ALTER TABLE `db`.`t``x` ADD UNIQUE (`id`)") {
		t.Errorf("table without a unique key: %+v", st)
	}
	// The table's ids have reached the store's: no stopping an AUTO_INCREMENT.
	tbl.unique = true
	e := &seqcache.Sequence{Spec: seqcache.Spec{Name: "db.t`x", Start: 30, Increment: 1, MinValue: 1, MaxValue: math.MaxInt32, Cache: 1}, Next: 35}
	if st = mysqlPlanImport(tbl, e, 10); st.Action != ActionFail || !strings.Contains(st.Err.Error(), "have reached the store's") {
		t.Errorf("table past the store: %+v", st)
	}
}

func TestTypeMax(t *testing.T) {
	for ct, want := range map[string]int64{"int(11)": math.MaxInt32, "int(10) unsigned": math.MaxUint32, "bigint(20)": math.MaxInt64,
		"bigint(20) unsigned": math.MaxInt64, "tinyint(4)": 127, "smallint(5) unsigned": 65535, "mediumint(9)": 1<<23 - 1} {
		if got := typeMax(ct); got != want {
			t.Errorf("typeMax(%q) = %d, want %d", ct, got, want)
		}
	}
}
