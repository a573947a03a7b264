package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/seqshim/seqshim/dynamo"
	"github.com/seqshim/seqshim/internal/testenv"
)

// cliTable is the DynamoDB table the CLI tests share; each test has its
// own namespace in it.
const cliTable = "seqshim_cli_test"

// runCLI runs the CLI in process, as main does: exit code and output.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// wantRun runs the CLI and checks the exit code and that stderr holds
// every fragment of want.
func wantRun(t *testing.T, code int, want []string, args ...string) (stdout string) {
	t.Helper()
	got, stdout, stderr := runCLI(t, args...)
	if got != code {
		t.Errorf("seqshim %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), got, code, stdout, stderr)
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("seqshim %s: stderr lacks %q:\n%s", strings.Join(args, " "), w, stderr)
		}
	}
	return stdout
}

// cliStore makes the DynamoDB endpoint usable by the in-process CLI (as
// the standard chain sees it) and returns the store flags of a namespace
// of the test's own in cliTable.
func cliStore(t *testing.T) []string {
	t.Helper()
	testenv.DynamoEndpoint(t)
	if os.Getenv("AWS_REGION") == "" && os.Getenv("AWS_DEFAULT_REGION") == "" {
		t.Setenv("AWS_REGION", "us-east-1")
	}
	if os.Getenv("AWS_ACCESS_KEY_ID") == "" && os.Getenv("AWS_PROFILE") == "" {
		t.Setenv("AWS_ACCESS_KEY_ID", "local")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
	}
	for _, k := range []string{"SEQSHIM_STORE", "SEQSHIM_NAMESPACE", "SEQSHIM_SCHEMA", "SEQSHIM_ALLOW", "SEQSHIM_DENY"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	if code, _, stderr := runCLI(t, "table", "create", "-store", "dynamodb://"+cliTable); code != 0 {
		t.Fatalf("table create: %d %s", code, stderr)
	}
	return []string{"-store", "dynamodb://" + cliTable, "-namespace", testenv.UniqueName("cli")}
}

// cmdArgs is command, then the store flags st, then more.
func cmdArgs(st []string, command string, more ...string) []string {
	return append(append([]string{command}, st...), more...)
}

func TestCLIUsage(t *testing.T) {
	if code, _, stderr := runCLI(t); code != 2 || !strings.Contains(stderr, "usage: seqshim <command> [flags]") {
		t.Errorf("no command: %d %q", code, stderr)
	}
	for _, h := range []string{"help", "-h", "--help"} {
		if code, _, stderr := runCLI(t, h); code != 0 || !strings.Contains(stderr, "import ") || !strings.Contains(stderr, "status ") {
			t.Errorf("%s: %d %q", h, code, stderr)
		}
	}
	wantRun(t, 2, []string{`seqshim: unknown command "nope"`, "usage: seqshim"}, "nope")
	for _, c := range []string{"create", "get", "list", "setval", "drop", "import", "export", "status"} {
		if code, _, stderr := runCLI(t, c, "-h"); code != 0 || !strings.Contains(stderr, "-store") || !strings.Contains(stderr, "-namespace") {
			t.Errorf("%s -h: %d %q", c, code, stderr)
		}
	}
	for _, c := range []string{"import", "export"} {
		if _, _, stderr := runCLI(t, c, "--help"); !strings.Contains(stderr, "-gap") || !strings.Contains(stderr, "-dry-run") || !strings.Contains(stderr, "-only") {
			t.Errorf("%s --help: %q", c, stderr)
		}
	}
	wantRun(t, 2, []string{"usage: seqshim table create", "seqshim table: usage: want 'table create'"}, "table")
	wantRun(t, 2, []string{"seqshim table: usage: want 'table create'"}, "table", "drop")
	// Bad flags and arguments are usage errors (2), found before any service is used.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"table", "create", "-store", "foo://x"}, `seqshim table: usage: -store "foo://x": want dynamodb://TABLE`},
		{[]string{"get", "s", "-store", "dynamodb://"}, `usage: -store "dynamodb://": want dynamodb://TABLE`},
		{[]string{"get"}, "seqshim get: usage: want [NAME], got 0 argument(s)"},
		{[]string{"get", "a", "b"}, "seqshim get: usage: want [NAME], got 2 argument(s)"},
		{[]string{"get", "123"}, `seqshim get: usage: bad sequence name "123": sequence given by OID`},
		{[]string{"get", `"unterminated`}, `seqshim get: usage: bad sequence name "\"unterminated": invalid name syntax`},
		{[]string{"drop", "db.public.s"}, `seqshim drop: usage: bad sequence name "db.public.s": catalog-qualified sequence name`},
		{[]string{"list", "extra"}, `seqshim list: usage: unexpected arguments ["extra"]`},
		{[]string{"create", "s", "-increment", "x"}, `seqshim create: usage: invalid value "x" for flag -increment: not an integer: "x"`},
		{[]string{"create", "s", "-start", "9223372036854775808"}, `invalid value "9223372036854775808" for flag -start: not an integer`},
		{[]string{"create", "s", "-bogus"}, "seqshim create: usage: flag provided but not defined: -bogus"},
		{[]string{"setval", "s"}, "seqshim setval: usage: want [NAME VALUE], got 1 argument(s)"},
		{[]string{"setval", "s", "abc"}, `seqshim setval: usage: VALUE "abc" is not an integer between -9223372036854775808 and 9223372036854775807`},
		{[]string{"setval", "s", "99999999999999999999"}, `VALUE "99999999999999999999" is not an integer`},
		{[]string{"setval", "s", "1.5"}, `VALUE "1.5" is not an integer`},
		{[]string{"setval", "s", "5", "-is-called=maybe"}, `invalid boolean value "maybe" for -is-called`},
	} {
		wantRun(t, 2, []string{c.want}, c.args...)
	}
}

