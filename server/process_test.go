package server_test

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/seqshim/seqshim/dynamo"
	"github.com/seqshim/seqshim/internal/testenv"
	"github.com/seqshim/seqshim/seqcache"
	"github.com/seqshim/seqshim/server/remote"
)

// These tests run seqshim servers as processes (`seqshim serve`, built in
// TestMain) against the DynamoDB endpoint, and clients as processes (this
// test binary, re-executed with envClient set) inserting into a PostgreSQL
// table whose primary key is the sequence's values.

const (
	table     = "seqshim_integration"
	envClient = "SEQSHIM_SERVER_TEST_CLIENT"
)

var seqshimBin string

func TestMain(m *testing.M) {
	if cfg := os.Getenv(envClient); cfg != "" {
		os.Exit(clientMain(cfg))
	}
	dir, err := os.MkdirTemp("", "seqshim-server-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	seqshimBin, err = buildSeqshim(dir)
	code := 1
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	} else {
		code = m.Run()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildSeqshim builds cmd/seqshim, with the race detector when this test
// binary has it.
func buildSeqshim(dir string) (string, error) {
	bin := filepath.Join(dir, "seqshim")
	args := []string{"build", "-o", bin}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" && s.Value == "true" {
				args = append(args, "-race")
			}
		}
	}
	cmd := exec.Command("go", append(args, "github.com/seqshim/seqshim/cmd/seqshim")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build cmd/seqshim: %v\n%s", err, out)
	}
	return bin, nil
}

// awsEnv is the environment a child process needs to reach the endpoint
// the way testenv.AWSConfig does.
func awsEnv() []string {
	env := os.Environ()
	if os.Getenv("AWS_REGION") == "" && os.Getenv("AWS_DEFAULT_REGION") == "" {
		env = append(env, "AWS_REGION=us-east-1")
	}
	if os.Getenv("AWS_ACCESS_KEY_ID") == "" && os.Getenv("AWS_PROFILE") == "" {
		env = append(env, "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local")
	}
	return env
}

// proc is a seqshim serve process.
type proc struct {
	t       *testing.T
	cmd     *exec.Cmd
	addr    string
	metrics string
	args    []string
	stderr  *strings.Builder
	done    chan struct{}
}

// startServer starts `seqshim serve` on addr ("127.0.0.1:0" for any port)
// and waits for it to listen.
func startServer(t *testing.T, addr string, args ...string) *proc {
	t.Helper()
	all := append([]string{"serve", "-listen", addr, "-metrics-listen", "127.0.0.1:0",
		"-store", "dynamodb://" + table, "-log-level", "warn"}, args...)
	cmd := exec.Command(seqshimBin, all...)
	cmd.Env = awsEnv()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, cmd: cmd, args: args, stderr: &strings.Builder{}, done: make(chan struct{})}
	cmd.Stderr = &lockedWriter{w: p.stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.signal(syscall.SIGCONT); p.signal(syscall.SIGKILL); <-p.done })
	lines := bufio.NewScanner(stdout)
	ready := make(chan error, 1)
	go func() {
		for lines.Scan() {
			f := strings.Fields(lines.Text())
			if len(f) == 2 && f[0] == "listening" {
				p.addr = f[1]
			}
			if len(f) == 2 && f[0] == "metrics" {
				p.metrics = f[1]
				ready <- nil
				io.Copy(io.Discard, stdout)
				return
			}
		}
		ready <- errors.New("no address on stdout")
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatalf("seqshim serve: %v\n%s", err, p.stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("seqshim serve did not start\n%s", p.stderr)
	}
	return p
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func (p *proc) signal(sig syscall.Signal) { _ = p.cmd.Process.Signal(sig) }

// stop sends SIGTERM and waits for the graceful stop.
func (p *proc) stop() {
	p.signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		p.t.Errorf("seqshim serve did not stop on SIGTERM")
	}
}

// kill SIGKILLs the server and waits for it to be gone.
func (p *proc) kill() {
	p.signal(syscall.SIGKILL)
	<-p.done
}

// metric reads one of the server's counters.
func (p *proc) metric(name string) float64 {
	p.t.Helper()
	resp, err := http.Get("http://" + p.metrics + "/metrics")
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	p.t.Fatalf("metric %s not found", name)
	return 0
}

// fixture is one test's namespace, sequence and PostgreSQL table.
type fixture struct {
	ns, seq, pgTable string
	pgURL            string
	store            *dynamo.Store
	db               *sql.DB
}

