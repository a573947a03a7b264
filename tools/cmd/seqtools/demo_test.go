package main

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seqshim/seqshim/dynamo"
	"github.com/seqshim/seqshim/internal/testenv"
)

// runCmd runs the CLI as main does and returns its exit code and output.
func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestWithParams(t *testing.T) {
	for _, c := range []struct{ dsn, want string }{
		{"postgres://u@h:5432/db", "postgres://u@h:5432/db?search_path=s1&seqshim.store=dynamodb%3A%2F%2Ft"},
		{"postgresql://u@h/db?sslmode=disable", "postgresql://u@h/db?sslmode=disable&search_path=s1&seqshim.store=dynamodb%3A%2F%2Ft"},
		{"host=h dbname=db", `host=h dbname=db search_path='s1' seqshim.store='dynamodb://t'`},
	} {
		if got := withParams(c.dsn, "search_path=s1", "seqshim.store=dynamodb://t"); got != c.want {
			t.Errorf("withParams(%q) = %q; want %q", c.dsn, got, c.want)
		}
	}
	if got := withParams("host=h", `k=it's \x`); got != `host=h k='it\'s \\x'` {
		t.Errorf("quoting: %q", got)
	}
}

func TestPercentile(t *testing.T) {
	var s []time.Duration
	for i := 1; i <= 200; i++ {
		s = append(s, time.Duration(i))
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{50, 100}, {99, 198}, {100, 200}, {0.1, 1}} {
		if got := percentile(s, c.q); got != c.want {
			t.Errorf("percentile(1..200, %v) = %v; want %v", c.q, got, c.want)
		}
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("percentile(nil) = %v", got)
	}
}

func TestRoundSig(t *testing.T) {
	for _, c := range []struct{ in, want time.Duration }{
		{1234, 1230},
		{12355, 12400},
		{1234567, 1230000},
		{987654321, 988000000},
		{80, 80},
	} {
		if got := roundSig(c.in); got != c.want {
			t.Errorf("roundSig(%d) = %d; want %d", c.in, got, c.want)
		}
	}
}

// testAWSEnv gives the commands run in process the region and
// credentials testenv.AWSConfig defaults to, when the environment has none.
func testAWSEnv(t *testing.T) {
	t.Helper()
	if os.Getenv("AWS_REGION") == "" && os.Getenv("AWS_DEFAULT_REGION") == "" {
		t.Setenv("AWS_REGION", "us-east-1")
	}
	if os.Getenv("AWS_ACCESS_KEY_ID") == "" && os.Getenv("AWS_PROFILE") == "" {
		t.Setenv("AWS_ACCESS_KEY_ID", "local")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
	}
}

