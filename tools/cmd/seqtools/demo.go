package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // the native "pgx" driver, for DDL and comparisons
	"github.com/prometheus/client_golang/prometheus"

	"github.com/seqshim/seqshim/driver"
	"github.com/seqshim/seqshim/dynamo"
	"github.com/seqshim/seqshim/seqcache"
	"github.com/seqshim/seqshim/seqmetrics"
)

// runDemo runs a small order service through sql.Open("seqshim", ...)
// against PostgreSQL and DynamoDB: it creates its schema, places orders
// with order lines from several goroutines, reads them back and shows
// what the sequences did.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", stderr)
	orders := fs.Int("orders", 5000, "orders to place")
	maxLines := fs.Int("max-lines", 5, "each order has 1 to this many lines")
	workers := fs.Int("workers", 8, "goroutines placing orders")
	calls := fs.Int("latency-calls", 10_000, "SELECT nextval calls timed on each driver")
	table := fs.String("table", dynamo.DefaultTable, "DynamoDB table (created if absent)")
	memory := fs.Bool("memory", false, "keep sequences in process memory instead of DynamoDB (PostgreSQL is still needed)")
	keep := fs.Bool("keep", false, "keep the schema and the sequences instead of dropping them at the end")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *orders < 1 || *maxLines < 1 || *workers < 1 || *calls < 1 {
		return fmt.Errorf("%w: -orders, -max-lines, -workers and -latency-calls must be positive", errUsage)
	}

	sfx := uniqueSuffix()
	d := &demo{
		out:    stdout,
		errw:   stderr,
		schema: "seqshim_demo_" + sfx,
		ns:     "demo-" + sfx,
	}
	dbURL, err := databaseURL()
	if err != nil {
		return err
	}
	if d.native, err = openDB(ctx, "pgx", withParams(dbURL, "search_path="+d.schema)); err != nil {
		return err
	}
	defer d.native.Close()

	storeURL := "dynamodb://" + *table
	where := "DynamoDB table " + *table
	if *memory {
		storeURL, where = "memory://", "process memory (-memory)"
	} else {
		if d.dyn, err = openDynamo(ctx, *table, d.ns); err != nil {
			return err
		}
		where += " at " + dynamoWhere()
	}
	dsn := withParams(dbURL, "search_path="+d.schema,
		"seqshim.store="+storeURL, "seqshim.namespace="+d.ns, "seqshim.schema="+d.schema)
	if d.shim, err = openDB(ctx, "seqshim", dsn); err != nil {
		return err
	}
	defer func() {
		if d.shim != nil {
			d.shim.Close()
		}
	}()
	if d.cache, err = driver.CacheOf(ctx, d.shim); err != nil {
		return err
	}
	// What a service does in one line, with its registry:
	// prometheus.MustRegister(seqmetrics.ForDB(db)).
	d.metrics = prometheus.NewPedanticRegistry()
	d.metrics.MustRegister(seqmetrics.ForDB(d.shim))
	d.store = d.cache // Create, Get and Drop pass through the cache to its store
	if d.dyn != nil {
		d.store = d.dyn
	}
	fmt.Fprintf(stdout, "seqshim demo: PostgreSQL %s, sequences in %s, namespace %q\n\n", pgWhere(dbURL), where, d.ns)

	if err := d.createSchema(ctx); err != nil {
		return err
	}
	cleanup := func() error {
		if *keep {
			fmt.Fprintf(stdout, "\nkept: schema %s in PostgreSQL; look with\n  psql \"$DATABASE_URL\" -c 'SELECT * FROM %s.orders ORDER BY id LIMIT 10'\n", d.schema, d.schema)
			if d.dyn != nil {
				fmt.Fprintf(stdout, "  go run ./cmd/seqshim list -store dynamodb://%s -namespace %s\n", *table, d.ns)
			}
			return nil
		}
		// Clean up even after Ctrl-C.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		return d.dropAll(ctx)
	}

	res, err := d.placeOrders(ctx, *orders, *maxLines, *workers)
	if err != nil {
		return errors.Join(err, cleanup())
	}
	if err := d.check(ctx, res); err != nil {
		return errors.Join(err, cleanup())
	}
	if err := d.latency(ctx, *calls); err != nil {
		return errors.Join(err, cleanup())
	}
	if err := d.printMetrics(); err != nil {
		return errors.Join(err, cleanup())
	}
	if err := d.closeShim(ctx); err != nil {
		return errors.Join(err, cleanup())
	}
	return cleanup()
}

// demo is one run of the demo.
type demo struct {
	out, errw    io.Writer
	schema, ns   string
	native, shim *sql.DB
	cache        *seqcache.Cache
	store        seqcache.Store       // where the sequences are created
	dyn          *dynamo.Store        // nil with -memory
	metrics      *prometheus.Registry // seqmetrics' collector of shim
	seqs         []string             // store keys created
}