func newFixture(t *testing.T, opts ...seqcache.Option) *fixture {
	t.Helper()
	pgURL := testenv.DatabaseURL(t)
	cfg := testenv.AWSConfig(t)
	sfx := testenv.UniqueName("")
	f := &fixture{ns: "srv-" + sfx, pgTable: "srv_" + sfx, pgURL: pgURL}
	f.seq = "public." + f.pgTable + "_id_seq"
	var err error
	if f.store, err = dynamo.New(cfg, dynamo.Options{Table: table, Namespace: f.ns}); err != nil {
		t.Fatal(err)
	}
	if err := f.store.EnsureTable(t.Context()); err != nil {
		t.Fatal(err)
	}
	spec, err := seqcache.Define(f.seq, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.Create(t.Context(), spec); err != nil {
		t.Fatal(err)
	}
	if f.db, err = sql.Open("pgx", pgURL); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Exec(fmt.Sprintf("CREATE TABLE %s (id bigint PRIMARY KEY, client int NOT NULL)", f.pgTable)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		f.db.Exec("DROP TABLE IF EXISTS " + f.pgTable)
		f.db.Close()
		f.store.Drop(context.Background(), f.seq)
	})
	return f
}

// clientConfig is what a client process runs.
type clientConfig struct {
	URL, Namespace, Seq, PGURL, PGTable string
	ID, Goroutines, PerGoroutine        int
	Duration                            time.Duration
	BlockSize                           int64
	Fallback                            bool
}

// clientReport is what a client process prints.
type clientReport struct {
	Values      int64
	Duplicates  int // 23505
	Errors      []string
	Backwards   []string // a value or block not after the one before
	MaxLatency  time.Duration
	P99Latency  time.Duration
	Failovers   int64
	Fallbacks   int64
	Reservation int64
}

// recorder is the store under a client's cache: it checks that the blocks
// come in increasing order, which makes the process's values increase.
type recorder struct {
	seqcache.Store
	mu        sync.Mutex
	last      *seqcache.Block
	backwards []string
	n         int64
}

func (r *recorder) Reserve(ctx context.Context, name string, n int64) (seqcache.Block, error) {
	b, err := r.Store.Reserve(ctx, name, n)
	if err == nil {
		r.mu.Lock()
		r.n++
		if r.last != nil && b.First <= r.last.Last() {
			r.backwards = append(r.backwards, fmt.Sprintf("block %+v after %+v", b, *r.last))
		}
		r.last = &b
		r.mu.Unlock()
	}
	return b, err
}

func clientMain(raw string) int {
	var cfg clientConfig
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	rep := runClient(cfg)
	json.NewEncoder(os.Stdout).Encode(rep)
	return 0
}

func runClient(cfg clientConfig) (rep clientReport) {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	opts := remote.Options{Namespace: cfg.Namespace, Logger: quiet}
	if cfg.Fallback {
		fb, err := dynamo.Open(ctx, dynamo.Options{Table: table, Namespace: cfg.Namespace})
		if err != nil {
			rep.Errors = append(rep.Errors, err.Error())
			return rep
		}
		opts.Fallback = fb
	}
	cl, err := remote.Dial(cfg.URL, opts)
	if err != nil {
		rep.Errors = append(rep.Errors, err.Error())
		return rep
	}
	defer cl.Close()
	rec := &recorder{Store: cl}
	// Fixed blocks and no cover of its own: a client behind servers whose
	// caches hold the long cover, and blocks the checks can bound.
	cache := seqcache.NewCache(rec, seqcache.Config{BlockSize: cfg.BlockSize, MaxBlockSize: cfg.BlockSize, OutageCover: -1, Logger: quiet})
	db, err := sql.Open("pgx", cfg.PGURL)
	if err != nil {
		rep.Errors = append(rep.Errors, err.Error())
		return rep
	}
	defer db.Close()
	db.SetMaxOpenConns(cfg.Goroutines)
	insert := fmt.Sprintf("INSERT INTO %s (id, client) VALUES ($1, $2)", cfg.PGTable)
	var mu sync.Mutex
	var lat []time.Duration
	deadline := time.Now().Add(cfg.Duration)
	var wg sync.WaitGroup
	for range cfg.Goroutines {
		wg.Go(func() {
			var prev int64
			var mine []time.Duration
			var problems, back []string
			var values int64
			dups := 0
			// Paced over 90% of the duration, so that the load spans the
			// faults a test injects however fast the machine is.
			begin, step := time.Now(), cfg.Duration*9/10/time.Duration(max(1, cfg.PerGoroutine))
			for i := 0; i < cfg.PerGoroutine && time.Now().Before(deadline); i++ {
				time.Sleep(time.Until(begin.Add(time.Duration(i) * step)))
				start := time.Now()
				cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				v, err := cache.Next(cctx, cfg.Seq)
				cancel()
				mine = append(mine, time.Since(start))
				if err != nil {
					problems = append(problems, err.Error())
					break
				}
				if i > 0 && v <= prev {
					back = append(back, fmt.Sprintf("%d after %d", v, prev))
				}
				prev = v
				_, err = db.ExecContext(ctx, insert, v, cfg.ID)
				var pe *pgconn.PgError
				if errors.As(err, &pe) && pe.Code == "23505" {
					dups++
				} else if err != nil {
					problems = append(problems, err.Error())
					break
				}
				values++
			}
			mu.Lock()
			lat = append(lat, mine...)
			rep.Values += values
			rep.Duplicates += dups
			rep.Errors = append(rep.Errors, problems...)
			rep.Backwards = append(rep.Backwards, back...)
			mu.Unlock()
		})
	}
	wg.Wait()
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	cache.Close(cctx)
	cancel()
	rep.Backwards = append(rep.Backwards, rec.backwards...)
	rep.Reservation = rec.n
	slices.Sort(lat)
	if len(lat) > 0 {
		rep.MaxLatency = lat[len(lat)-1]
		rep.P99Latency = lat[len(lat)*99/100]
	}
	st := cl.Stats()
	rep.Failovers, rep.Fallbacks = st.Failovers, st.Fallbacks
	return rep
}

