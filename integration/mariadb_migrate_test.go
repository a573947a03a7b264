package integration

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/seqshim/seqshim/internal/testenv"
	"github.com/seqshim/seqshim/migrate"
)

// TestMariaDBImportSequence imports a MariaDB sequence in use: the store
// starts past next_not_cached_value by the gap, MariaDB is capped just
// below and fails loudly past it, a second import changes nothing, and
// export moves MariaDB past the store.
func TestMariaDBImportSequence(t *testing.T) {
	e := newMyEnv(t)
	ctx := context.Background()
	s := testenv.UniqueName("ms")
	e.exec(e.native, "CREATE SEQUENCE "+s+" CACHE 10")
	t.Cleanup(func() { e.native.Exec("DROP SEQUENCE IF EXISTS " + s) })
	var v int64
	if err := e.native.QueryRow("SELECT NEXTVAL(" + s + ")").Scan(&v); err != nil || v != 1 {
		t.Fatalf("native NEXTVAL = %d, %v", v, err)
	}
	opts := migrate.Options{Gap: 100, Only: []string{"test." + s}}
	steps, err := migrate.MySQLImport(ctx, e.native, e.store, opts)
	if err != nil || len(steps) != 1 || steps[0].Action != migrate.ActionCreate || !steps[0].Applied {
		t.Fatalf("import: %+v, %v", steps, err)
	}
	// next_not_cached_value was 11 (a cache of 10): the store starts at 10 + 100.
	if steps[0].StoreNext != 110 || steps[0].Cap != 109 {
		t.Fatalf("store next %d cap %d, want 110 and 109", steps[0].StoreNext, steps[0].Cap)
	}
	if err := e.shim.QueryRow("SELECT NEXTVAL(" + s + ")").Scan(&v); err != nil || v != 110 {
		t.Fatalf("seqshim NEXTVAL = %d, %v; want 110", v, err)
	}
	// MariaDB's own sequence runs out below the store's values.
	if _, err := e.native.Exec("SELECT SETVAL(" + s + ", 108)"); err != nil {
		t.Fatal(err)
	}
	if err := e.native.QueryRow("SELECT NEXTVAL(" + s + ")").Scan(&v); err != nil || v != 109 {
		t.Fatalf("native NEXTVAL at the cap = %d, %v", v, err)
	}
	err = e.native.QueryRow("SELECT NEXTVAL(" + s + ")").Scan(&v)
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 4084 {
		t.Fatalf("native NEXTVAL past the cap = %d, %v; want 4084", v, err)
	}
	if again, err := migrate.MySQLImport(ctx, e.native, e.store, opts); err != nil || again[0].Action != migrate.ActionDone {
		t.Fatalf("second import: %+v, %v", again, err)
	}
	states, err := migrate.MySQLStatus(ctx, e.native, e.store, opts)
	if err != nil || len(states) != 1 || states[0].Phase != migrate.PhaseImported {
		t.Fatalf("status after import: %+v, %v", states, err)
	}
	// Export: MariaDB resumes past the store's next (at least 111: the
	// cache may have reserved ahead) by the gap.
	steps, err = migrate.MySQLExport(ctx, e.native, e.store, opts)
	if err != nil || steps[0].Action != migrate.ActionRestore || !steps[0].Applied {
		t.Fatalf("export: %+v, %v", steps, err)
	}
	if next := steps[0].StoreNext; next < 111 {
		t.Fatalf("store next %d at export, want at least 111", next)
	}
	if err := e.native.QueryRow("SELECT NEXTVAL(" + s + ")").Scan(&v); err != nil || v != steps[0].StoreNext+100 {
		t.Fatalf("native NEXTVAL after export = %d, %v; want %d", v, err, steps[0].StoreNext+100)
	}
	states, err = migrate.MySQLStatus(ctx, e.native, e.store, opts)
	if err != nil || states[0].Phase != migrate.PhaseExported {
		t.Fatalf("status after export: %+v, %v", states, err)
	}
}

// TestMariaDBImportAutoIncrement imports an AUTO_INCREMENT table: the
// store starts past its largest id by the gap; a table whose column has no
// unique key of its own is refused; and an id drawn by both sides is a
// loud 1062, never a silent duplicate.
func TestMariaDBImportAutoIncrement(t *testing.T) {
	e := newMyEnv(t)
	ctx := context.Background()
	tbl, weak := testenv.UniqueName("mt"), testenv.UniqueName("mw")
	e.exec(e.native, "CREATE TABLE "+tbl+" (id BIGINT AUTO_INCREMENT PRIMARY KEY, v INT)")
	e.exec(e.native, "CREATE TABLE "+weak+" (id BIGINT AUTO_INCREMENT, v INT, KEY (id))")
	t.Cleanup(func() { e.native.Exec("DROP TABLE IF EXISTS " + tbl + ", " + weak) })
	e.exec(e.native, "INSERT INTO "+tbl+" (v) VALUES (1), (2), (3)")

	_, err := migrate.MySQLImport(ctx, e.native, e.store, migrate.Options{Gap: 10, Only: []string{"test." + weak}})
	if err == nil || !strings.Contains(err.Error(), "no PRIMARY KEY or UNIQUE index") {
		t.Fatalf("import of a table without a unique key: %v", err)
	}
	opts := migrate.Options{Gap: 10, Only: []string{"test." + tbl}}
	steps, err := migrate.MySQLImport(ctx, e.native, e.store, opts)
	if err != nil || steps[0].Action != migrate.ActionCreate || steps[0].StoreNext != 13 || len(steps[0].SQL) != 0 {
		t.Fatalf("import: %+v, %v", steps, err)
	}
	states, err := migrate.MySQLStatus(ctx, e.native, e.store, opts)
	if err != nil || states[0].Phase != migrate.PhaseImported || states[0].Margin != 9 {
		t.Fatalf("status: %+v, %v", states, err)
	}
	// e.shim reads the table's description on its first INSERT, after the
	// import (a process that read it before keeps it until it sees DDL).
	res, err := e.shim.Exec("INSERT INTO "+tbl+" (v) VALUES (?)", 4)
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := res.LastInsertId(); id != 13 {
		t.Fatalf("seqshim's id %d, want 13", id)
	}
	// MariaDB moved its counter past 13: a native insert takes 14, and the
	// store's next value, 14, is then a loud duplicate.
	if _, err := e.native.Exec("INSERT INTO " + tbl + " (v) VALUES (5)"); err != nil {
		t.Fatal(err)
	}
	_, err = e.shim.Exec("INSERT INTO "+tbl+" (v) VALUES (?)", 6)
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1062 {
		t.Fatalf("colliding insert: %v, want 1062", err)
	}
}
