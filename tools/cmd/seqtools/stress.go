package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/seqshim/seqshim/dynamo"
	"github.com/seqshim/seqshim/seqcache"
)

// runStress is the multi-process stress test: worker processes insert
// through seqshim into one PostgreSQL table whose primary key comes from
// one DynamoDB sequence, while the supervisor SIGKILLs random workers and
// restarts them; then it checks what the table and the store hold.
// With -worker it is one of those workers (see stress_worker.go).
func runStress(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("stress", stderr)
	var cfg stressConfig
	fs.IntVar(&cfg.Workers, "workers", 6, "worker processes")
	fs.IntVar(&cfg.Goroutines, "goroutines", 8, "inserting goroutines per worker")
	fs.DurationVar(&cfg.duration, "duration", 20*time.Second, "how long the workers insert")
	fs.IntVar(&cfg.Kills, "kills", 12, "SIGKILLs spread over the run, each followed by a restart")
	fs.Int64Var(&cfg.BlockSize, "block-size", 100, "fixed blocks of this many values, no sizing by demand and no outage cover: a kill then loses at most 1.5 blocks, which is checked; 0: the driver's defaults (the runway), whose loss per kill is reported, not bounded")
	fs.StringVar(&cfg.Table, "table", dynamo.DefaultTable, "DynamoDB table (created if absent)")
	fs.StringVar(&cfg.Namespace, "namespace", "", "store namespace (default: a fresh one)")
	fs.StringVar(&cfg.PGTable, "pg-table", "", "PostgreSQL table to create (default: a fresh name); its sequence is <table>_id_seq")
	fs.BoolVar(&cfg.MariaDB, "mariadb", false, "run on MariaDB (MARIADB_DSN): the table's AUTO_INCREMENT id from the store through seqshim-mysql")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the PostgreSQL table and the store's sequence")
	fs.Uint64Var(&cfg.Seed, "seed", 0, "seed of the kill schedule (default: from the clock)")
	jsonOut := fs.Bool("json", false, "print the report as JSON")
	var w workerArgs
	fs.IntVar(&w.id, "worker", -1, "internal: run as worker N of a supervisor")
	fs.IntVar(&w.incarnation, "incarnation", 0, "internal: the worker's incarnation")
	fs.Int64Var(&w.deadline, "deadline", 0, "internal: unix time at which a worker stops by itself")
	if err := parse(fs, args); err != nil {
		return err
	}
	if cfg.Workers < 1 || cfg.Goroutines < 1 || cfg.Kills < 0 || cfg.BlockSize < 0 || cfg.duration <= 0 {
		return fmt.Errorf("%w: -workers, -goroutines and -duration must be positive, -kills and -block-size not negative", errUsage)
	}
	if cfg.PGTable != "" && !plainIdent(cfg.PGTable) {
		return fmt.Errorf("%w: -pg-table %q: want a lower-case name of letters, digits and _", errUsage, cfg.PGTable)
	}
	if w.id >= 0 {
		w.stressConfig = cfg
		return runStressWorker(ctx, w, stdout, stderr)
	}

	sfx := uniqueSuffix()
	if cfg.Namespace == "" {
		cfg.Namespace = "stress-" + sfx
	}
	if cfg.PGTable == "" {
		cfg.PGTable = "seqshim_stress_" + sfx
	}
	if cfg.Seed == 0 {
		cfg.Seed = uint64(time.Now().UnixNano())
	}
	cfg.Duration = cfg.duration.String()
	s, err := newStress(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer s.native.Close()
	rep, runErr := s.run(ctx)
	if rep != nil {
		if *jsonOut {
			if err := json.NewEncoder(stdout).Encode(rep); err != nil {
				return err
			}
		} else {
			rep.write(stdout)
		}
	}
	if !cfg.keep {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		runErr = errors.Join(runErr, s.drop(cctx))
	}
	if runErr == nil && !rep.OK {
		runErr = fmt.Errorf("the checks failed: %s", strings.Join(rep.Failures, "; "))
	}
	return runErr
}

// stressConfig is a run's settings; the exported fields are reported.
type stressConfig struct {
	Workers    int    `json:"workers"`
	Goroutines int    `json:"goroutines"`
	Duration   string `json:"duration"`
	Kills      int    `json:"kills_planned"`
	BlockSize  int64  `json:"block_size"`
	Table      string `json:"dynamodb_table"`
	Namespace  string `json:"namespace"`
	PGTable    string `json:"pg_table"` // the table, on MariaDB too
	Seed       uint64 `json:"seed"`
	MariaDB    bool   `json:"mariadb"`

	duration time.Duration
	keep     bool
}

// seqName is the table's sequence, as PostgreSQL names a serial's.
func (c stressConfig) seqName() string { return c.PGTable + "_id_seq" }

func plainIdent(s string) bool {
	for i, r := range s {
		if !(r == '_' || 'a' <= r && r <= 'z' || i > 0 && '0' <= r && r <= '9') {
			return false
		}
	}
	return s != "" && len(s) <= 50
}

// stress is the supervisor of one run.
type stress struct {
	cfg    stressConfig
	d      stressDialect
	key    string // the store key of the ids' sequence
	log    io.Writer
	native *sql.DB
	store  *dynamo.Store
	exe    string
	rng    *rand.Rand

	procs        []*proc // the running incarnation of each worker
	exits        chan *proc
	kills        int
	incarnations int
	finals       []workerReport // what gracefully stopped workers reported
	failures     []string
	violations   int // unique violations workers reported
}

// proc is one incarnation of a worker process.
type proc struct {
	worker, incarnation int
	cmd                 *exec.Cmd
	stdout, stderr      bytes.Buffer
	killed, stopped     bool
	err                 error // from Wait
}

func newStress(ctx context.Context, cfg stressConfig, log io.Writer) (*stress, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding this program to start workers: %w", err)
	}
	d := cfg.dialect()
	dbURL, err := d.dsn()
	if err != nil {
		return nil, err
	}
	key, err := d.seqKey(cfg)
	if err != nil {
		return nil, err
	}
	s := &stress{cfg: cfg, d: d, key: key, log: log, exe: exe, rng: newStressRand(cfg.Seed),
		procs: make([]*proc, cfg.Workers), exits: make(chan *proc, cfg.Workers)}
	if s.native, err = openDB(ctx, d.native, dbURL); err != nil {
		return nil, err
	}
	if s.store, err = openDynamo(ctx, cfg.Table, cfg.Namespace); err != nil {
		s.native.Close()
		return nil, err
	}
	for _, q := range d.create(cfg) {
		if _, err := s.native.ExecContext(ctx, q); err != nil {
			s.native.Close()
			return nil, fmt.Errorf("%s: %w", firstLine(q), err)
		}
	}
	spec, err := seqcache.Define(key) // CREATE SEQUENCE's defaults, as above
	if err == nil {
		err = s.store.Create(ctx, spec)
	}
	if err != nil {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		return nil, errors.Join(fmt.Errorf("creating %s in DynamoDB: %w", key, err), s.drop(cctx), s.native.Close())
	}
	fmt.Fprintf(log, "stress: %s: %d workers x %d goroutines insert into %s for %v, block size %d, %d SIGKILLs (seed %d); DynamoDB %s, namespace %s\n",
		d.name, cfg.Workers, cfg.Goroutines, cfg.PGTable, cfg.duration, cfg.BlockSize, cfg.Kills, cfg.Seed, dynamoWhere(), cfg.Namespace)
	return s, nil
}