// TestCLIAdmin runs table create, create, get, list, setval and drop on
// DynamoDB, with good and bad input.
func TestCLIAdmin(t *testing.T) {
	st := cliStore(t)

	// table create: idempotent, human and JSON.
	out := wantRun(t, 0, nil, "table", "create", "-store", "dynamodb://"+cliTable)
	if out != "table "+cliTable+" is ready\n" {
		t.Errorf("table create: %q", out)
	}
	out = wantRun(t, 0, nil, "table", "create", "-store", "dynamodb://"+cliTable, "-json")
	if out != "{\n  \"status\": \"ACTIVE\",\n  \"table\": \""+cliTable+"\"\n}\n" {
		t.Errorf("table create -json: %q", out)
	}

	// create, with every parameter, and its JSON.
	out = wantRun(t, 0, nil, cmdArgs(st, "create", "Orders_Seq", "-start", "100", "-increment", "5", "-minvalue", "10",
		"-maxvalue", "1000", "-cache", "20", "-cycle", "-json")...)
	want := `[
  {
    "name": "public.orders_seq",
    "start": 100,
    "increment": 5,
    "minvalue": 10,
    "maxvalue": 1000,
    "cycle": true,
    "cache": 20,
    "ordered": false,
    "next": 100
  }
]
`
	if out != want {
		t.Errorf("create -json:\n%s\nwant:\n%s", out, want)
	}
	out = wantRun(t, 0, nil, cmdArgs(st, "create", `app."Down"`, "-increment", "-1", "-ordered")...)
	if !strings.Contains(out, "app.Down") || !strings.Contains(out, "-9223372036854775808") || !strings.Contains(out, "true") {
		t.Errorf("create descending: %q", out)
	}
	// Bad definitions: 22023 with PostgreSQL's wording, exit 1.
	wantRun(t, 1, []string{`seqshim create: sequence "public.s": INCREMENT must not be zero (SQLSTATE 22023)`}, cmdArgs(st, "create", "s", "-increment", "0")...)
	wantRun(t, 1, []string{`sequence "public.s": MINVALUE (10) must be less than MAXVALUE (5) (SQLSTATE 22023)`}, cmdArgs(st, "create", "s", "-minvalue", "10", "-maxvalue", "5")...)
	wantRun(t, 1, []string{`sequence "public.s": START value (0) cannot be less than MINVALUE (1) (SQLSTATE 22023)`}, cmdArgs(st, "create", "s", "-start", "0")...)
	wantRun(t, 1, []string{`sequence "public.s": CACHE (0) must be greater than zero (SQLSTATE 22023)`}, cmdArgs(st, "create", "s", "-cache", "0")...)
	// Already there: 42P07 and the fix.
	wantRun(t, 1, []string{`seqshim create: relation "public.orders_seq" already exists`, "(SQLSTATE 42P07)",
		"fix: `seqshim get public.orders_seq` shows it, `seqshim drop public.orders_seq` removes it"}, cmdArgs(st, "create", "orders_seq")...)

	// get: names resolve as regclass does.
	out = wantRun(t, 0, nil, cmdArgs(st, "get", "ORDERS_SEQ")...)
	if !strings.Contains(out, "public.orders_seq") || !strings.Contains(out, "100") {
		t.Errorf("get: %q", out)
	}
	wantRun(t, 0, nil, cmdArgs(st, "get", `app."Down"`)...)
	wantRun(t, 1, []string{`seqshim get: relation "app.down" does not exist`, "(SQLSTATE 42P01)",
		`fix: check the name, -schema "public" and -namespace "`}, cmdArgs(st, "get", "app.Down")...)
	wantRun(t, 1, []string{`relation "public.nope" does not exist`, "(SQLSTATE 42P01)"}, cmdArgs(st, "get", "nope")...)
	wantRun(t, 0, nil, cmdArgs(st, "get", "orders_seq", "-schema", "public")...)
	wantRun(t, 1, []string{`relation "other.orders_seq" does not exist`}, cmdArgs(st, "get", "orders_seq", "-schema", "other")...)
	// Another namespace does not see it.
	wantRun(t, 1, []string{`relation "public.orders_seq" does not exist`}, "get", "orders_seq", "-store", "dynamodb://"+cliTable, "-namespace", testenv.UniqueName("other"))

	// setval: out of range, is_called, unknown.
	wantRun(t, 1, []string{`seqshim setval: setval: value 5 is out of bounds for sequence "public.orders_seq" (10..1000) (SQLSTATE 22003)`},
		cmdArgs(st, "setval", "orders_seq", "5")...)
	wantRun(t, 1, []string{`value 1001 is out of bounds`}, cmdArgs(st, "setval", "orders_seq", "1001")...)
	wantRun(t, 1, []string{`relation "public.nope" does not exist`, "(SQLSTATE 42P01)", "fix: check the name"}, cmdArgs(st, "setval", "nope", "5")...)
	out = wantRun(t, 0, nil, cmdArgs(st, "setval", "orders_seq", "500", "-json")...)
	if !strings.Contains(out, `"next": 505`) {
		t.Errorf("setval: %s", out)
	}
	out = wantRun(t, 0, nil, cmdArgs(st, "setval", "orders_seq", "500", "-is-called=false", "-json")...)
	if !strings.Contains(out, `"next": 500`) {
		t.Errorf("setval is_called false: %s", out)
	}
	// At the limit: exhausted.
	out = wantRun(t, 0, nil, cmdArgs(st, "setval", "orders_seq", "1000", "-json")...)
	if !strings.Contains(out, `"next": null`) {
		t.Errorf("setval at the limit: %s", out)
	}
	if out = wantRun(t, 0, nil, cmdArgs(st, "get", "orders_seq")...); !strings.Contains(out, "exhausted") {
		t.Errorf("get exhausted: %q", out)
	}

	// list: the namespace's sequences, ordered by name.
	out = wantRun(t, 0, nil, cmdArgs(st, "list", "-json")...)
	var seqs []jsonSeq
	if err := json.Unmarshal([]byte(out), &seqs); err != nil {
		t.Fatalf("list -json: %v\n%s", err, out)
	}
	if len(seqs) != 2 || seqs[0].Name != "app.Down" || seqs[1].Name != "public.orders_seq" ||
		seqs[0].Increment != -1 || !seqs[0].Ordered || seqs[1].Next != nil {
		t.Errorf("list: %s", out)
	}
	lines := strings.Split(strings.TrimSpace(wantRun(t, 0, nil, cmdArgs(st, "list")...)), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "name") || !strings.Contains(lines[1], "app.Down") || !strings.Contains(lines[2], "public.orders_seq") {
		t.Errorf("list: %q", lines)
	}

	// drop.
	if out = wantRun(t, 0, nil, cmdArgs(st, "drop", "orders_seq")...); out != "dropped public.orders_seq\n" {
		t.Errorf("drop: %q", out)
	}
	wantRun(t, 1, []string{`seqshim drop: relation "public.orders_seq" does not exist`, "(SQLSTATE 42P01)"}, cmdArgs(st, "drop", "orders_seq")...)
	wantRun(t, 1, []string{`seqshim get: relation "public.orders_seq" does not exist`}, cmdArgs(st, "get", "orders_seq")...)
	if out = wantRun(t, 0, nil, cmdArgs(st, "drop", `app."Down"`, "-json")...); out != "{\n  \"dropped\": \"app.Down\"\n}\n" {
		t.Errorf("drop -json: %q", out)
	}
	if out = wantRun(t, 0, nil, cmdArgs(st, "list", "-json")...); out != "[]\n" {
		t.Errorf("empty list: %q", out)
	}
}

// TestCLIMissingTable: every store command on a table that does not exist
// fails with exit 1 and the command that creates it.
func TestCLIMissingTable(t *testing.T) {
	cliStore(t)
	table := testenv.UniqueName("seqshim_missing_")
	store := []string{"-store", "dynamodb://" + table}
	fix := "fix: create the table with `seqshim table create -store dynamodb://" + table + "`"
	missing := `DynamoDB table "` + table + `" does not exist`
	for _, a := range [][]string{
		{"get", "s"}, {"list"}, {"create", "s"}, {"setval", "s", "5"}, {"drop", "s"},
	} {
		wantRun(t, 1, []string{missing, "(SQLSTATE 08006)", fix}, append(a, store...)...)
	}
	// table create makes it; then it works.
	wantRun(t, 0, nil, append([]string{"table", "create"}, store...)...)
	t.Cleanup(func() {
		s, err := dynamo.Open(context.Background(), dynamo.Options{Table: table})
		if err == nil {
			s.Client().DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &table})
		}
	})
	if out := wantRun(t, 0, nil, append([]string{"list", "-json"}, store...)...); out != "[]\n" {
		t.Errorf("list on the new table: %q", out)
	}
}
