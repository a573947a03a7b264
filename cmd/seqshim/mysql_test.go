package main

import (
	"database/sql"
	"strings"
	"testing"

	"github.com/seqshim/seqshim/internal/testenv"
)

// TestCLIMariaDB runs import (dry run, real), status and export against
// MariaDB, confined with -only to a sequence and a table of the test's own.
func TestCLIMariaDB(t *testing.T) {
	st := cliStore(t)
	dsn := testenv.MariaDBDSN(t)
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, tbl := testenv.UniqueName("cs"), testenv.UniqueName("ct")
	cliExec(t, db, "CREATE SEQUENCE "+s+" CACHE 1")
	cliExec(t, db, "CREATE TABLE "+tbl+" (id INT AUTO_INCREMENT PRIMARY KEY)")
	t.Cleanup(func() { db.Exec("DROP SEQUENCE IF EXISTS " + s); db.Exec("DROP TABLE IF EXISTS " + tbl) })
	cliExec(t, db, "INSERT INTO "+tbl+" VALUES (), ()")
	flags := append(append([]string(nil), st...), "-mysql-dsn", dsn, "-only", s+","+tbl)

	out := wantRun(t, 0, nil, cmdArgs(flags, "import", "-gap", "100", "-dry-run")...)
	for _, w := range []string{
		"test." + s + "  create  create in the store at 101; cap the database at MAXVALUE 100 (never called, next value 1",
		"test." + s + ": ALTER SEQUENCE `test`.`" + s + "` MAXVALUE 100",
		"test." + tbl + "  create  create in the store at 102 (MariaDB's next id 3)",
		"AUTO_INCREMENT cannot be capped",
		"dry run: nothing changed",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("dry run lacks %q:\n%s", w, out)
		}
	}
	wantRun(t, 0, nil, cmdArgs(flags, "import", "-gap", "100")...)
	var max int64
	if err := db.QueryRow("SELECT maximum_value FROM " + s).Scan(&max); err != nil || max != 100 {
		t.Fatalf("cap: %d, %v", max, err)
	}
	out = wantRun(t, 0, nil, cmdArgs(flags, "status")...)
	if strings.Count(out, "imported") != 2 {
		t.Errorf("status after import:\n%s", out)
	}
	wantRun(t, 0, nil, cmdArgs(flags, "export", "-gap", "100")...)
	var ai int64
	if err := db.QueryRow("SELECT AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?", tbl).Scan(&ai); err != nil || ai != 202 {
		t.Fatalf("AUTO_INCREMENT after export: %d, %v; want 202", ai, err)
	}
	out = wantRun(t, 0, nil, cmdArgs(flags, "status")...)
	if strings.Count(out, "exported") != 2 {
		t.Errorf("status after export:\n%s", out)
	}
}
