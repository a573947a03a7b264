package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seqshim/seqshim/driver"
)

// workerArgs are a stress worker's settings: the run's, and its own.
type workerArgs struct {
	stressConfig
	id, incarnation int
	deadline        int64 // unix seconds; 0: none
}

// workerReport is what a worker prints on stdout when it stops gracefully.
type workerReport struct {
	Worker       int   `json:"worker"`
	Incarnation  int   `json:"incarnation"`
	Rows         int64 `json:"rows"`   // inserts that succeeded
	Served       int64 `json:"served"` // values its cache handed out
	Reservations int64 `json:"reservations"`
	GivenBack    int64 `json:"given_back"`
	Lost         int64 `json:"lost"` // values its cache could not give back
}

// runStressWorker is one worker process of `seqtools stress`: its
// goroutines insert rows whose id is nextval of the table's sequence,
// through seqshim, until SIGTERM (or the deadline); then it closes the
// database, which gives the cache's unused values back, and reports.
// A unique violation is logged with sqlstate=23505 and fails the worker.
func runStressWorker(ctx context.Context, w workerArgs, stdout, stderr io.Writer) error {
	log := slog.New(slog.NewTextHandler(stderr, nil)).With("worker", w.id, "incarnation", w.incarnation)
	if w.PGTable == "" || w.Namespace == "" {
		return fmt.Errorf("%w: a worker needs -pg-table and -namespace", errUsage)
	}
	if w.deadline > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, time.Unix(w.deadline, 0))
		defer cancel()
	}
	d := w.dialect()
	dbURL, err := d.dsn()
	if err != nil {
		return err
	}
	params := []string{"seqshim.store=dynamodb://" + w.Table, "seqshim.namespace=" + w.Namespace}
	if w.BlockSize > 0 { // fixed blocks: no sizing by demand, no outage cover
		params = append(params, "seqshim.block_size="+strconv.FormatInt(w.BlockSize, 10),
			"seqshim.max_block_size=0", "seqshim.outage_cover=0")
	}
	db, err := sql.Open(d.shim, d.withParams(dbURL, params...))
	if err != nil {
		return fmt.Errorf("opening seqshim: %w", err)
	}
	db.SetMaxOpenConns(w.Goroutines)
	db.SetMaxIdleConns(w.Goroutines)
	cache, err := driver.CacheOf(ctx, db)
	if err != nil {
		db.Close()
		return fmt.Errorf("connecting: %w", err)
	}

	insert := d.insert(w.stressConfig)
	// Asked to stop, a goroutine finishes the insert under way, so that
	// every value handed out is in a row.
	work := context.WithoutCancel(ctx)
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	var rows atomic.Int64
	errs := make([]error, w.Goroutines)
	var wg sync.WaitGroup
	for g := range w.Goroutines {
		wg.Go(func() {
			for n := int64(1); ctx.Err() == nil; n++ {
				_, err := db.ExecContext(work, insert, w.id, w.incarnation, g, n)
				if err != nil {
					log.Error("insert failed", "unique_violation", d.unique(err), "goroutine", g, "n", n, "err", err)
					errs[g] = fmt.Errorf("goroutine %d, row %d: %w", g, n, err)
					stop()
					return
				}
				rows.Add(1)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		db.Close()
		return err
	}
	if err := db.Close(); err != nil { // gives the unused values back
		return fmt.Errorf("closing: %w", err)
	}
	st := cache.Stats()
	rep := workerReport{Worker: w.id, Incarnation: w.incarnation, Rows: rows.Load(), Served: st.Served,
		Reservations: st.Reservations, GivenBack: st.GivenBack, Lost: st.Lost}
	log.Info("stopped", "rows", rep.Rows, "served", rep.Served, "reservations", rep.Reservations,
		"given_back", rep.GivenBack, "lost", rep.Lost)
	return json.NewEncoder(stdout).Encode(rep)
}
