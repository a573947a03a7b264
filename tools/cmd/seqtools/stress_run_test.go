package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/seqshim/seqshim/dynamo"
	"github.com/seqshim/seqshim/internal/testenv"
)

var stressDuration = flag.Duration("stress.duration", 20*time.Second, "how long TestStress's workers insert")

// stressTable is the DynamoDB table the stress runs of the tests share,
// each in a namespace of its own; the library's integration tests use it too.
const stressTable = "seqshim_integration"

// runReport is the part of `seqtools stress -json`'s report the test
// reads; the test checks the table and the store itself.
type runReport struct {
	Kills            int      `json:"kills"`
	Incarnations     int      `json:"incarnations"`
	Rows             int64    `json:"rows"`
	Gaps             int64    `json:"gaps"`
	LostAtStop       int64    `json:"lost_at_stop"`
	LostToKills      int64    `json:"lost_to_kills"`
	UniqueViolations int      `json:"unique_violations"`
	Failures         []string `json:"failures"`
	OK               bool     `json:"ok"`
}

// TestStress runs `seqtools stress`: 6 worker processes, 8 goroutines
// each, insert through seqshim into one table whose primary key comes
// from one DynamoDB sequence with blocks of 100, while the supervisor
// SIGKILLs and restarts random workers 12 times. The test then checks the
// table and the store itself: no unique violation, ids increasing per
// goroutine of each incarnation, the store past every id, and the values
// lost to kills within their bound.
func TestStress(t *testing.T) {
	url := testenv.DatabaseURL(t)
	cfg := testenv.AWSConfig(t)
	const (
		workers, goroutines, kills = 6, 8, 12
		block                      = 100
	)
	d := *stressDuration
	if testing.Short() {
		d = min(d, 8*time.Second)
	}
	bin := buildSeqtools(t)

	ns, pgTable, seqKey, store, native := stressFixture(t, cfg, url, "stress")

	// -block-size: fixed blocks of 100 and no outage cover, which the loss
	// bounds below assume (TestStressRunway runs the defaults).
	rep := runStressTest(t, d, bin, url, cfg.Region, "-workers", fmt.Sprint(workers), "-goroutines", fmt.Sprint(goroutines),
		"-kills", fmt.Sprint(kills), "-block-size", fmt.Sprint(block), "-namespace", ns, "-pg-table", pgTable)
	t.Logf("%v, %d workers x %d goroutines, block %d: %d kills, %d incarnations, %d rows; %d values reserved and not in a row: %d lost to kills (%.0f a kill), %d not given back at the final stop",
		d, workers, goroutines, block, rep.Kills, rep.Incarnations, rep.Rows, rep.Gaps, rep.LostToKills,
		float64(rep.LostToKills)/float64(max(1, rep.Kills)), rep.LostAtStop)

	// What the supervisor reported, checked against the table and the
	// store directly.
	if rep.Kills < 10 || rep.Kills != kills {
		t.Errorf("%d kills; want %d", rep.Kills, kills)
	}
	if rep.Incarnations != workers+rep.Kills {
		t.Errorf("%d incarnations; want %d workers + %d restarts", rep.Incarnations, workers, rep.Kills)
	}
	if rep.UniqueViolations != 0 {
		t.Errorf("%d unique violations reported", rep.UniqueViolations)
	}
	var rows, distinct, maxID int64
	var perWorker int
	if err := native.QueryRow(fmt.Sprintf("SELECT count(*), count(DISTINCT id), max(id), count(DISTINCT worker) FROM %s", pgTable)).
		Scan(&rows, &distinct, &maxID, &perWorker); err != nil {
		t.Fatal(err)
	}
	if rows != rep.Rows || distinct != rows || perWorker != workers {
		t.Errorf("%d rows, %d distinct ids, rows from %d workers; want %d rows, all distinct, from %d workers",
			rows, distinct, perWorker, rep.Rows, workers)
	}
	// Ids increase in insertion order (n) within each goroutine of each
	// incarnation, and n numbers its rows 1, 2, 3, ... without a hole.
	var disorder, holes int
	if err := native.QueryRow(fmt.Sprintf(`SELECT count(*) FROM (
		SELECT id, lag(id) OVER (PARTITION BY worker, incarnation, goroutine ORDER BY n) AS prev FROM %s) x
		WHERE id <= prev`, pgTable)).Scan(&disorder); err != nil {
		t.Fatal(err)
	}
	if err := native.QueryRow(fmt.Sprintf(`SELECT count(*) FROM (
		SELECT min(n) AS lo, max(n) AS hi, count(*) AS c FROM %s GROUP BY worker, incarnation, goroutine) x
		WHERE lo <> 1 OR hi <> c`, pgTable)).Scan(&holes); err != nil {
		t.Fatal(err)
	}
	if disorder != 0 || holes != 0 {
		t.Errorf("%d ids not above their goroutine's previous one, %d goroutines with holes in their numbering", disorder, holes)
	}
	sq, err := store.Get(context.Background(), seqKey)
	if err != nil {
		t.Fatal(err)
	}
	if sq.Exhausted || sq.Next <= maxID {
		t.Errorf("the store's next value %d is not past the largest id %d", sq.Next, maxID)
	}
	gaps := sq.Next - sq.Start - rows
	if gaps != rep.Gaps || gaps != rep.LostToKills+rep.LostAtStop {
		t.Errorf("gaps %d (store next %d - 1 - %d rows); report: %d = %d + %d", gaps, sq.Next, rows, rep.Gaps, rep.LostToKills, rep.LostAtStop)
	}
	// A kill loses the unused part of the current block and at most one
	// prefetched block (fetched when half the current one is used): 1.5
	// blocks, plus a value per goroutine whose insert it interrupted.
	if bound := int64(rep.Kills) * (block + block/2 + goroutines); rep.LostToKills < 0 || rep.LostToKills > bound {
		t.Errorf("%d values lost to %d kills; bound %d", rep.LostToKills, rep.Kills, bound)
	}
	// A graceful stop loses at most what it could not give back: 1.5 blocks.
	if bound := int64(workers) * (block + block/2); rep.LostAtStop < 0 || rep.LostAtStop > bound {
		t.Errorf("%d values lost at the final stop of %d workers; bound %d", rep.LostAtStop, workers, bound)
	}
}

