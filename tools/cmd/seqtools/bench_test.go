package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seqshim/seqshim/dynamo"
	"github.com/seqshim/seqshim/internal/testenv"
)

func TestParseCallers(t *testing.T) {
	got, err := parseCallers("1, 8,64")
	if err != nil || !slices.Equal(got, []int{1, 8, 64}) {
		t.Fatalf("parseCallers = %v, %v", got, err)
	}
	for _, bad := range []string{"", "0", "1,x", "257"} {
		if _, err := parseCallers(bad); !errors.Is(err, errUsage) {
			t.Errorf("parseCallers(%q): %v; want a usage error", bad, err)
		}
	}
}

func TestSelectContenders(t *testing.T) {
	all, err := selectContenders("")
	if err != nil || len(all) != len(contenders()) {
		t.Fatalf("all: %d, %v", len(all), err)
	}
	// Every workload gives a native and a seqshim contender, the seqshim
	// one measured against the native one; the others against native
	// nextval.
	names := contenderNames()
	for _, w := range workloads() {
		i := slices.Index(names, w.name+"/native")
		if i < 0 || names[i+1] != w.name+"/seqshim" || all[i+1].baseline != w.name+"/native" || all[i].baseline != all[i].name {
			t.Errorf("workload %s: contenders %v", w.name, names)
		}
	}
	for _, c := range all {
		if !slices.Contains(names, c.baseline) {
			t.Errorf("%s: baseline %q is not a contender", c.name, c.baseline)
		}
	}
	some, err := selectContenders("cache-next, nextval/native")
	if err != nil || len(some) != 2 || some[0].name != "nextval/native" || some[1].name != "cache-next" {
		t.Fatalf("selectContenders: %v, %v", some, err)
	}
	if _, err := selectContenders("nope"); !errors.Is(err, errUsage) {
		t.Fatalf("unknown contender: %v", err)
	}
}

func TestPercent(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{{1, "100.000%"}, {0.001, "0.100%"}, {0.00001, "0.001%"}, {1.23e-7, "0.000012%"}, {4.56e-9, "0.00000046%"}, {0, "0.000%"}} {
		if got := percent(c.v); got != c.want {
			t.Errorf("percent(%v) = %q; want %q", c.v, got, c.want)
		}
	}
}

func TestHumanRate(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{{950, "950"}, {12345, "12.3k"}, {100000, "100k"}, {1.25e6, "1.25M"}, {999.7, "1k"}, {0.5, "0.5"}} {
		if got := humanRate(c.v); got != c.want {
			t.Errorf("humanRate(%v) = %q; want %q", c.v, got, c.want)
		}
	}
}

// fakeReport is a report with known figures.
func fakeReport() *benchReport {
	rep := &benchReport{Settings: benchSettings{Duration: "1s", Rounds: 1, Callers: []int{1, 8}, CPUs: 2, StoreLatency: "0s"}}
	for _, n := range []int{1, 8} {
		for _, c := range contenders() {
			cl := newCell(c, n)
			cl.ops, cl.elapsed = 1000*int64(n), time.Second
			if strings.HasSuffix(c.name, "/seqshim") {
				cl.ops *= 3
			}
			if c.requests != nil {
				cl.requests = 3 * int64(n)
			}
			if c.waits != nil {
				cl.waits = 2 * int64(n)
			}
			for i := range 100 { // 10ns, 20ns, ... 1µs: exact in the histogram
				cl.hist.record(time.Duration(10 * (i + 1)))
			}
			rep.add(cl)
		}
	}
	rep.ratios()
	return rep
}