func (d *demo) ident(name string) string { return pgx.Identifier{d.schema, name}.Sanitize() }

// createSchema creates the schema, its two tables and their sequences, in
// PostgreSQL (so the schema stays what it would be without seqshim) and
// with the same parameters in the store.
func (d *demo) createSchema(ctx context.Context) error {
	stmts := []string{
		"CREATE SCHEMA " + pgx.Identifier{d.schema}.Sanitize(),
		"CREATE SEQUENCE " + d.ident("orders_id_seq"),
		"CREATE SEQUENCE " + d.ident("order_lines_id_seq"),
		fmt.Sprintf(`CREATE TABLE %s (
	id          bigint PRIMARY KEY DEFAULT nextval('%s'),
	customer    text NOT NULL,
	total_cents bigint NOT NULL,
	placed_at   timestamptz NOT NULL DEFAULT now())`, d.ident("orders"), d.schema+".orders_id_seq"),
		fmt.Sprintf(`CREATE TABLE %s (
	id          bigint PRIMARY KEY DEFAULT nextval('%s'),
	order_id    bigint NOT NULL REFERENCES %s (id),
	sku         text NOT NULL,
	qty         int NOT NULL,
	price_cents bigint NOT NULL)`, d.ident("order_lines"), d.schema+".order_lines_id_seq", d.ident("orders")),
		fmt.Sprintf("ALTER SEQUENCE %s OWNED BY %s.id", d.ident("orders_id_seq"), d.ident("orders")),
		fmt.Sprintf("ALTER SEQUENCE %s OWNED BY %s.id", d.ident("order_lines_id_seq"), d.ident("order_lines")),
	}
	for _, s := range stmts {
		if _, err := d.native.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("creating the demo schema: %s: %w", firstLine(s), err)
		}
	}
	fmt.Fprintf(d.out, "created schema %s: orders and order_lines, each with id bigint PRIMARY KEY DEFAULT nextval of its sequence\n", d.schema)
	for _, name := range []string{"orders_id_seq", "order_lines_id_seq"} {
		spec, err := seqcache.Define(d.schema + "." + name) // CREATE SEQUENCE's defaults, as above
		if err != nil {
			return err
		}
		if err := d.store.Create(ctx, spec); err != nil {
			return fmt.Errorf("creating sequence %s in the store: %w", spec.Name, err)
		}
		d.seqs = append(d.seqs, spec.Name)
		fmt.Fprintf(d.out, "created sequence %s in PostgreSQL and the store: start %d, increment %d, cache %d\n", name, spec.Start, spec.Increment, spec.Cache)
	}
	return nil
}

// order is what a goroutine placed: the order's id, its total and its
// lines' ids.
type order struct {
	id    int64
	total int64
	lines []int64
}

// placed is the outcome of placeOrders.
type placed struct {
	byWorker [][]order
	elapsed  time.Duration
	stats    seqcache.Stats // the cache's counters after placing
}

func (p *placed) all() []order { return slices.Concat(p.byWorker...) }

// placeOrders has workers goroutines place n orders, each in a
// transaction: INSERT ... VALUES (nextval('orders_id_seq'), ...) RETURNING
// id, then its lines the same way.
func (d *demo) placeOrders(ctx context.Context, n, maxLines, workers int) (*placed, error) {
	insOrder := "INSERT INTO orders (id, customer, total_cents) VALUES (nextval('orders_id_seq'), $1, $2) RETURNING id"
	insLine := "INSERT INTO order_lines (id, order_id, sku, qty, price_cents) VALUES (nextval('order_lines_id_seq'), $1, $2, $3, $4) RETURNING id"
	fmt.Fprintf(d.out, "\n%d goroutines place %d orders of 1 to %d lines, one transaction per order:\n  %s\n  %s\n",
		workers, n, maxLines, insOrder, insLine)
	d.shim.SetMaxOpenConns(workers)
	d.shim.SetMaxIdleConns(workers)

	var next, done atomic.Int64
	res := &placed{byWorker: make([][]order, workers)}
	errs := make([]error, workers)
	stop := progress(d.errw, func(el time.Duration) string {
		return fmt.Sprintf("  %4.1fs: %d/%d orders placed", el.Seconds(), done.Load(), n)
	})
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), uint64(start.UnixNano())))
			for next.Add(1) <= int64(n) {
				o, err := d.placeOne(ctx, rng, maxLines, insOrder, insLine)
				if err != nil {
					errs[w] = err
					return
				}
				res.byWorker[w] = append(res.byWorker[w], o)
				done.Add(1)
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	stop()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("placing orders: %w", err)
	}
	res.stats = d.cache.Stats()
	lines := 0
	for _, o := range res.all() {
		lines += len(o.lines)
	}
	fmt.Fprintf(d.out, "placed %d orders and %d lines in %v (%.0f inserts/s)\n",
		n, lines, res.elapsed.Round(time.Millisecond), float64(n+lines)/res.elapsed.Seconds())
	return res, nil
}