// drop removes the table and the store's sequence.
func (s *stress) drop(ctx context.Context) error {
	var err error
	for _, q := range s.d.drop(s.cfg) {
		if _, qerr := s.native.ExecContext(ctx, q); qerr != nil {
			err = errors.Join(err, qerr)
		}
	}
	if derr := s.store.Drop(ctx, s.key); derr != nil && !strings.Contains(derr.Error(), "42P01") {
		err = errors.Join(err, derr)
	}
	return err
}

// start starts incarnation k of worker w.
func (s *stress) start(w, k int) error {
	p := &proc{worker: w, incarnation: k}
	c := s.cfg
	p.cmd = exec.Command(s.exe, "stress", "-worker", strconv.Itoa(w), "-incarnation", strconv.Itoa(k),
		"-goroutines", strconv.Itoa(c.Goroutines), "-block-size", strconv.FormatInt(c.BlockSize, 10),
		"-table", c.Table, "-namespace", c.Namespace, "-pg-table", c.PGTable, "-mariadb="+strconv.FormatBool(c.MariaDB),
		// A worker whose supervisor died stops by itself.
		"-deadline", strconv.FormatInt(time.Now().Add(c.duration+2*time.Minute).Unix(), 10))
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		return fmt.Errorf("starting worker %d: %w", w, err)
	}
	s.procs[w] = p
	s.incarnations++
	go func() {
		p.err = p.cmd.Wait()
		s.exits <- p
	}()
	return nil
}

func newStressRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// schedule returns the kill times: evenly spread, each moved by up to
// 40% of the interval at random.
func (s *stress) schedule() []time.Duration {
	iv := s.cfg.duration / time.Duration(s.cfg.Kills+1)
	at := make([]time.Duration, s.cfg.Kills)
	for i := range at {
		jitter := time.Duration((s.rng.Float64()*0.8 - 0.4) * float64(iv))
		at[i] = time.Duration(i+1)*iv + jitter
	}
	return at
}

// run starts the workers, kills and restarts them on schedule, stops them
// at the end and checks the outcome.
func (s *stress) run(ctx context.Context) (*stressReport, error) {
	for w := range s.cfg.Workers {
		if err := s.start(w, 1); err != nil {
			s.stopAll(nil)
			return nil, err
		}
	}
	start := time.Now()
	kills := s.schedule()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	end := time.NewTimer(s.cfg.duration)
	defer end.Stop()
	next := time.NewTimer(time.Hour)
	defer next.Stop()
	if len(kills) > 0 {
		next.Reset(kills[0])
	}
	var abort error
loop:
	for {
		select {
		case <-ctx.Done():
			abort = ctx.Err()
			break loop
		case <-end.C:
			break loop
		case <-tick.C:
			var rows int64
			_ = s.native.QueryRowContext(ctx, "SELECT count(*) FROM "+s.cfg.PGTable).Scan(&rows)
			fmt.Fprintf(s.log, "stress: %3.0fs/%v: %d kills, %d incarnations, %d rows\n",
				time.Since(start).Seconds(), s.cfg.duration, s.kills, s.incarnations, rows)
		case <-next.C:
			s.killOne()
			if s.kills < len(kills) {
				next.Reset(max(0, kills[s.kills]-time.Since(start)))
			}
		case p := <-s.exits:
			s.procs[p.worker] = nil
			if !p.killed {
				// Stop the others and check what is there: the report
				// says what failed.
				s.fail(p, "exited before the end")
				break loop
			}
			if err := s.start(p.worker, p.incarnation+1); err != nil {
				abort = err
				break loop
			}
		}
	}
	s.stopAll(abort)
	if abort != nil {
		return nil, fmt.Errorf("%w: %s", abort, strings.Join(s.failures, "; "))
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	return s.check(cctx)
}

// killOne SIGKILLs a random worker; its exit restarts it.
func (s *stress) killOne() {
	for _, w := range s.rng.Perm(len(s.procs)) {
		p := s.procs[w]
		if p == nil || p.killed {
			continue
		}
		p.killed = true
		if err := p.cmd.Process.Kill(); err != nil {
			s.failures = append(s.failures, fmt.Sprintf("killing worker %d: %v", w, err))
		}
		s.kills++
		return
	}
}

// stopAll asks every running worker to stop (SIGTERM), waits for them and
// collects what they report; a worker that does not stop within 30 s is
// killed and counted as a failure. With abort set, workers are killed.
func (s *stress) stopAll(abort error) {
	running := 0
	for _, p := range s.procs {
		if p == nil {
			continue
		}
		running++
		if p.killed {
			continue // its exit is on the way
		}
		p.stopped = true
		if abort != nil {
			_ = p.cmd.Process.Kill()
		} else if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			s.failures = append(s.failures, fmt.Sprintf("stopping worker %d: %v", p.worker, err))
		}
	}
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	late := false
	for running > 0 {
		select {
		case p := <-s.exits:
			running--
			s.procs[p.worker] = nil
			switch {
			case abort != nil || p.killed:
				s.scan(p)
			case p.stdout.Len() == 0 && diedOf(p.err, syscall.SIGTERM):
				// Restarted just before the stop: SIGTERM came before the
				// worker's handler was installed. Its values count as lost.
				s.scan(p)
			case p.err != nil:
				s.fail(p, "failed while stopping")
			default:
				s.scan(p)
				var r workerReport
				if err := json.Unmarshal(bytes.TrimSpace(p.stdout.Bytes()), &r); err != nil {
					s.failures = append(s.failures, fmt.Sprintf("worker %d/%d: bad report %q: %v", p.worker, p.incarnation, p.stdout.String(), err))
				} else {
					s.finals = append(s.finals, r)
				}
			}
		case <-timeout.C:
			if late {
				s.failures = append(s.failures, fmt.Sprintf("%d workers did not exit after SIGKILL", running))
				return
			}
			late = true
			for _, p := range s.procs {
				if p != nil {
					s.failures = append(s.failures, fmt.Sprintf("worker %d/%d did not stop within 30s", p.worker, p.incarnation))
					_ = p.cmd.Process.Kill()
				}
			}
			timeout.Reset(10 * time.Second)
		}
	}
}

