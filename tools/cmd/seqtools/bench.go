package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/jackc/pgx/v5"

	"github.com/seqshim/seqshim/driver"
	"github.com/seqshim/seqshim/dynamo"
	"github.com/seqshim/seqshim/internal/faultproxy"
	"github.com/seqshim/seqshim/seqcache"
)

// runBench measures, in one run against the same PostgreSQL and DynamoDB
// endpoint, the ways of drawing sequence values side by side: native pgx,
// seqshim, one DynamoDB UpdateItem per value, and the bare cache.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", stderr)
	var cfg benchConfig
	fs.DurationVar(&cfg.duration, "duration", 2*time.Second, "measured time of each contender at each concurrency")
	fs.IntVar(&cfg.rounds, "rounds", 4, "split each contender's time into this many turns, alternating the contenders' order")
	fs.DurationVar(&cfg.warmup, "warmup", 100*time.Millisecond, "unmeasured run before each turn")
	callers := fs.String("callers", "1,8,64", "comma-separated numbers of concurrent callers")
	only := fs.String("only", "", "comma-separated contenders to run (default all): "+strings.Join(contenderNames(), ", "))
	fs.Int64Var(&cfg.blockSize, "block-size", 0, "seqshim.block_size and the cache's BlockSize, the first and smallest block (0: the defaults, as every other setting)")
	fs.DurationVar(&cfg.storeLatency, "store-latency", 0, "add this to every DynamoDB request of the contenders, through a loopback proxy (needs AWS_ENDPOINT_URL_DYNAMODB), e.g. 100ms")
	fs.StringVar(&cfg.table, "table", dynamo.DefaultTable, "DynamoDB table (created if absent)")
	jsonOut := fs.Bool("json", false, "print the results as JSON")
	plotFile := fs.String("plot", "", "draw throughput and latency to this PNG file")
	if err := parse(fs, args); err != nil {
		return err
	}
	var err error
	if cfg.callers, err = parseCallers(*callers); err != nil {
		return err
	}
	if cfg.contenders, err = selectContenders(*only); err != nil {
		return err
	}
	if cfg.duration <= 0 || cfg.rounds < 1 || cfg.warmup < 0 || cfg.blockSize < 0 {
		return fmt.Errorf("%w: -duration and -rounds must be positive, -block-size not negative", errUsage)
	}
	if err := checkStoreLatency(cfg.storeLatency); err != nil {
		return err
	}
	if *plotFile != "" && !strings.HasSuffix(strings.ToLower(*plotFile), ".png") {
		return fmt.Errorf("%w: -plot %q: want a .png file", errUsage, *plotFile)
	}

	e, err := newBenchEnv(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := e.close(cctx); err != nil {
			fmt.Fprintf(stderr, "seqtools bench: cleaning up: %v\n", err)
		}
	}()
	rep, err := e.run(ctx, cfg)
	if err != nil {
		return err
	}
	if *plotFile != "" {
		if err := rep.plot(*plotFile); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "bench: wrote %s\n", *plotFile)
	}
	if *jsonOut {
		return rep.writeJSON(stdout)
	}
	rep.writeTable(stdout)
	return nil
}

// benchConfig is one run's settings.
type benchConfig struct {
	duration, warmup time.Duration
	rounds           int
	callers          []int
	contenders       []contender
	blockSize        int64         // 0: the defaults
	storeLatency     time.Duration // added to each store request of the contenders
	table            string
}

func parseCallers(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 256 {
			return nil, fmt.Errorf("%w: -callers %q: want numbers from 1 to 256", errUsage, s)
		}
		out = append(out, n)
	}
	return out, nil
}

// storeStart is where the store's sequences start: far above what the
// native sequences reach, so that native and seqshim rows share a table
// without colliding, as after `seqshim import`.
const storeStart = 1 << 40

// sqlWorkload is a statement run both through native pgx (PostgreSQL's own
// sequences) and through seqshim (the same sequences in DynamoDB): each
// one gives two contenders.
type sqlWorkload struct {
	name  string
	ddl   []string // run once in the benchmark's schema
	seqs  []string // the sequences the statement draws from, created in the store
	query string
	exec  bool // run with Exec; otherwise QueryRow and Scan one value
	args  []any
}

