package ormtest

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"
	gormmysql "gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	_ "github.com/seqshim/seqshim/driver" // registers "seqshim-mysql"
	"github.com/seqshim/seqshim/dynamo"
	"github.com/seqshim/seqshim/internal/testenv"
	"github.com/seqshim/seqshim/seqcache"
)

const table = "seqshim_integration"

// setup returns the MariaDB DSN of seqshim in a namespace of the test's
// own, a native connection, and creates the store sequences named by keys
// (starting at 1000, so that values from MariaDB's own counters would be
// told apart).
func setup(t *testing.T, keys ...string) (shimDSN string, native *sql.DB) {
	t.Helper()
	dsn := testenv.MariaDBDSN(t)
	cfg := testenv.AWSConfig(t)
	ns := testenv.UniqueName("orm")
	store, err := dynamo.New(cfg, dynamo.Options{Table: table, Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := store.EnsureTable(ctx); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		spec, err := seqcache.Define(k, seqcache.Start(1000))
		if err != nil {
			t.Fatal(err)
		}
		if err := store.Create(ctx, spec); err != nil {
			t.Fatal(err)
		}
	}
	native, err = sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { native.Close() })
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "seqshim.store=dynamodb://" + table + "&seqshim.namespace=" + ns, native
}

func exec(t *testing.T, db *sql.DB, q string) {
	t.Helper()
	if _, err := db.Exec(q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

type Order struct {
	ID   int64 `gorm:"primaryKey;autoIncrement"`
	Item string
}

// TestGORM creates rows one at a time and in a batch through GORM: the ids
// GORM reads back (from LastInsertId, the batch's computed from the first)
// are the ones stored, and they come from the store.
func TestGORM(t *testing.T) {
	tbl := testenv.UniqueName("gorm")
	dsn, native := setup(t, "test."+tbl)
	exec(t, native, "CREATE TABLE "+tbl+" (id BIGINT AUTO_INCREMENT PRIMARY KEY, item VARCHAR(20))")
	t.Cleanup(func() { native.Exec("DROP TABLE IF EXISTS " + tbl) })
	db, err := gorm.Open(gormmysql.New(gormmysql.Config{DriverName: "seqshim-mysql", DSN: dsn}),
		&gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	defer sqlDB.Close()
	one := Order{Item: "one"}
	if err := db.Table(tbl).Create(&one).Error; err != nil {
		t.Fatal(err)
	}
	batch := []Order{{Item: "a"}, {Item: "b"}, {Item: "c"}}
	if err := db.Table(tbl).Create(&batch).Error; err != nil {
		t.Fatal(err)
	}
	want := map[int64]string{one.ID: "one", batch[0].ID: "a", batch[1].ID: "b", batch[2].ID: "c"}
	if one.ID != 1000 || batch[0].ID != 1001 || batch[2].ID != 1003 {
		t.Errorf("ids %d and %d..%d, want 1000 and 1001..1003 from the store", one.ID, batch[0].ID, batch[2].ID)
	}
	rows, err := native.Query("SELECT id, item FROM " + tbl)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id int64
		var item string
		if err := rows.Scan(&id, &item); err != nil {
			t.Fatal(err)
		}
		if want[id] != item {
			t.Errorf("row %d is %q, GORM says %q", id, item, want[id])
		}
		n++
	}
	if n != 4 {
		t.Errorf("%d rows, want 4", n)
	}
}

// TestSqlx uses sqlx's named statements, which bind positionally, with a
// NEXT VALUE FOR among them, and its Get on a Local plan.
func TestSqlx(t *testing.T) {
	seq := testenv.UniqueName("sx")
	tbl := testenv.UniqueName("sxt")
	dsn, native := setup(t, "test."+seq)
	exec(t, native, "CREATE SEQUENCE "+seq)
	exec(t, native, "CREATE TABLE "+tbl+" (id BIGINT PRIMARY KEY, a INT, b VARCHAR(10))")
	t.Cleanup(func() { native.Exec("DROP TABLE IF EXISTS " + tbl); native.Exec("DROP SEQUENCE IF EXISTS " + seq) })
	db, err := sqlx.Open("seqshim-mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	type row struct {
		A int    `db:"a"`
		B string `db:"b"`
	}
	_, err = db.NamedExec("INSERT INTO "+tbl+" (a, id, b) VALUES (:a, NEXT VALUE FOR "+seq+", :b)", []row{{1, "x"}, {2, "y"}})
	if err != nil {
		t.Fatal(err)
	}
	var next int64
	if err := db.Get(&next, "SELECT NEXTVAL("+seq+")"); err != nil || next != 1002 {
		t.Fatalf("NEXTVAL = %d, %v; want 1002", next, err)
	}
	var got []struct {
		ID int64 `db:"id"`
		row
	}
	if err := sqlx.NewDb(native, "mysql").Select(&got, "SELECT id, a, b FROM "+tbl+" ORDER BY id"); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != 1000 || got[0].A != 1 || got[0].B != "x" || got[1].ID != 1001 || got[1].B != "y" {
		t.Fatalf("rows %+v", got)
	}
	var untouched int64
	if err := native.QueryRow("SELECT next_not_cached_value FROM " + seq).Scan(&untouched); err != nil || untouched != 1 {
		t.Fatalf("MariaDB's own sequence moved: %d, %v", untouched, err)
	}
}
