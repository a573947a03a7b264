package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/seqshim/seqshim/internal/testenv"
)

// cliDB returns the test database, a schema of the test's own (dropped at
// the end) and the flags that confine import, export and status to it:
// never run them unconfined on a shared database.
func cliDB(t *testing.T) (db *sql.DB, schema string, flags []string) {
	t.Helper()
	url := testenv.DatabaseURL(t)
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	schema = testenv.UniqueName("cli")
	cliExec(t, db, "CREATE SCHEMA "+schema)
	t.Cleanup(func() { db.Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE") })
	return db, schema, []string{"-database-url", url, "-allow", schema + ".*"}
}

func cliExec(t *testing.T, db *sql.DB, q string) {
	t.Helper()
	if _, err := db.Exec(q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func pgMaxValue(t *testing.T, db *sql.DB, schema, name string) (max int64, last sql.NullInt64) {
	t.Helper()
	if err := db.QueryRow("SELECT max_value, last_value FROM pg_sequences WHERE schemaname = $1 AND sequencename = $2",
		schema, name).Scan(&max, &last); err != nil {
		t.Fatal(err)
	}
	return max, last
}

// TestCLIImportExportStatus runs import (dry run, real, again), status,
// export and status again, in human and JSON output.
func TestCLIImportExportStatus(t *testing.T) {
	st := cliStore(t)
	db, schema, pg := cliDB(t)
	cliExec(t, db, fmt.Sprintf("CREATE SEQUENCE %s.a; CREATE SEQUENCE %[1]s.d INCREMENT -2 CYCLE; SELECT nextval('%[1]s.a') FROM generate_series(1, 10)", schema))
	flags := append(append([]string(nil), st...), pg...)
	a, d := schema+".a", schema+".d"

	// Dry run: the plan, nothing changed.
	out := wantRun(t, 0, nil, cmdArgs(flags, "import", "-gap", "100", "-dry-run")...)
	for _, w := range []string{
		"import plan (gap 100):",
		a + "  create  create in the store at 110; cap the database at MAXVALUE 109 (last value 10, 99 value(s) left to native instances)",
		d + "  create  create in the store at -201; cap the database at MINVALUE -199 (never called, next value -1, 100 value(s) left to native instances)",
		fmt.Sprintf(`%s: ALTER SEQUENCE "%s"."a" MAXVALUE 109`, a, schema),
		fmt.Sprintf(`%s: ALTER SEQUENCE "%s"."d" MINVALUE -199 NO CYCLE`, d, schema),
		"dry run: nothing changed",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("dry run lacks %q:\n%s", w, out)
		}
	}
	if m, _ := pgMaxValue(t, db, schema, "a"); m != 9223372036854775807 {
		t.Errorf("dry run capped a: %d", m)
	}
	wantRun(t, 1, []string{`relation "` + a + `" does not exist`}, cmdArgs(st, "get", a)...)
	// Status before import: both in the database only.
	out = wantRun(t, 0, nil, cmdArgs(flags, "status")...)
	if strings.Count(out, "database-only") != 2 || !strings.Contains(out, "`seqshim import -only "+a+"` imports it now") {
		t.Errorf("status before import:\n%s", out)
	}

	// Import, JSON.
	out = wantRun(t, 0, nil, cmdArgs(flags, "import", "-gap", "100", "-json")...)
	var rep jsonReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("import -json: %v\n%s", err, out)
	}
	if rep.Command != "import" || rep.DryRun || rep.Gap != 100 || len(rep.Plan) != 2 || len(rep.Result) != 2 {
		t.Fatalf("import -json: %s", out)
	}
	ra := rep.Result[0]
	if ra.Sequence != a || ra.Action != "create" || !ra.Applied || *ra.StoreStart != 110 || *ra.Cap != 109 ||
		ra.Database.LastValue != 10 || !ra.Database.IsCalled || ra.Store != nil || ra.SQL[0] != fmt.Sprintf(`ALTER SEQUENCE "%s"."a" MAXVALUE 109`, schema) {
		t.Errorf("import a: %+v", ra)
	}
	if rd := rep.Result[1]; rd.Sequence != d || *rd.StoreStart != -201 || *rd.Cap != -199 || rd.Database.IsCalled || !rd.Database.Cycle {
		t.Errorf("import d: %+v", rd)
	}
	if m, _ := pgMaxValue(t, db, schema, "a"); m != 109 {
		t.Errorf("a capped at %d, want 109", m)
	}
	out = wantRun(t, 0, nil, cmdArgs(st, "get", a, "-json")...)
	if !strings.Contains(out, `"start": 110`) || !strings.Contains(out, `"next": 110`) {
		t.Errorf("store after import: %s", out)
	}
	// Again: nothing to do, and it says so.
	out = wantRun(t, 0, nil, cmdArgs(flags, "import", "-gap", "100")...)
	if !strings.Contains(out, "nothing to do: every sequence is already imported; nothing changed") ||
		!strings.Contains(out, a+"  done  already imported: store first value 110, next 110; database MAXVALUE 109, last value 10") {
		t.Errorf("second import:\n%s", out)
	}

	// Status: imported, with the margins.
	out = wantRun(t, 0, nil, cmdArgs(flags, "status", "-json")...)
	var states []jsonState
	if err := json.Unmarshal([]byte(out), &states); err != nil {
		t.Fatal(err)
	}
	if len(states) != 2 || states[0].Phase != "imported" || states[0].Margin != 99 || states[1].Phase != "imported" || states[1].Margin != 100 {
		t.Errorf("status: %s", out)
	}
	out = wantRun(t, 0, nil, cmdArgs(flags, "status")...)
	if !strings.Contains(out, "SEQUENCE") || !strings.Contains(out, "max 109") || !strings.Contains(out, "min -199") || !strings.Contains(out, "(next -1)") {
		t.Errorf("status:\n%s", out)
	}

	// The store moves (seqshim handed out values); export moves the
	// database past it plus the gap, and lifts the caps.
	wantRun(t, 0, nil, cmdArgs(st, "setval", a, "150")...)
	out = wantRun(t, 0, nil, cmdArgs(flags, "export", "-gap", "1000", "-only", a, "-dry-run")...)
	if !strings.Contains(out, "restore MINVALUE 1 MAXVALUE 9223372036854775807 NO CYCLE; move the database's next value to 1151 (store next 151 + 1000*1)") ||
		!strings.Contains(out, fmt.Sprintf(`SELECT setval('"%s"."a"', 1150, true)`, schema)) || !strings.Contains(out, "dry run: nothing changed") {
		t.Errorf("export dry run:\n%s", out)
	}
	if m, _ := pgMaxValue(t, db, schema, "a"); m != 109 {
		t.Errorf("export dry run changed a: %d", m)
	}
	out = wantRun(t, 0, nil, cmdArgs(flags, "export", "-gap", "1000")...)
	if !strings.Contains(out, "2 sequence(s) changed") {
		t.Errorf("export:\n%s", out)
	}
	if m, last := pgMaxValue(t, db, schema, "a"); m != 9223372036854775807 || last.Int64 != 1150 {
		t.Errorf("a after export: max %d last %v", m, last)
	}
	out = wantRun(t, 0, nil, cmdArgs(flags, "export", "-gap", "1000")...)
	if !strings.Contains(out, "nothing to do: every sequence is already exported; nothing changed") {
		t.Errorf("second export:\n%s", out)
	}
	out = wantRun(t, 0, nil, cmdArgs(flags, "status", "-only", "a", "-schema", schema)...)
	if !strings.Contains(out, "exported") || !strings.Contains(out, "1000") {
		t.Errorf("status after export:\n%s", out)
	}
}

// TestCLIMigrateErrors: bad input to import, export and status, with the
// messages and exit codes.
func TestCLIMigrateErrors(t *testing.T) {
	st := cliStore(t)
	db, schema, pg := cliDB(t)
	flags := append(append([]string(nil), st...), pg...)
	cliExec(t, db, fmt.Sprintf("CREATE SEQUENCE %s.tiny AS smallint; SELECT setval('%[1]s.tiny', 32760); CREATE SEQUENCE %[1]s.ok", schema))

	// Usage: 2.
	for _, c := range []struct {
		args []string
		want string
	}{
		{cmdArgs(flags, "import", "-gap", "-1"), "seqshim import: usage: -gap -1: want 0 (exact handover) or a positive number of values"},
		{cmdArgs(flags, "export", "-gap", "-5"), "seqshim export: usage: -gap -5: want 0 (exact handover) or a positive number of values"},
		{cmdArgs(flags, "import", "-gap", "x"), `seqshim import: usage: invalid value "x" for flag -gap: parse error`},
		{cmdArgs(flags, "import", "-gap", "99999999999999999999"), `invalid value "99999999999999999999" for flag -gap: value out of range`},
		{cmdArgs(flags, "import", "-only", "123"), `seqshim import: usage: bad sequence name "123": sequence given by OID`},
		{cmdArgs(flags, "import", "-lock-timeout", "soon"), `invalid value "soon" for flag -lock-timeout`},
		{cmdArgs(flags, "status", "extra"), `seqshim status: usage: unexpected arguments ["extra"]`},
		{cmdArgs(flags, "import", "-allow", "public.*,a[b"), `seqshim import: usage: -allow/-deny: bad pattern "a[b": syntax error in pattern`},
		{cmdArgs(flags, "status", "-deny", `x\`), `seqshim status: usage: -allow/-deny: bad pattern "x\\": syntax error in pattern`},
		{cmdArgs(st, "import", "-database-url", ""), "seqshim import: usage: no database: set -database-url or DATABASE_URL"},
		{cmdArgs(st, "status", "-database-url", ""), "seqshim status: usage: no database: set -database-url or DATABASE_URL"},
		{[]string{"import", "-store", "redis://x", "-database-url", "postgres://x"}, `usage: -store "redis://x": want dynamodb://TABLE`},
	} {
		wantRun(t, 2, []string{c.want}, c.args...)
	}
	// The database does not answer: 1.
	wantRun(t, 1, []string{"seqshim import: connecting to the database:"},
		cmdArgs(st, "import", "-database-url", "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2")...)

	// Unknown sequences: 1, 42P01, naming it.
	wantRun(t, 1, []string{fmt.Sprintf(`seqshim import: sequence "%s.nope" does not exist in the database`, schema), "(SQLSTATE 42P01)",
		"check the name and --schema"}, cmdArgs(flags, "import", "-only", schema+".nope")...)
	wantRun(t, 1, []string{fmt.Sprintf(`seqshim export: relation "%s.ok" does not exist`, schema), "it is not in the store: check the name, --schema and --namespace"},
		cmdArgs(flags, "export", "-only", schema+".ok")...)
	wantRun(t, 1, []string{`seqshim status: relation "public.nope" does not exist`, "neither the database nor the store has it"},
		cmdArgs(flags, "status", "-only", "nope")...)
	// Excluded by -deny.
	wantRun(t, 1, []string{fmt.Sprintf("sequence %s.ok is excluded by --allow/--deny", schema)},
		cmdArgs(flags, "import", "-only", schema+".ok", "-deny", schema+".ok")...)

	// No room for the gap: a gap that fits, with a warning; a gap that
	// fits is used as given.
	out := wantRun(t, 0, nil, cmdArgs(flags, "import", "-gap", "100", "-dry-run")...)
	if !strings.Contains(out, "create in the store at 32764; cap the database at MAXVALUE 32763") ||
		!strings.Contains(out, fmt.Sprintf("WARNING: sequence %s.tiny: 7 value(s) remain from its next value 32761 to its MAXVALUE 32767, too few for the gap 100: "+
			"the database keeps 3 and the store starts at 32764", schema)) {
		t.Errorf("tiny with a gap that does not fit:\n%s", out)
	}
	out = wantRun(t, 0, nil, cmdArgs(flags, "import", "-gap", "7", "-only", schema+".tiny")...)
	if !strings.Contains(out, "create in the store at 32767; cap the database at MAXVALUE 32766") {
		t.Errorf("tiny with a smaller gap:\n%s", out)
	}
	if m, _ := pgMaxValue(t, db, schema, "tiny"); m != 32766 {
		t.Errorf("tiny cap %d", m)
	}
	// Exact handover: the store continues with the database's next value.
	// A sequence with nothing left fails with PostgreSQL's 2200H and the
	// fix; the other is imported, and the CLI names the fix commands.
	cliExec(t, db, fmt.Sprintf("CREATE SEQUENCE %s.spent MAXVALUE 2; SELECT nextval('%[1]s.spent'), nextval('%[1]s.spent')", schema))
	out = wantRun(t, 1, []string{fmt.Sprintf(`sequence %s.spent: nothing is left to hand over: its last value is its MAXVALUE`, schema), "(SQLSTATE 2200H): fix: widen its limit"},
		cmdArgs(flags, "import", "-gap", "0")...)
	if !strings.Contains(out, "exact handover: create in the store at 1") || !strings.Contains(out, "import plan (gap 0)") ||
		!strings.Contains(out, "1 sequence(s) changed") || !strings.Contains(out, "fix commands: `seqshim get NAME`") {
		t.Errorf("gap 0:\n%s", out)
	}
	if m, _ := pgMaxValue(t, db, schema, "ok"); m != 0 {
		t.Errorf("ok stopped at MAXVALUE %d, want 0", m)
	}

	// Overlap: the store has a sequence the database has gone past, uncapped.
	cliExec(t, db, fmt.Sprintf("CREATE SEQUENCE %s.o; SELECT nextval('%[1]s.o') FROM generate_series(1, 50)", schema))
	wantRun(t, 0, nil, cmdArgs(st, "create", schema+".o", "-start", "10")...)
	out = wantRun(t, 1, []string{fmt.Sprintf("seqshim status: 1 sequence(s) could overlap: %s.o: fix: `seqshim import --only NAME`", schema)},
		cmdArgs(flags, "status")...)
	if !strings.Contains(out, "overlap") || !strings.Contains(out, "can hand out values the store has handed out or will (first 10, next 10)") {
		t.Errorf("status overlap:\n%s", out)
	}
	// import then stops the database and moves the store past it.
	out = wantRun(t, 0, nil, cmdArgs(flags, "import", "-only", schema+".o", "-gap", "100")...)
	if !strings.Contains(out, "stop the database at MAXVALUE 50") || !strings.Contains(out, "move the store forward to 150") {
		t.Errorf("import over an overlap:\n%s", out)
	}
	wantRun(t, 0, nil, cmdArgs(flags, "status")...)
}