// workloads are the statements compared, native against seqshim.
func workloads() []sqlWorkload {
	return []sqlWorkload{
		{
			name:  "nextval",
			ddl:   []string{"CREATE SEQUENCE s"},
			seqs:  []string{"s"},
			query: "SELECT nextval('s')",
		},
		{
			name:  "insert",
			ddl:   []string{"CREATE SEQUENCE t_seq", "CREATE TABLE t (id bigint PRIMARY KEY, v text NOT NULL)"},
			seqs:  []string{"t_seq"},
			query: "INSERT INTO t (id, v) VALUES (nextval('t_seq'), $1)",
			exec:  true,
			args:  []any{"payload"},
		},
		{
			name:  "insert-bigserial",
			ddl:   []string{"CREATE TABLE serial_t (id bigserial PRIMARY KEY, v text NOT NULL)"},
			seqs:  []string{"serial_t_id_seq"},
			query: "INSERT INTO serial_t (v) VALUES ($1)",
			exec:  true,
			args:  []any{"payload"},
		},
	}
}

// contender is one way of drawing values, measured as the time one
// caller's op takes.
type contender struct {
	name     string
	baseline string // the contender whose throughput the ratio is to
	about    string
	// op returns the operation a caller repeats.
	op func(e *benchEnv) func(context.Context) error
	// db is the pool the contender uses, sized to the callers; nil if none.
	db func(e *benchEnv) *sql.DB
	// requests counts what it has sent to DynamoDB so far; nil if nothing.
	requests func(e *benchEnv) int64
	// waits counts the times its callers waited for the store so far; nil
	// if it has no cache.
	waits func(e *benchEnv) int64
}

// contenders lists every contender: native and seqshim for each workload,
// then the naive DynamoDB counter and the bare cache.
func contenders() []contender {
	var cs []contender
	shimRequests := func(e *benchEnv) int64 { return e.shimCache.Stats().Reservations }
	shimWaits := func(e *benchEnv) int64 { return e.shimCache.Stats().Waits }
	for _, w := range workloads() {
		native := w.name + "/native"
		cs = append(cs,
			contender{name: native, baseline: native, about: "pgx stdlib, PostgreSQL's sequence: " + w.query,
				op: func(e *benchEnv) func(context.Context) error { return sqlOp(e.native, w) },
				db: func(e *benchEnv) *sql.DB { return e.native }},
			contender{name: w.name + "/seqshim", baseline: native, about: "seqshim driver, sequence in DynamoDB: " + w.query,
				op:       func(e *benchEnv) func(context.Context) error { return sqlOp(e.shim, w) },
				db:       func(e *benchEnv) *sql.DB { return e.shim },
				requests: shimRequests,
				waits:    shimWaits},
		)
	}
	return append(cs,
		contender{name: "dynamodb-updateitem", baseline: "nextval/native",
			about: "the naive counter: one DynamoDB UpdateItem ADD 1 per value (AWS SDK)",
			op: func(e *benchEnv) func(context.Context) error {
				return func(ctx context.Context) error { _, err := e.naiveNext(ctx); return err }
			},
			requests: func(e *benchEnv) int64 { return e.naiveCalls.Load() }},
		contender{name: "cache-next", baseline: "nextval/native",
			about: "seqcache.Cache.Next on the DynamoDB store, no database/sql",
			op: func(e *benchEnv) func(context.Context) error {
				return func(ctx context.Context) error { _, err := e.cache.Next(ctx, e.cacheSeq); return err }
			},
			requests: func(e *benchEnv) int64 { return e.cache.Stats().Reservations },
			waits:    func(e *benchEnv) int64 { return e.cache.Stats().Waits }},
	)
}

func contenderNames() []string {
	var names []string
	for _, c := range contenders() {
		names = append(names, c.name)
	}
	return names
}

// selectContenders returns the contenders named in only (all when empty),
// with the baselines their ratios need.
func selectContenders(only string) ([]contender, error) {
	all := contenders()
	if only == "" {
		return all, nil
	}
	want := make(map[string]bool)
	for n := range strings.SplitSeq(only, ",") {
		n = strings.TrimSpace(n)
		if !slices.Contains(contenderNames(), n) {
			return nil, fmt.Errorf("%w: -only: unknown contender %q; known: %s", errUsage, n, strings.Join(contenderNames(), ", "))
		}
		want[n] = true
	}
	var out []contender
	for _, c := range all {
		if want[c.name] {
			out = append(out, c)
		}
	}
	return out, nil
}