// clients starts n client processes and returns a function that waits
// for their reports.
func (f *fixture) clients(t *testing.T, n int, cfg clientConfig) func() []clientReport {
	t.Helper()
	type result struct {
		rep clientReport
		err error
	}
	results := make([]chan result, n)
	for i := range n {
		c := cfg
		c.ID, c.Namespace, c.Seq, c.PGURL, c.PGTable = i, f.ns, f.seq, f.pgURL, f.pgTable
		raw, _ := json.Marshal(c)
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(awsEnv(), envClient+"="+string(raw))
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		results[i] = make(chan result, 1)
		go func() {
			err := cmd.Wait()
			var r clientReport
			if jerr := json.Unmarshal([]byte(out.String()), &r); err == nil && jerr != nil {
				err = fmt.Errorf("report: %v: %q", jerr, out.String())
			}
			if err != nil {
				err = fmt.Errorf("client %d: %v\n%s", i, err, errb.String())
			}
			results[i] <- result{r, err}
		}()
	}
	return func() []clientReport {
		var reps []clientReport
		for i, ch := range results {
			r := <-ch
			if r.err != nil {
				t.Fatal(r.err)
			}
			reps = append(reps, r.rep)
			t.Logf("client %d: %d values in %d reservations, latency p99 %v max %v, %d failovers, %d fallbacks",
				i, r.rep.Values, r.rep.Reservation, r.rep.P99Latency, r.rep.MaxLatency, r.rep.Failovers, r.rep.Fallbacks)
		}
		return reps
	}
}

// check asserts what every scenario must hold: no error, no 23505, values
// increasing per client, the table holding every value reported, and the
// DynamoDB counter past every value.
func (f *fixture) check(t *testing.T, reps []clientReport) {
	t.Helper()
	var total int64
	for i, r := range reps {
		if r.Duplicates != 0 || len(r.Errors) != 0 || len(r.Backwards) != 0 {
			t.Errorf("client %d: %d duplicates (23505), errors %q, backwards %q", i, r.Duplicates, r.Errors, r.Backwards)
		}
		total += r.Values
	}
	var rows, top int64
	if err := f.db.QueryRow("SELECT count(*), coalesce(max(id), 0) FROM "+f.pgTable).Scan(&rows, &top); err != nil {
		t.Fatal(err)
	}
	if rows != total || rows == 0 {
		t.Fatalf("table has %d rows, clients inserted %d", rows, total)
	}
	sq, err := f.store.Get(t.Context(), f.seq)
	if err != nil {
		t.Fatal(err)
	}
	if !sq.Exhausted && sq.Next <= top {
		t.Fatalf("DynamoDB counter at %d, not past the largest id %d", sq.Next, top)
	}
	t.Logf("%d rows, largest id %d, DynamoDB next %d: %d values not in a row", rows, top, sq.Next, sq.Next-1-rows)
}

// lost counts the values the store handed out that are not in the table.
func (f *fixture) lost(t *testing.T) int64 {
	t.Helper()
	var rows int64
	if err := f.db.QueryRow("SELECT count(*) FROM " + f.pgTable).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	sq, err := f.store.Get(t.Context(), f.seq)
	if err != nil {
		t.Fatal(err)
	}
	return sq.Next - 1 - rows
}

func urlOf(ps ...*proc) string {
	var addrs []string
	for _, p := range ps {
		addrs = append(addrs, p.addr)
	}
	return "seqshim://" + strings.Join(addrs, ",")
}