// scan counts the unique violations a worker reported before it ended.
func (s *stress) scan(p *proc) {
	s.violations += strings.Count(p.stderr.String(), "unique_violation=true")
}

func (s *stress) fail(p *proc, what string) {
	s.scan(p)
	s.failures = append(s.failures, fmt.Sprintf("worker %d/%d %s (%v): %s", p.worker, p.incarnation, what, p.err, strings.TrimSpace(p.stderr.String())))
}

// stressReport is what the run found; `seqtools stress -json` prints it.
type stressReport struct {
	stressConfig
	Kills        int   `json:"kills"`
	Incarnations int   `json:"incarnations"`
	Rows         int64 `json:"rows"`
	DistinctIDs  int64 `json:"distinct_ids"`
	MaxID        int64 `json:"max_id"`
	StoreNext    int64 `json:"store_next"`
	// Reserved is every value the store has handed out: next - start.
	Reserved int64 `json:"reserved"`
	// Gaps are reserved values no row has: reserved - rows.
	Gaps int64 `json:"gaps"`
	// LostAtStop are values gracefully stopped workers could not give back
	// (another worker had reserved after them), as their caches counted.
	LostAtStop int64 `json:"lost_at_stop"`
	// LostToKills is Gaps - LostAtStop; with fixed blocks KillBound is its
	// upper bound: per kill, the unused part of the current block plus a
	// prefetched block (at most 1.5 blocks: the next block is fetched when
	// half of the current one is used) plus a value per goroutine in
	// flight. With the runway (block size 0) it is 0: not bounded.
	LostToKills int64 `json:"lost_to_kills"`
	KillBound   int64 `json:"kill_loss_bound"`
	// BlockTimesKills is block size x kills, for comparison.
	BlockTimesKills  int64    `json:"block_times_kills"`
	UniqueViolations int      `json:"unique_violations"`
	OrderViolations  int64    `json:"order_violations"`
	NumberingHoles   int64    `json:"numbering_holes"`
	StopMismatches   int      `json:"stop_mismatches"`
	Failures         []string `json:"failures"`
	OK               bool     `json:"ok"`
}