// TestStressCatchesDuplicates checks that the stress test fails when ids
// repeat: while its workers run, the store's sequence is set back to its
// start, so that the next blocks hold ids already in the table.
func TestStressCatchesDuplicates(t *testing.T) {
	url := testenv.DatabaseURL(t)
	cfg := testenv.AWSConfig(t)
	bin := buildSeqtools(t)
	ns, pgTable, seqKey, store, native := stressFixture(t, cfg, url, "stressdup")
	catchDuplicates(t, bin, url, cfg.Region, ns, pgTable, seqKey, "23505", store, native)
}

// TestStressMariaDBCatchesDuplicates is TestStressCatchesDuplicates on
// MariaDB, where a duplicate id is error 1062.
func TestStressMariaDBCatchesDuplicates(t *testing.T) {
	cfg := testenv.AWSConfig(t)
	bin := buildSeqtools(t)
	ns, table, seqKey, store, native := mariadbFixture(t, cfg, "stressmydup")
	catchDuplicates(t, bin, "", cfg.Region, ns, table, seqKey, "1062", store, native, "-mariadb")
}

func catchDuplicates(t *testing.T, bin, url, region, ns, pgTable, seqKey, code string, store *dynamo.Store, native *sql.DB, more ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd, stdout, stderr := stressCmd(ctx, bin, url, region, append([]string{"-duration", "60s", "-workers", "2", "-goroutines", "2",
		"-kills", "0", "-block-size", "100", "-namespace", ns, "-pg-table", pgTable}, more...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Once 1000 rows are in, the next reservations start again at 1.
	for rows := 0; rows < 1000; {
		if ctx.Err() != nil {
			t.Fatalf("no 1000 rows in time\nstderr: %s", stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
		native.QueryRow("SELECT count(*) FROM " + pgTable).Scan(&rows)
	}
	if err := store.SetValue(ctx, seqKey, 1, false); err != nil {
		t.Fatal(err)
	}
	runErr := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(runErr, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("seqtools stress: %v; want exit code 1\nstderr: %s", runErr, stderr.String())
	}
	var rep runReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("no report (%v)\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	if rep.OK || rep.UniqueViolations < 1 || !strings.Contains(strings.Join(rep.Failures, "\n"), "unique violations ("+code+") reported by workers") {
		t.Fatalf("report: ok %v, %d unique violations, failures %q", rep.OK, rep.UniqueViolations, rep.Failures)
	}
	t.Logf("%d unique violations reported; failures: %q", rep.UniqueViolations, rep.Failures)
}

// stressCmd is `seqtools stress -json -keep` on the shared table with
// args, with its output captured, in the test's environment plus what
// testenv.AWSConfig defaults to.
func stressCmd(ctx context.Context, bin, url, region string, args ...string) (cmd *exec.Cmd, stdout, stderr *bytes.Buffer) {
	cmd = exec.CommandContext(ctx, bin, append([]string{"stress", "-json", "-keep", "-table", stressTable}, args...)...)
	cmd.Env = os.Environ()
	if url != "" {
		cmd.Env = append(cmd.Env, "DATABASE_URL="+url)
	}
	if os.Getenv("AWS_REGION") == "" && os.Getenv("AWS_DEFAULT_REGION") == "" {
		cmd.Env = append(cmd.Env, "AWS_REGION="+region)
	}
	if os.Getenv("AWS_ACCESS_KEY_ID") == "" && os.Getenv("AWS_PROFILE") == "" {
		cmd.Env = append(cmd.Env, "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local")
	}
	stdout, stderr = new(bytes.Buffer), new(bytes.Buffer)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	return cmd, stdout, stderr
}

// runStressTest runs the stress command to its end with args and returns its
// report; the test fails when the command or the report does.
func runStressTest(t *testing.T, d time.Duration, bin, url, region string, args ...string) runReport {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d+3*time.Minute)
	defer cancel()
	cmd, stdout, stderr := stressCmd(ctx, bin, url, region, append([]string{"-duration", d.String()}, args...)...)
	runErr := cmd.Run()
	var rep runReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("seqtools stress %q: %v; no report (%v)\nstdout: %s\nstderr: %s", args, runErr, err, stdout.String(), stderr.String())
	}
	if runErr != nil || !rep.OK {
		t.Fatalf("seqtools stress %q: %v; failures: %q\nstderr: %s", args, runErr, rep.Failures, stderr.String())
	}
	return rep
}

// buildSeqtools builds this command into a temporary directory, with the
// race detector when this test binary has it: the supervisor starts its
// workers from its own executable, so the test needs a real binary.
func buildSeqtools(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build seqtools: %v", err)
	}
	bin := t.TempDir() + "/seqtools"
	args := []string{"build", "-o", bin}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" && s.Value == "true" {
				args = append(args, "-race")
			}
		}
	}
	cmd := exec.Command(goTool, append(args, ".")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build seqtools: %v\n%s", err, out)
	}
	return bin
}