// A missing service ends the demo with exit code 1 and a message that
// names the service and what to run.
func TestDemoMissingServices(t *testing.T) {
	t.Run("no DATABASE_URL", func(t *testing.T) {
		t.Setenv("DATABASE_URL", "")
		code, _, stderr := runCmd(t, "demo")
		if code != 1 || !strings.Contains(stderr, "DATABASE_URL is not set") || !strings.Contains(stderr, "scripts/services.sh") {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
	})
	t.Run("PostgreSQL down", func(t *testing.T) {
		t.Setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2")
		code, _, stderr := runCmd(t, "demo")
		if code != 1 || !strings.Contains(stderr, "PostgreSQL at 127.0.0.1:1/test does not answer") || !strings.Contains(stderr, "scripts/services.sh") {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
	})
	t.Run("DynamoDB down", func(t *testing.T) {
		t.Setenv("DATABASE_URL", testenv.DatabaseURL(t))
		t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:1")
		code, _, stderr := runCmd(t, "demo")
		if code != 1 || !strings.Contains(stderr, "the DynamoDB endpoint http://127.0.0.1:1 does not answer") || !strings.Contains(stderr, "scripts/services.sh") {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
	})
	t.Run("usage", func(t *testing.T) {
		if code, _, stderr := runCmd(t, "demo", "-orders", "0"); code != 2 {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
	})
}

// TestDemo runs a small demo on PostgreSQL and DynamoDB, and with
// -memory, and checks what it reports and that it cleans up.
func TestDemo(t *testing.T) {
	url := testenv.DatabaseURL(t)
	awsCfg := testenv.AWSConfig(t)
	testAWSEnv(t)
	for _, mode := range [][]string{nil, {"-memory"}} {
		t.Run(strings.Join(append([]string{"store"}, mode...), ""), func(t *testing.T) {
			code, stdout, stderr := runCmd(t, append([]string{"demo", "-orders", "300", "-workers", "4", "-latency-calls", "300"}, mode...)...)
			if code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			m := regexp.MustCompile(`placed 300 orders and (\d+) lines`).FindStringSubmatch(stdout)
			if m == nil {
				t.Fatalf("no 'placed' line:\n%s", stdout)
			}
			lines := m[1]
			for _, want := range []string{
				"read back 300 orders: 300 with the lines and total they were placed with",
				"unique ids: orders count(*) 300 = count(DISTINCT id) 300, order_lines " + lines + " = " + lines + ", every RETURNING id distinct: yes",
				"ids increase within each goroutine: yes",
				"closed seqshim: ",
				"dropped schema seqshim_demo_",
			} {
				if !strings.Contains(stdout, want) {
					t.Errorf("output lacks %q:\n%s", want, stdout)
				}
			}
			if !regexp.MustCompile(`values handed out: \d+ \(300 order ids \+ ` + lines + ` line ids\)`).MatchString(stdout) {
				t.Errorf("no 'values handed out' line:\n%s", stdout)
			}
			if !regexp.MustCompile(`requests[^:]*: [1-9]\d* block reservations for \d+ nextval calls`).MatchString(stdout) {
				t.Errorf("no store requests line:\n%s", stdout)
			}
			checkDemoMetrics(t, stdout, 300, lines, 300)
			schema := regexp.MustCompile(`created schema (seqshim_demo_[0-9a-f]+)`).FindStringSubmatch(stdout)
			if schema == nil {
				t.Fatalf("no schema in the output:\n%s", stdout)
			}
			db, err := sql.Open("pgx", url)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var n int
			if err := db.QueryRow("SELECT count(*) FROM pg_namespace WHERE nspname = $1", schema[1]).Scan(&n); err != nil || n != 0 {
				t.Errorf("schema %s left behind (%d, %v)", schema[1], n, err)
			}
			if mode != nil {
				return
			}
			ns := regexp.MustCompile(`namespace "(demo-[0-9a-f]+)"`).FindStringSubmatch(stdout)
			if ns == nil {
				t.Fatalf("no namespace in the output:\n%s", stdout)
			}
			store, err := dynamo.New(awsCfg, dynamo.Options{Namespace: ns[1]})
			if err != nil {
				t.Fatal(err)
			}
			if seqs, err := store.List(context.Background()); err != nil || len(seqs) != 0 {
				t.Errorf("sequences left in namespace %s: %v, %v", ns[1], seqs, err)
			}
		})
	}
}

// checkDemoMetrics checks the demo's scrape of its metrics against what
// it did: every value handed out (orders, lines and the latency calls on
// seqshim) counted as served, nothing lost or given back before Close,
// no store error, every reservation timed in the histogram, and both
// sequences with a block of at least the default 1000.
func checkDemoMetrics(t *testing.T, stdout string, orders int, lines string, calls int) {
	t.Helper()
	metric := func(name string) int64 {
		t.Helper()
		m := regexp.MustCompile(`(?m)^  ` + name + `\s+(\d+)`).FindStringSubmatch(stdout)
		if m == nil {
			t.Fatalf("no %s in the metrics:\n%s", name, stdout)
		}
		n, _ := strconv.ParseInt(m[1], 10, 64)
		return n
	}
	nLines, _ := strconv.Atoi(lines)
	if got, want := metric("seqshim_values_served_total"), int64(orders+nLines+calls); got != want {
		t.Errorf("seqshim_values_served_total %d; want %d (%d orders + %d lines + %d nextval calls)", got, want, orders, nLines, calls)
	}
	for _, name := range []string{"seqshim_values_lost_total", "seqshim_values_given_back_total", "seqshim_store_errors_total"} {
		if got := metric(name); got != 0 {
			t.Errorf("%s %d before Close; want 0", name, got)
		}
	}
	res := metric("seqshim_reservations_total")
	if attempts := metric("seqshim_reservation_duration_seconds"); res < 2 || attempts < res {
		t.Errorf("%d reservations (want one a sequence at least), %d attempts in the histogram (want as many at least)", res, attempts)
	}
	for _, seq := range []string{"orders_id_seq", "order_lines_id_seq"} {
		m := regexp.MustCompile(`(?m)^    seqshim_demo_[0-9a-f]+\.` + seq + `\s+block (\d+), outage cover \d+\.\d s$`).FindStringSubmatch(stdout)
		if m == nil {
			t.Errorf("no block size and outage cover of %s:\n%s", seq, stdout)
			continue
		}
		if n, _ := strconv.ParseInt(m[1], 10, 64); n < 1000 {
			t.Errorf("%s: block size %d; want the default 1000 at least", seq, n)
		}
	}
}