// check reads the table and the store and checks the run's invariants.
func (s *stress) check(ctx context.Context) (*stressReport, error) {
	tbl := s.cfg.PGTable // a plain name: plainIdent
	r := &stressReport{stressConfig: s.cfg, Kills: s.kills, Incarnations: s.incarnations,
		UniqueViolations: s.violations, Failures: s.failures}
	if err := s.native.QueryRowContext(ctx, "SELECT count(*), count(DISTINCT id), coalesce(max(id), 0) FROM "+tbl).
		Scan(&r.Rows, &r.DistinctIDs, &r.MaxID); err != nil {
		return nil, fmt.Errorf("counting rows: %w", err)
	}
	// Per goroutine of each incarnation, in insertion order (n), ids
	// strictly increase; n runs 1, 2, 3, ... without a hole.
	if err := s.native.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) FROM (
		SELECT id, n, lag(id) OVER w AS prev_id, lag(n) OVER w AS prev_n FROM %s
		WINDOW w AS (PARTITION BY worker, incarnation, goroutine ORDER BY n)) x
		WHERE prev_id IS NOT NULL AND id <= prev_id`, tbl)).Scan(&r.OrderViolations); err != nil {
		return nil, fmt.Errorf("checking order: %w", err)
	}
	if err := s.native.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) FROM (
		SELECT min(n) AS lo, max(n) AS hi, count(*) AS c FROM %s GROUP BY worker, incarnation, goroutine) x
		WHERE lo <> 1 OR hi <> c`, tbl)).Scan(&r.NumberingHoles); err != nil {
		return nil, fmt.Errorf("checking numbering: %w", err)
	}
	// A gracefully stopped worker inserted exactly the values its cache
	// handed out.
	for _, f := range s.finals {
		var rows int64
		if err := s.native.QueryRowContext(ctx, "SELECT count(*) FROM "+tbl+" WHERE worker = "+s.d.params[0]+" AND incarnation = "+s.d.params[1],
			f.Worker, f.Incarnation).Scan(&rows); err != nil {
			return nil, fmt.Errorf("counting a worker's rows: %w", err)
		}
		if rows != f.Rows || rows != f.Served {
			r.StopMismatches++
			r.Failures = append(r.Failures, fmt.Sprintf("worker %d/%d: %d rows in the table, %d inserted, %d values handed out",
				f.Worker, f.Incarnation, rows, f.Rows, f.Served))
		}
		r.LostAtStop += f.Lost
	}
	sq, err := s.store.Get(ctx, s.key)
	if err != nil {
		return nil, fmt.Errorf("reading the sequence from DynamoDB: %w", err)
	}
	r.StoreNext = sq.Next
	r.Reserved = sq.Next - sq.Start
	r.Gaps = r.Reserved - r.Rows
	r.LostToKills = r.Gaps - r.LostAtStop
	if s.cfg.BlockSize > 0 {
		r.KillBound = int64(r.Kills) * (s.cfg.BlockSize + s.cfg.BlockSize/2 + int64(s.cfg.Goroutines))
		r.BlockTimesKills = int64(r.Kills) * s.cfg.BlockSize
	}

	fail := func(format string, args ...any) { r.Failures = append(r.Failures, fmt.Sprintf(format, args...)) }
	if r.UniqueViolations > 0 {
		fail("%d unique violations (%s) reported by workers", r.UniqueViolations, s.d.uniqueCode)
	}
	if r.DistinctIDs != r.Rows {
		fail("%d rows but %d distinct ids", r.Rows, r.DistinctIDs)
	}
	if r.OrderViolations > 0 {
		fail("%d ids not larger than the previous one of the same goroutine", r.OrderViolations)
	}
	if r.NumberingHoles > 0 {
		fail("%d goroutines whose rows are not numbered 1..n", r.NumberingHoles)
	}
	if sq.Exhausted || r.StoreNext <= r.MaxID {
		fail("the store's next value %d is not past the largest id %d", r.StoreNext, r.MaxID)
	}
	if r.Kills < s.cfg.Kills {
		fail("%d kills, %d planned", r.Kills, s.cfg.Kills)
	}
	if len(s.finals) != s.cfg.Workers {
		fail("%d of %d workers reported at the end", len(s.finals), s.cfg.Workers)
	}
	if r.LostToKills < 0 || s.cfg.BlockSize > 0 && r.LostToKills > r.KillBound {
		fail("%d values lost to %d kills; bound %d", r.LostToKills, r.Kills, r.KillBound)
	}
	if r.Rows == 0 {
		fail("no rows inserted")
	}
	r.OK = len(r.Failures) == 0
	return r, nil
}

func (r *stressReport) write(w io.Writer) {
	fmt.Fprintf(w, "\nseqshim stress: %d workers x %d goroutines for %s, block size %d, table %s, namespace %s\n",
		r.Workers, r.Goroutines, r.Duration, r.BlockSize, r.PGTable, r.Namespace)
	fmt.Fprintf(w, "  kills (SIGKILL + restart)      %d (%d incarnations)\n", r.Kills, r.Incarnations)
	fmt.Fprintf(w, "  rows inserted                  %d, %d distinct ids, largest %d\n", r.Rows, r.DistinctIDs, r.MaxID)
	fmt.Fprintf(w, "  unique violations reported     %d\n", r.UniqueViolations)
	fmt.Fprintf(w, "  ids out of order per goroutine %d (holes in numbering: %d)\n", r.OrderViolations, r.NumberingHoles)
	fmt.Fprintf(w, "  DynamoDB next value            %d (past every id: %s)\n", r.StoreNext, okWord(r.StoreNext > r.MaxID))
	fmt.Fprintf(w, "  values reserved, not in a row  %d = %d lost to kills + %d not given back at the final stop\n", r.Gaps, r.LostToKills, r.LostAtStop)
	if r.BlockSize > 0 {
		fmt.Fprintf(w, "  lost to kills                  %d, %.0f a kill; bound %d (1.5 blocks + %d in flight a kill); block x kills = %d\n",
			r.LostToKills, float64(r.LostToKills)/float64(max(1, r.Kills)), r.KillBound, r.Goroutines, r.BlockTimesKills)
	} else {
		fmt.Fprintf(w, "  lost to kills                  %d, %.0f a kill (the driver's defaults: blocks sized by demand and the outage cover, not bounded here)\n",
			r.LostToKills, float64(r.LostToKills)/float64(max(1, r.Kills)))
	}
	if r.OK {
		fmt.Fprintln(w, "  every check passed")
		return
	}
	for _, f := range r.Failures {
		fmt.Fprintf(w, "  FAILED: %s\n", f)
	}
}

// diedOf reports whether a worker's exit error says sig killed it.
func diedOf(err error, sig syscall.Signal) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == sig
}