func TestBenchReport(t *testing.T) {
	rep := fakeReport()
	for _, r := range rep.Results {
		want := 1.0
		switch {
		case strings.HasSuffix(r.Contender, "/seqshim"):
			want = 3
		case !strings.HasSuffix(r.Contender, "/native"): // against nextval/native
			want = 1
		}
		if r.Ratio != want {
			t.Errorf("%s at %d: ratio %v; want %v", r.Contender, r.Callers, r.Ratio, want)
		}
		if r.P50us != 0.5 || r.P99us != 0.99 || r.P999us != 1 || r.P9999us != 1 || r.MaxUs != 1 {
			t.Errorf("%s: p50 %v p99 %v p99.9 %v p99.99 %v max %v; want 0.5, 0.99, 1, 1, 1 µs", r.Contender, r.P50us, r.P99us, r.P999us, r.P9999us, r.MaxUs)
		}
		cached := strings.HasSuffix(r.Contender, "/seqshim") || r.Contender == "cache-next"
		wantWaits := int64(0)
		if cached {
			wantWaits = 2 * int64(r.Callers)
		}
		if r.Cached != cached || r.Waits != wantWaits {
			t.Errorf("%s: cached %v, %d waits; want %v, %d", r.Contender, r.Cached, r.Waits, cached, wantWaits)
		}
		if r.ReachesDynamo && r.DynamoShare != float64(r.DynamoRequests)/float64(r.Ops) {
			t.Errorf("%s: share %v of %d requests for %d ops", r.Contender, r.DynamoShare, r.DynamoRequests, r.Ops)
		}
	}
	var out bytes.Buffer
	rep.writeTable(&out)
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^\s+nextval/seqshim\s+8\s+24k\s+500ns\s+990ns\s+1µs\s+1µs\s+3.00x\s+0.100%\s+16\s*$`),
		regexp.MustCompile(`(?m)^\s+nextval/native\s+1\s+1k\s+500ns\s+990ns\s+1µs\s+1µs\s+1x\s+-\s+-\s*$`),
		regexp.MustCompile(`(?m)^\s+dynamodb-updateitem\s+8\s+8k\s+500ns\s+990ns\s+1µs\s+1µs\s+1.00x\s+0.300%\s+-\s*$`),
		regexp.MustCompile(`(?m)^seqshim bench: .*, seqshim and the cache with their defaults$`),
		regexp.MustCompile(`(?m)^  dynamodb-updateitem\s+the naive counter`),
	} {
		if !want.MatchString(out.String()) {
			t.Errorf("table lacks %s:\n%s", want.String(), out.String())
		}
	}
	var back benchReport
	out.Reset()
	if err := rep.writeJSON(&out); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out.Bytes(), &back); err != nil || len(back.Results) != len(rep.Results) || back.Results[3] != rep.Results[3] {
		t.Fatalf("JSON round trip: %v", err)
	}

	file := filepath.Join(t.TempDir(), "sub", "bench.png")
	if err := rep.plot(file); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil || cfg.Width != 1440 || cfg.Height != 480 {
		t.Fatalf("plot: %dx%d, %v; want a 1440x480 PNG", cfg.Width, cfg.Height, err)
	}
}

func TestBenchUsage(t *testing.T) {
	for _, args := range [][]string{
		{"-callers", "0"},
		{"-only", "nope"},
		{"-duration", "0s"},
		{"-plot", "x.svg"},
		{"-block-size", "-1"},
		{"-store-latency", "-1ms"},
		{"-store-latency", "1s"},
		{"-store-latency", "x"},
		{"extra"},
	} {
		if code, _, stderr := runCmd(t, append([]string{"bench"}, args...)...); code != 2 {
			t.Errorf("bench %v: exit %d; want 2 (%s)", args, code, stderr)
		}
	}
}

// TestBench runs a very short benchmark on PostgreSQL and DynamoDB and
// checks its JSON: every contender at every concurrency, the counts of
// DynamoDB requests, and the cleanup.
func TestBench(t *testing.T) {
	url := testenv.DatabaseURL(t)
	awsCfg := testenv.AWSConfig(t)
	testAWSEnv(t)
	plotFile := filepath.Join(t.TempDir(), "bench.png")
	code, stdout, stderr := runCmd(t, "bench", "-duration", "200ms", "-rounds", "2", "-warmup", "20ms",
		"-callers", "1,3", "-block-size", "50", "-json", "-plot", plotFile)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	var rep benchReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, stdout)
	}
	if rep.Settings.BlockSize != 50 || rep.Settings.StoreLatency != "0s" {
		t.Errorf("settings: block size %d, store latency %q", rep.Settings.BlockSize, rep.Settings.StoreLatency)
	}
	if len(rep.Results) != 2*len(contenders()) {
		t.Fatalf("%d results; want %d", len(rep.Results), 2*len(contenders()))
	}
	for i, r := range rep.Results {
		c := contenders()[i%len(contenders())]
		if r.Contender != c.name || r.Callers != []int{1, 3}[i/len(contenders())] {
			t.Errorf("result %d: %s at %d", i, r.Contender, r.Callers)
		}
		if r.Ops <= 0 || r.OpsPerSec <= 0 || r.P50us <= 0 || r.P50us > r.P99us || r.P99us > r.P999us || r.P999us > r.P9999us || r.P9999us > r.MaxUs || r.Ratio <= 0 {
			t.Errorf("%s at %d: %+v", r.Contender, r.Callers, r)
		}
		if cached := c.waits != nil; r.Cached != cached || (!cached && r.Waits != 0) || r.Waits < 0 {
			t.Errorf("%s: cached %v, %d waits", r.Contender, r.Cached, r.Waits)
		}
		switch {
		case r.Contender == r.Baseline:
			if r.Ratio != 1 || r.ReachesDynamo || r.DynamoRequests != 0 {
				t.Errorf("%s: ratio %v, DynamoDB %v %d", r.Contender, r.Ratio, r.ReachesDynamo, r.DynamoRequests)
			}
		case r.Contender == "dynamodb-updateitem":
			if r.DynamoRequests != r.Ops || r.DynamoShare != 1 {
				t.Errorf("%s: %d requests for %d values", r.Contender, r.DynamoRequests, r.Ops)
			}
		default:
			// One reservation of 50 values per 50 calls, plus in each of
			// the 2 turns: a partly used block, the block fetched in
			// advance, and one a previous turn had started.
			if !r.ReachesDynamo || r.DynamoRequests > r.Ops/50+2*3 {
				t.Errorf("%s: %d requests for %d values with blocks of 50", r.Contender, r.DynamoRequests, r.Ops)
			}
		}
	}
	if _, err := os.Stat(plotFile); err != nil {
		t.Errorf("plot: %v", err)
	}
	m := regexp.MustCompile(`namespace (bench-[0-9a-f]+), schema (seqshim_bench_[0-9a-f]+)`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no namespace and schema in:\n%s", stderr)
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM pg_namespace WHERE nspname = $1", m[2]).Scan(&n); err != nil || n != 0 {
		t.Errorf("schema %s left behind (%d, %v)", m[2], n, err)
	}
	store, err := dynamo.New(awsCfg, dynamo.Options{Namespace: m[1]})
	if err != nil {
		t.Fatal(err)
	}
	if seqs, err := store.List(context.Background()); err != nil || len(seqs) != 0 {
		t.Errorf("sequences left in namespace %s: %v, %v", m[1], seqs, err)
	}
}

func TestCheckStoreLatency(t *testing.T) {
	t.Setenv(endpointEnv, "http://127.0.0.1:8000")
	for _, d := range []time.Duration{0, time.Millisecond, 100 * time.Millisecond, 999 * time.Millisecond} {
		if err := checkStoreLatency(d); err != nil {
			t.Errorf("checkStoreLatency(%v): %v", d, err)
		}
	}
	for _, d := range []time.Duration{-time.Millisecond, time.Second, time.Minute} {
		if err := checkStoreLatency(d); !errors.Is(err, errUsage) {
			t.Errorf("checkStoreLatency(%v): %v; want a usage error", d, err)
		}
	}
	// The proxy relays plain HTTP to a known endpoint.
	for _, e := range []string{"", "https://dynamodb.us-east-1.amazonaws.com", "127.0.0.1:8000"} {
		t.Setenv(endpointEnv, e)
		if err := checkStoreLatency(100 * time.Millisecond); !errors.Is(err, errUsage) || !strings.Contains(err.Error(), endpointEnv) {
			t.Errorf("endpoint %q: %v; want a usage error naming %s", e, err, endpointEnv)
		}
		if err := checkStoreLatency(0); err != nil {
			t.Errorf("endpoint %q without latency: %v", e, err)
		}
	}
	if code, _, stderr := runCmd(t, "bench", "-store-latency", "100ms"); code != 2 || !strings.Contains(stderr, endpointEnv) {
		t.Errorf("bench -store-latency without an endpoint: exit %d, %s", code, stderr)
	}
}

// withEndpoint sets the endpoint for the call only.
func TestWithEndpoint(t *testing.T) {
	for _, before := range []string{"http://127.0.0.1:8000", ""} {
		t.Setenv(endpointEnv, before)
		if before == "" {
			os.Unsetenv(endpointEnv)
		}
		var inside string
		err := withEndpoint("http://127.0.0.1:9", func() error {
			inside = os.Getenv(endpointEnv)
			return errors.New("boom")
		})
		if err == nil || err.Error() != "boom" || inside != "http://127.0.0.1:9" {
			t.Errorf("withEndpoint: %v, endpoint inside %q", err, inside)
		}
		if after, ok := os.LookupEnv(endpointEnv); after != before || ok != (before != "") {
			t.Errorf("endpoint after: %q (set %v); want %q", after, ok, before)
		}
	}
}

// TestBenchStoreLatency: with -store-latency, every contender's store
// request goes through the proxy and takes at least the latency: the first
// Next of cache-next, the first SELECT nextval through seqshim (its store
// reads the definition and reserves a block) and each naive UpdateItem.
// The benchmark's own setup does not, and the environment is left as it
// was.
func TestBenchStoreLatency(t *testing.T) {
	testenv.DatabaseURL(t)
	endpoint := testenv.DynamoEndpoint(t) // the proxy needs a local endpoint
	testenv.AWSConfig(t)
	testAWSEnv(t)
	const latency = 150 * time.Millisecond
	cs, err := selectContenders("nextval/seqshim,dynamodb-updateitem,cache-next")
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	e, err := newBenchEnv(t.Context(), benchConfig{contenders: cs, table: dynamo.DefaultTable, storeLatency: latency}, &log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	if got := os.Getenv(endpointEnv); got != endpoint {
		t.Fatalf("%s is %q after newBenchEnv; want %q", endpointEnv, got, endpoint)
	}
	if !strings.Contains(log.String(), "adds 150ms to every request") {
		t.Errorf("log: %s", log.String())
	}
	before := e.proxy.Requests()
	for _, c := range []struct {
		name string
		op   func(context.Context) error
	}{
		{"cache-next", func(ctx context.Context) error { _, err := e.cache.Next(ctx, e.cacheSeq); return err }},
		{"nextval/seqshim", func(ctx context.Context) error {
			var v int64
			return e.shim.QueryRowContext(ctx, "SELECT nextval('s')").Scan(&v)
		}},
		{"dynamodb-updateitem", func(ctx context.Context) error { _, err := e.naiveNext(ctx); return err }},
	} {
		start := time.Now()
		if err := c.op(t.Context()); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if took := time.Since(start); took < latency {
			t.Errorf("%s: first call took %v; want at least the store latency %v", c.name, took, latency)
		}
		n := e.proxy.Requests()
		if n <= before {
			t.Errorf("%s: no request through the proxy", c.name)
		}
		before = n
	}
}