func sqlOp(db *sql.DB, w sqlWorkload) func(context.Context) error {
	if w.exec {
		return func(ctx context.Context) error {
			_, err := db.ExecContext(ctx, w.query, w.args...)
			return err
		}
	}
	return func(ctx context.Context) error {
		var v int64
		return db.QueryRowContext(ctx, w.query, w.args...).Scan(&v)
	}
}

// benchEnv is what the contenders run against: a schema of the run's own
// in PostgreSQL, a namespace of its own in DynamoDB.
type benchEnv struct {
	log          io.Writer
	schema, ns   string
	native, shim *sql.DB
	shimCache    *seqcache.Cache   // seqshim's cache, for its counters
	dyn          *dynamo.Store     // the sequences' store, for setup and cleanup
	contend      *dynamo.Store     // the same through the proxy, if any: cache-next's store and the naive counter's client
	proxy        *faultproxy.Proxy // adds -store-latency to the contenders' requests; nil without
	cache        *seqcache.Cache   // cache-next's own cache on contend
	cacheSeq     string
	naiveKey     string
	naiveCalls   atomic.Int64
	seqs         []string // store keys created
}

func newBenchEnv(ctx context.Context, cfg benchConfig, log io.Writer) (_ *benchEnv, err error) {
	sfx := uniqueSuffix()
	e := &benchEnv{log: log, schema: "seqshim_bench_" + sfx, ns: "bench-" + sfx}
	defer func() {
		if err != nil {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			err = errors.Join(err, e.close(cctx))
		}
	}()
	dbURL, err := databaseURL()
	if err != nil {
		return e, err
	}
	if e.native, err = openDB(ctx, "pgx", withParams(dbURL, "search_path="+e.schema)); err != nil {
		return e, err
	}
	// The naive counter gets an HTTP client that keeps a connection per
	// caller, as anyone running it at this concurrency would configure.
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns, t.MaxIdleConnsPerHost = 512, 512
	})
	withClient := func(o *dynamo.Options) {
		o.ClientOptions = append(o.ClientOptions, func(o *dynamodb.Options) { o.HTTPClient = httpClient })
	}
	if e.dyn, err = openDynamo(ctx, cfg.table, e.ns, withClient); err != nil {
		return e, err
	}
	e.contend = e.dyn
	if cfg.storeLatency > 0 {
		if e.proxy, err = startLatencyProxy(cfg.storeLatency); err != nil {
			return e, err
		}
		if e.contend, err = openDynamo(ctx, cfg.table, e.ns, withClient, viaProxy(e.proxy)); err != nil {
			return e, err
		}
	}
	fmt.Fprintf(log, "bench: PostgreSQL %s, DynamoDB %s table %s, namespace %s, schema %s\n",
		pgWhere(dbURL), dynamoWhere(), cfg.table, e.ns, e.schema)
	if e.proxy != nil {
		fmt.Fprintf(log, "bench: the contenders reach DynamoDB through %s, which adds %v to every request\n", e.proxy.URL(), cfg.storeLatency)
	}

	if _, err := e.native.ExecContext(ctx, "CREATE SCHEMA "+pgx.Identifier{e.schema}.Sanitize()); err != nil {
		return e, fmt.Errorf("creating schema %s: %w", e.schema, err)
	}
	used := make(map[string]bool)
	for _, c := range cfg.contenders {
		used[strings.Split(c.name, "/")[0]] = true
	}
	for _, w := range workloads() {
		if !used[w.name] {
			continue
		}
		for _, q := range w.ddl {
			if _, err := e.native.ExecContext(ctx, q); err != nil {
				return e, fmt.Errorf("%s: %w", q, err)
			}
		}
		for _, s := range w.seqs {
			if err := e.createSeq(ctx, s); err != nil {
				return e, err
			}
		}
	}
	e.cacheSeq = e.schema + ".cache_next"
	if err := e.createSeq(ctx, "cache_next"); err != nil {
		return e, err
	}
	e.naiveKey = e.ns + "/naive-counter"

	// Every other setting of seqshim and of the cache is its default.
	params := []string{"search_path=" + e.schema, "seqshim.store=dynamodb://" + cfg.table,
		"seqshim.namespace=" + e.ns, "seqshim.schema=" + e.schema}
	if cfg.blockSize > 0 {
		params = append(params, "seqshim.block_size="+strconv.FormatInt(cfg.blockSize, 10))
	}
	openShim := func() (err error) {
		e.shim, err = openDB(ctx, "seqshim", withParams(dbURL, params...))
		return err
	}
	if e.proxy != nil {
		err = withEndpoint(e.proxy.URL(), openShim)
	} else {
		err = openShim()
	}
	if err != nil {
		return e, err
	}
	if e.shimCache, err = driver.CacheOf(ctx, e.shim); err != nil {
		return e, err
	}
	e.cache = seqcache.NewCache(e.contend, seqcache.Config{BlockSize: cfg.blockSize})
	return e, nil
}