func (d *demo) placeOne(ctx context.Context, rng *rand.Rand, maxLines int, insOrder, insLine string) (order, error) {
	tx, err := d.shim.BeginTx(ctx, nil)
	if err != nil {
		return order{}, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	qty := make([]int64, 1+rng.IntN(maxLines))
	price := make([]int64, len(qty))
	var o order
	for i := range qty {
		qty[i], price[i] = 1+rng.Int64N(4), 100+rng.Int64N(9900)
		o.total += qty[i] * price[i]
	}
	customer := fmt.Sprintf("customer-%03d", rng.IntN(1000))
	if err := tx.QueryRowContext(ctx, insOrder, customer, o.total).Scan(&o.id); err != nil {
		return order{}, fmt.Errorf("inserting an order: %w", err)
	}
	for i := range qty {
		var id int64
		sku := fmt.Sprintf("SKU-%04d", rng.IntN(10_000))
		if err := tx.QueryRowContext(ctx, insLine, o.id, sku, qty[i], price[i]).Scan(&id); err != nil {
			return order{}, fmt.Errorf("inserting an order line: %w", err)
		}
		o.lines = append(o.lines, id)
	}
	return o, tx.Commit()
}

// check reads the orders back and checks them: each order has the lines
// and total it was given, every id is unique, and each goroutine's ids
// increase.
func (d *demo) check(ctx context.Context, res *placed) error {
	want := make(map[int64]order)
	var orderIDs, lineIDs []int64
	for _, o := range res.all() {
		want[o.id] = o
		orderIDs = append(orderIDs, o.id)
		lineIDs = append(lineIDs, o.lines...)
	}
	rows, err := d.shim.QueryContext(ctx, `SELECT o.id, o.total_cents, count(l.id), coalesce(sum(l.qty * l.price_cents), 0)
		FROM orders o LEFT JOIN order_lines l ON l.order_id = o.id GROUP BY o.id`)
	if err != nil {
		return fmt.Errorf("reading orders back: %w", err)
	}
	defer rows.Close()
	var got, bad int
	for rows.Next() {
		var id, total, lines, sum int64
		if err := rows.Scan(&id, &total, &lines, &sum); err != nil {
			return fmt.Errorf("reading orders back: %w", err)
		}
		got++
		if o, ok := want[id]; !ok || o.total != total || int64(len(o.lines)) != lines || sum != total {
			bad++
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading orders back: %w", err)
	}
	fmt.Fprintf(d.out, "read back %d orders: %d with the lines and total they were placed with\n", got, got-bad)

	st := res.stats
	fmt.Fprintf(d.out, "\nvalues handed out: %d (%d order ids + %d line ids)\n", st.Served, len(orderIDs), len(lineIDs))
	what := "DynamoDB requests"
	if d.dyn == nil {
		what = "store requests (memory)"
	}
	fmt.Fprintf(d.out, "%s: %d block reservations for %d nextval calls (%.3f%% of calls), plus one read per sequence; callers waited for the store %d times\n",
		what, st.Reservations, st.Served, 100*float64(st.Reservations)/float64(max(1, st.Served)), st.Waits)

	increasing := true
	for _, w := range res.byWorker {
		for i := 1; i < len(w); i++ {
			if w[i].id <= w[i-1].id || w[i].lines[0] <= w[i-1].lines[len(w[i-1].lines)-1] {
				increasing = false
			}
		}
	}
	type count struct{ rows, distinct int64 }
	var counts [2]count
	for i, tbl := range []string{"orders", "order_lines"} {
		if err := d.shim.QueryRowContext(ctx, "SELECT count(*), count(DISTINCT id) FROM "+tbl).Scan(&counts[i].rows, &counts[i].distinct); err != nil {
			return fmt.Errorf("counting %s: %w", tbl, err)
		}
	}
	clientUnique := distinct(orderIDs) == len(orderIDs) && distinct(lineIDs) == len(lineIDs)
	unique := counts[0].rows == counts[0].distinct && counts[1].rows == counts[1].distinct && clientUnique
	fmt.Fprintf(d.out, "unique ids: orders count(*) %d = count(DISTINCT id) %d, order_lines %d = %d, every RETURNING id distinct: %s\n",
		counts[0].rows, counts[0].distinct, counts[1].rows, counts[1].distinct, okWord(unique))
	fmt.Fprintf(d.out, "ids increase within each goroutine: %s\n", okWord(increasing))
	switch {
	case bad > 0 || got != len(want):
		return fmt.Errorf("read back %d orders, %d of them wrong; placed %d", got, bad, len(want))
	case !unique:
		return errors.New("duplicate ids")
	case counts[0].rows != int64(len(orderIDs)) || counts[1].rows != int64(len(lineIDs)):
		return fmt.Errorf("%d orders and %d lines in the tables; placed %d and %d", counts[0].rows, counts[1].rows, len(orderIDs), len(lineIDs))
	case !increasing:
		return errors.New("a goroutine saw ids decrease")
	case st.Served != int64(len(orderIDs)+len(lineIDs)):
		return fmt.Errorf("the cache handed out %d values for %d rows", st.Served, len(orderIDs)+len(lineIDs))
	}
	return nil
}

// latency times SELECT nextval('orders_id_seq') through database/sql,
// one call at a time, on seqshim and on native pgx.
func (d *demo) latency(ctx context.Context, calls int) error {
	const q = "SELECT nextval('orders_id_seq')"
	fmt.Fprintf(d.out, "\nnextval latency, %d calls of %s through database/sql, one goroutine:\n", calls, q)
	for _, side := range []struct {
		name string
		db   *sql.DB
	}{{"seqshim", d.shim}, {"native pgx (PostgreSQL's sequence)", d.native}} {
		lat := make([]time.Duration, 0, calls)
		stop := progress(d.errw, func(el time.Duration) string {
			return fmt.Sprintf("  %4.1fs: %s %d/%d calls", el.Seconds(), side.name, len(lat), calls)
		})
		for range calls {
			var v int64
			t := time.Now()
			err := side.db.QueryRowContext(ctx, q).Scan(&v)
			lat = append(lat, time.Since(t))
			if err != nil {
				stop()
				return fmt.Errorf("%s: %s: %w", side.name, q, err)
			}
		}
		stop()
		slices.Sort(lat)
		fmt.Fprintf(d.out, "  %-36s p50 %-8v p99 %v\n", side.name, roundSig(percentile(lat, 50)), roundSig(percentile(lat, 99)))
	}
	return nil
}

// printMetrics prints what one scrape of the metrics registry sees: the
// collector a service would register for its sql.DB.
func (d *demo) printMetrics() error {
	mfs, err := scrape(d.metrics)
	if err != nil {
		return err
	}
	fmt.Fprintln(d.out, "\nwhat the Prometheus collector sees (seqmetrics.ForDB(db), one scrape before Close):")
	printMetrics(d.out, mfs)
	return nil
}

// closeShim closes the seqshim database, which gives the cache's unused
// values back to the store.
func (d *demo) closeShim(ctx context.Context) error {
	err := d.shim.Close()
	d.shim = nil
	if err != nil {
		return fmt.Errorf("closing seqshim: %w", err)
	}
	st := d.cache.Stats()
	fmt.Fprintf(d.out, "\nclosed seqshim: %d unused values given back to the store, %d lost\n", st.GivenBack, st.Lost)
	if d.dyn == nil {
		return nil
	}
	for _, key := range d.seqs {
		sq, err := d.dyn.Get(ctx, key)
		if err != nil {
			return err
		}
		fmt.Fprintf(d.out, "  %-40s next value in DynamoDB: %d\n", key, sq.Next)
	}
	return nil
}

// dropAll drops the store's sequences and the schema.
func (d *demo) dropAll(ctx context.Context) error {
	var errs []error
	if d.dyn != nil {
		for _, key := range d.seqs {
			errs = append(errs, d.dyn.Drop(ctx, key))
		}
	}
	if _, err := d.native.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{d.schema}.Sanitize()+" CASCADE"); err != nil {
		errs = append(errs, fmt.Errorf("dropping schema %s: %w", d.schema, err))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "\ndropped schema %s and the store's sequences (-keep keeps them)\n", d.schema)
	return nil
}

func distinct(ids []int64) int {
	s := slices.Clone(ids)
	slices.Sort(s)
	return len(slices.Compact(s))
}

func okWord(ok bool) string {
	if ok {
		return "yes"
	}
	return "NO"
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// percentile returns the q-th percentile (0 < q <= 100) of sorted samples,
// by the nearest-rank method.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q/100*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// roundSig rounds d to three significant digits for display.
func roundSig(d time.Duration) time.Duration {
	for unit := time.Duration(1); unit < time.Hour; unit *= 10 {
		if d < 1000*unit {
			return d.Round(unit)
		}
	}
	return d
}

// progress prints line(elapsed) to w every second until stop is called,
// so that a phase longer than a second shows it is alive.
func progress(w io.Writer, line func(elapsed time.Duration) string) (stop func()) {
	start := time.Now()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fmt.Fprintln(w, line(time.Since(start)))
			}
		}
	})
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			wg.Wait()
		})
	}
}