// stressFixture names a stress run's namespace, table and sequence key,
// opens its store and a plain pgx connection, and drops what the run makes
// when the test ends.
func stressFixture(t *testing.T, cfg aws.Config, url, prefix string) (ns, pgTable, seqKey string, store *dynamo.Store, native *sql.DB) {
	t.Helper()
	sfx := testenv.UniqueName("")
	ns, pgTable = prefix+"-"+sfx, prefix+"_"+sfx
	seqKey = "public." + pgTable + "_id_seq"
	store, err := dynamo.New(cfg, dynamo.Options{Table: stressTable, Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureTable(context.Background()); err != nil {
		t.Fatal(err)
	}
	if native, err = sql.Open("pgx", url); err != nil {
		t.Fatal(err)
	}
	if err := native.Ping(); err != nil {
		native.Close()
		t.Fatalf("ping pgx: %v", err)
	}
	t.Cleanup(func() {
		native.Exec(fmt.Sprintf("DROP TABLE IF EXISTS %s; DROP SEQUENCE IF EXISTS %s_id_seq", pgTable, pgTable))
		store.Drop(context.Background(), seqKey)
		native.Close()
	})
	return ns, pgTable, seqKey, store, native
}

// mariadbFixture is stressFixture on MariaDB: the table's AUTO_INCREMENT
// sequence is keyed database.table.
func mariadbFixture(t *testing.T, cfg aws.Config, prefix string) (ns, table, seqKey string, store *dynamo.Store, native *sql.DB) {
	t.Helper()
	dsn := testenv.MariaDBDSN(t)
	sfx := testenv.UniqueName("")
	ns, table = prefix+"-"+sfx, prefix+"_"+sfx
	store, err := dynamo.New(cfg, dynamo.Options{Table: stressTable, Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureTable(context.Background()); err != nil {
		t.Fatal(err)
	}
	if native, err = sql.Open("mysql", dsn); err != nil {
		t.Fatal(err)
	}
	var db string
	if err := native.QueryRow("SELECT DATABASE()").Scan(&db); err != nil {
		native.Close()
		t.Fatalf("MariaDB: %v", err)
	}
	seqKey = db + "." + table
	t.Cleanup(func() {
		native.Exec("DROP TABLE IF EXISTS " + table)
		store.Drop(context.Background(), seqKey)
		native.Close()
	})
	return ns, table, seqKey, store, native
}

// TestStressMariaDB runs `seqtools stress -mariadb`: worker processes
// insert through seqshim-mysql into a MariaDB table whose AUTO_INCREMENT
// ids come from one DynamoDB sequence, while the supervisor SIGKILLs and
// restarts them; then the table and the store are checked as on
// PostgreSQL.
func TestStressMariaDB(t *testing.T) {
	cfg := testenv.AWSConfig(t)
	const (
		workers, goroutines, kills = 4, 4, 6
		block                      = 100
	)
	d := min(*stressDuration, 12*time.Second)
	if testing.Short() {
		d = min(d, 6*time.Second)
	}
	bin := buildSeqtools(t)
	ns, table, seqKey, store, native := mariadbFixture(t, cfg, "stressmy")
	rep := runStressTest(t, d, bin, "", cfg.Region, "-mariadb", "-workers", fmt.Sprint(workers), "-goroutines", fmt.Sprint(goroutines),
		"-kills", fmt.Sprint(kills), "-block-size", fmt.Sprint(block), "-namespace", ns, "-pg-table", table)
	t.Logf("MariaDB, %v, %d workers x %d goroutines, block %d: %d kills, %d incarnations, %d rows; %d values reserved and not in a row: %d lost to kills, %d not given back at the final stop",
		d, workers, goroutines, block, rep.Kills, rep.Incarnations, rep.Rows, rep.Gaps, rep.LostToKills, rep.LostAtStop)
	checkStressRun(t, rep, kills, native, table, store, seqKey)
}

// TestStressRunway is TestStress with the driver's defaults: blocks sized
// by demand and the outage cover, which a kill loses whole. Ids must still
// be unique, increasing per goroutine, and below the store's next value;
// the loss per kill is reported (the README's runway section gives its
// bound: what a process holds).
func TestStressRunway(t *testing.T) {
	url := testenv.DatabaseURL(t)
	cfg := testenv.AWSConfig(t)
	const workers, goroutines, kills = 4, 4, 6
	d := min(*stressDuration, 10*time.Second)
	if testing.Short() {
		d = min(d, 6*time.Second)
	}
	bin := buildSeqtools(t)
	ns, pgTable, seqKey, store, native := stressFixture(t, cfg, url, "stressrw")
	rep := runStressTest(t, d, bin, url, cfg.Region, "-workers", fmt.Sprint(workers), "-goroutines", fmt.Sprint(goroutines),
		"-kills", fmt.Sprint(kills), "-block-size", "0", "-namespace", ns, "-pg-table", pgTable)
	t.Logf("defaults, %v, %d workers x %d goroutines: %d kills, %d rows; %d lost to kills (%.0f a kill), %d not given back at the final stop",
		d, workers, goroutines, rep.Kills, rep.Rows, rep.LostToKills, float64(rep.LostToKills)/float64(max(1, rep.Kills)), rep.LostAtStop)
	checkStressRun(t, rep, kills, native, pgTable, store, seqKey)
}

// checkStressRun checks a run's report against the table and the store:
// the planned kills, no unique violation, every row counted and its id
// distinct, and the store's counter past every id.
func checkStressRun(t *testing.T, rep runReport, kills int, native *sql.DB, table string, store *dynamo.Store, seqKey string) {
	t.Helper()
	if rep.Kills != kills || rep.UniqueViolations != 0 || rep.Rows == 0 {
		t.Errorf("%d kills (want %d), %d unique violations, %d rows", rep.Kills, kills, rep.UniqueViolations, rep.Rows)
	}
	var rows, distinct, maxID int64
	if err := native.QueryRow("SELECT count(*), count(DISTINCT id), max(id) FROM "+table).Scan(&rows, &distinct, &maxID); err != nil {
		t.Fatal(err)
	}
	if rows != rep.Rows || distinct != rows {
		t.Errorf("%d rows, %d distinct ids; the report says %d rows", rows, distinct, rep.Rows)
	}
	sq, err := store.Get(context.Background(), seqKey)
	if err != nil {
		t.Fatal(err)
	}
	if sq.Exhausted || sq.Next <= maxID {
		t.Errorf("the store's next value %d is not past the largest id %d", sq.Next, maxID)
	}
}