// createSeq creates a store sequence starting at storeStart.
func (e *benchEnv) createSeq(ctx context.Context, name string) error {
	spec, err := seqcache.Define(e.schema+"."+name, seqcache.Start(storeStart))
	if err != nil {
		return err
	}
	if err := e.dyn.Create(ctx, spec); err != nil {
		return fmt.Errorf("creating %s in DynamoDB: %w", spec.Name, err)
	}
	e.seqs = append(e.seqs, spec.Name)
	return nil
}

// naiveNext is what a service without seqshim might write: one atomic
// counter increment in DynamoDB per value.
func (e *benchEnv) naiveNext(ctx context.Context) (int64, error) {
	e.naiveCalls.Add(1)
	out, err := e.contend.Client().UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 ptr(e.contend.Table()),
		Key:                       map[string]types.AttributeValue{"name": &types.AttributeValueMemberS{Value: e.naiveKey}},
		UpdateExpression:          ptr("ADD #v :one"),
		ExpressionAttributeNames:  map[string]string{"#v": "v"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}},
		ReturnValues:              types.ReturnValueUpdatedNew,
	})
	if err != nil {
		return 0, fmt.Errorf("naive counter: %w", err)
	}
	n, ok := out.Attributes["v"].(*types.AttributeValueMemberN)
	if !ok {
		return 0, fmt.Errorf("naive counter: UpdateItem returned %v", out.Attributes)
	}
	return strconv.ParseInt(n.Value, 10, 64)
}

func ptr[T any](v T) *T { return &v }

// close drops what the run created and closes its connections.
func (e *benchEnv) close(ctx context.Context) error {
	var errs []error
	if e.shim != nil {
		errs = append(errs, e.shim.Close())
	}
	if e.cache != nil {
		errs = append(errs, e.cache.Close(ctx))
	}
	if e.dyn != nil {
		for _, s := range e.seqs {
			errs = append(errs, e.dyn.Drop(ctx, s))
		}
		if e.naiveKey != "" {
			_, err := e.dyn.Client().DeleteItem(ctx, &dynamodb.DeleteItemInput{
				TableName: ptr(e.dyn.Table()),
				Key:       map[string]types.AttributeValue{"name": &types.AttributeValueMemberS{Value: e.naiveKey}},
			})
			errs = append(errs, err)
		}
	}
	if e.native != nil {
		_, err := e.native.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{e.schema}.Sanitize()+" CASCADE")
		errs = append(errs, err, e.native.Close())
	}
	if e.proxy != nil {
		errs = append(errs, e.proxy.Close())
	}
	return errors.Join(errs...)
}

