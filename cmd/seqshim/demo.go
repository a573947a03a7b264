package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/seqshim/seqshim/seqcache"
)

// runDemo creates a few sequences in a memory store with a simulated
// network delay and shows the cache handing out values from several
// goroutines, with its statistics.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", stderr)
	workers := fs.Int("workers", 8, "concurrent callers")
	per := fs.Int("values", 250_000, "values each caller draws from each sequence")
	delay := fs.Duration("store-latency", 5*time.Millisecond, "simulated latency of one store reservation")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *workers < 1 || *per < 1 {
		return fmt.Errorf("%w: -workers and -values must be positive", errUsage)
	}

	store := &delayed{Store: seqcache.NewMemoryStore(), delay: *delay}
	specs := []struct {
		name string
		opts []seqcache.Option
	}{
		{"public.orders_id_seq", nil},
		{"public.order_lines_id_seq", []seqcache.Option{seqcache.CacheSize(5000)}},
		{"public.refunds_id_seq", []seqcache.Option{seqcache.Increment(-1)}},
	}
	for _, s := range specs {
		spec, err := seqcache.Define(s.name, s.opts...)
		if err != nil {
			return err
		}
		if err := store.Create(ctx, spec); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created %-28s start %d increment %d cache %d\n", spec.Name, spec.Start, spec.Increment, spec.Cache)
	}

	cache := seqcache.NewCache(store, seqcache.Config{MaxBlockSize: 64_000})
	fmt.Fprintf(stdout, "\n%d goroutines draw %d values from each sequence (store latency %v)...\n", *workers, *per, *delay)
	start := time.Now()
	vals := make([][]int64, *workers)
	errs := make([]error, *workers)
	var wg sync.WaitGroup
	for w := range *workers {
		wg.Go(func() {
			for i := range *per * len(specs) {
				v, err := cache.Next(ctx, specs[i%len(specs)].name)
				if err != nil {
					errs[w] = err
					return
				}
				vals[w] = append(vals[w], v*int64(len(specs))+int64(i%len(specs)))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	all := slices.Concat(vals...)
	slices.Sort(all)
	unique := len(slices.Compact(all)) == len(all)

	st := cache.Stats()
	fmt.Fprintf(stdout, "served %d values in %v: %.0f ns a value\n", st.Served, elapsed.Round(time.Millisecond), float64(elapsed.Nanoseconds())/float64(st.Served))
	fmt.Fprintf(stdout, "store reservations: %d (%.4f%% of calls), waits for the store: %d\n", st.Reservations, 100*float64(st.Reservations)/float64(st.Served), st.Waits)
	fmt.Fprintf(stdout, "every value unique: %v\n", unique)
	if err := cache.Close(ctx); err != nil {
		return err
	}
	st = cache.Stats()
	fmt.Fprintf(stdout, "closed: %d unused values given back to the store, %d lost\n", st.GivenBack, st.Lost)
	for _, s := range specs {
		sq, err := store.Get(ctx, s.name)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "  %-28s next %d\n", sq.Name, sq.Next)
	}
	if !unique {
		return fmt.Errorf("duplicate values handed out")
	}
	return nil
}

// delayed adds latency to reservations, as a network store would.
type delayed struct {
	seqcache.Store
	delay time.Duration
}

func (d *delayed) Reserve(ctx context.Context, name string, n int64) (seqcache.Block, error) {
	t := time.NewTimer(d.delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return seqcache.Block{}, ctx.Err()
	}
	return d.Store.Reserve(ctx, name, n)
}