// run measures every contender at every concurrency. For each number of
// callers it takes rounds turns; in each turn every contender runs for
// duration/rounds, in the listed order on even turns and the reverse
// order on odd ones, so that drift (a growing table, a warming cache)
// does not favour one side.
func (e *benchEnv) run(ctx context.Context, cfg benchConfig) (*benchReport, error) {
	rep := &benchReport{
		Settings: benchSettings{
			Duration:     cfg.duration.String(),
			Rounds:       cfg.rounds,
			Callers:      cfg.callers,
			BlockSize:    cfg.blockSize,
			StoreLatency: cfg.storeLatency.String(),
			CPUs:         runtime.NumCPU(),
			GOOS:         runtime.GOOS,
			GOARCH:       runtime.GOARCH,
			Go:           runtime.Version(),
			Endpoint:     dynamoWhere(),
			Histogram:    "HdrHistogram (github.com/HdrHistogram/hdrhistogram-go), 1 ns to 1 min, 3 significant digits",
		},
	}
	slice := cfg.duration / time.Duration(cfg.rounds)
	total := time.Duration(len(cfg.callers)*len(cfg.contenders)) * (cfg.duration + time.Duration(cfg.rounds)*cfg.warmup)
	fmt.Fprintf(e.log, "bench: %d contenders x %d concurrencies, %v each: about %v\n",
		len(cfg.contenders), len(cfg.callers), cfg.duration, total.Round(time.Second))
	for _, n := range cfg.callers {
		cells := make([]*cell, len(cfg.contenders))
		for i, c := range cfg.contenders {
			cells[i] = newCell(c, n)
		}
		for r := range cfg.rounds {
			order := slices.Clone(cells)
			if r%2 == 1 {
				slices.Reverse(order)
			}
			for _, c := range order {
				if err := e.turn(ctx, c, slice, cfg.warmup); err != nil {
					return nil, fmt.Errorf("%s with %d callers: %w", c.c.name, n, err)
				}
				fmt.Fprintf(e.log, "bench: %2d callers, turn %d/%d, %-24s %12.0f ops/s\n",
					n, r+1, cfg.rounds, c.c.name, float64(c.ops)/c.elapsed.Seconds())
			}
		}
		for _, c := range cells {
			rep.add(c)
		}
	}
	rep.ratios()
	return rep, nil
}

// cell accumulates one contender's turns at one concurrency.
type cell struct {
	c        contender
	callers  int
	ops      int64
	elapsed  time.Duration
	requests int64
	waits    int64
	hist     *histogram
}

func newCell(c contender, callers int) *cell {
	return &cell{c: c, callers: callers, hist: newHistogram()}
}

// turn runs the contender's callers for d after a warm-up, and adds what
// it measured to the cell.
func (e *benchEnv) turn(ctx context.Context, c *cell, d, warmup time.Duration) error {
	op := c.c.op(e)
	if c.c.db != nil {
		db := c.c.db(e)
		db.SetMaxOpenConns(c.callers)
		db.SetMaxIdleConns(c.callers)
		// Give the connections back after the turn: the other pool needs
		// them under PostgreSQL's max_connections.
		defer db.SetMaxIdleConns(0)
	}
	if warmup > 0 {
		if _, _, err := drive(ctx, c.callers, warmup, op, nil); err != nil {
			return err
		}
	}
	var before, waitsBefore int64
	if c.c.requests != nil {
		before = c.c.requests(e)
	}
	if c.c.waits != nil {
		waitsBefore = c.c.waits(e)
	}
	ops, elapsed, err := drive(ctx, c.callers, d, op, c.hist)
	if err != nil {
		return err
	}
	if c.c.requests != nil {
		c.requests += c.c.requests(e) - before
	}
	if c.c.waits != nil {
		c.waits += c.c.waits(e) - waitsBefore
	}
	c.ops += ops
	c.elapsed += elapsed
	return nil
}

// drive runs op from n goroutines for d, records each call's latency in
// h (when not nil), and returns the calls made and the time they took.
func drive(ctx context.Context, n int, d time.Duration, op func(context.Context) error, h *histogram) (int64, time.Duration, error) {
	hists := make([]*histogram, n)
	ops := make([]int64, n)
	errs := make([]error, n)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	gate := make(chan struct{})
	var wg sync.WaitGroup
	for g := range n {
		if h != nil {
			hists[g] = newHistogram()
		}
		wg.Go(func() {
			<-gate
			deadline := time.Now().Add(d)
			for {
				t0 := time.Now()
				err := op(ctx)
				t1 := time.Now()
				if err != nil {
					if ctx.Err() == nil {
						errs[g] = err
						cancel() // one failure stops the turn
					}
					return
				}
				ops[g]++
				if hists[g] != nil {
					hists[g].record(t1.Sub(t0))
				}
				if t1.After(deadline) {
					return
				}
			}
		})
	}
	start := time.Now()
	close(gate)
	wg.Wait()
	elapsed := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return 0, 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	var total int64
	for g := range n {
		total += ops[g]
		if h != nil {
			h.merge(hists[g])
		}
	}
	return total, elapsed, nil
}
