package dynamo_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/bits"
	"sync"
	"testing"
	"time"

	"github.com/seqshim/seqshim/seqcache"
)

// The Cache.Next benchmarks serve a sequence from a seqcache.Cache over
// the DynamoDB store (the emulator under `make test`) with 1, 8 and 64
// callers: with the default configuration (blocks sized by demand, outage
// cover), with fixed blocks of 10,000,000 (the store out of the way), and
// with defaults over a store that adds 100 ms to every request. Each
// reports ns/op over all callers, Next's latency quantiles (p50, p99.9,
// p99.99), the share of Next calls that reached DynamoDB and the waits for
// the store. The cache is warmed up first (ramp-up is not measured):
//
//	go test -run '^$' -bench CacheNext -benchtime 3s ./dynamo

func BenchmarkCacheNext(b *testing.B) {
	for _, cfg := range []struct {
		name  string
		cache seqcache.Config
		delay time.Duration
	}{
		{"defaults", seqcache.Config{}, 0},
		{"block10M", seqcache.Config{BlockSize: 10_000_000, MaxBlockSize: 10_000_000, OutageCover: -1}, 0},
		{"defaults-store+100ms", seqcache.Config{}, 100 * time.Millisecond},
	} {
		for _, callers := range []int{1, 8, 64} {
			b.Run(fmt.Sprintf("%s/callers=%d", cfg.name, callers), func(b *testing.B) {
				benchCacheNext(b, cfg.cache, cfg.delay, callers)
			})
		}
	}
}

// delayStore adds a delay to every reservation, like a distant store.
type delayStore struct {
	seqcache.Store
	delay time.Duration
}

func (s delayStore) Reserve(ctx context.Context, name string, n int64) (seqcache.Block, error) {
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
		return seqcache.Block{}, ctx.Err()
	}
	return s.Store.Reserve(ctx, name, n)
}

func benchCacheNext(b *testing.B, cfg seqcache.Config, delay time.Duration, callers int) {
	var store seqcache.Store = newStore(b)
	mustDefine(b, store, "public.bench")
	if delay > 0 {
		store = delayStore{Store: store, delay: delay}
	}
	cfg.Logger = slog.New(slog.DiscardHandler)
	c := seqcache.NewCache(store, cfg)
	b.Cleanup(func() { c.Close(context.Background()) })
	ctx := context.Background()
	// Warm up: the first blocks and the rate, for half a second.
	run(callers, 0, func(int) bool {
		_, err := c.Next(ctx, "public.bench")
		return err == nil
	}, time.Now().Add(500*time.Millisecond))
	before := c.Stats()
	hists := make([]latencies, callers)
	b.ResetTimer()
	start := time.Now()
	run(callers, b.N, func(g int) bool {
		t0 := time.Now()
		_, err := c.Next(ctx, "public.bench")
		hists[g].record(time.Since(t0))
		if err != nil {
			b.Error(err)
		}
		return err == nil
	}, time.Time{})
	elapsed := time.Since(start)
	b.StopTimer()
	after := c.Stats()
	var all latencies
	for i := range hists {
		all.merge(&hists[i])
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds()/1e6, "Mops/s")
	b.ReportMetric(all.quantile(0.5), "p50-ns")
	b.ReportMetric(all.quantile(0.999), "p99.9-ns")
	b.ReportMetric(all.quantile(0.9999), "p99.99-ns")
	if served := after.Served - before.Served; served > 0 {
		b.ReportMetric(100*float64(after.Reservations-before.Reservations)/float64(served), "dynamo-%")
	}
	b.ReportMetric(float64(after.Waits-before.Waits), "waits")
}

// run has callers goroutines call op, n times in all (until deadline when
// n is 0).
func run(callers, n int, op func(g int) bool, deadline time.Time) {
	var wg sync.WaitGroup
	for g := range callers {
		share := n / callers
		if g < n%callers {
			share++
		}
		wg.Go(func() {
			for i := 0; n == 0 || i < share; i++ {
				if n == 0 && i%1024 == 0 && time.Now().After(deadline) {
					return
				}
				if !op(g) {
					return
				}
			}
		})
	}
	wg.Wait()
}

// latencies is a log-linear histogram of durations in nanoseconds: 16
// sub-buckets per power of two, so quantiles are within about 6%.
type latencies struct {
	counts [64 * 16]int64
	n      int64
	_      [64]byte // callers record into neighbouring histograms
}

func bucket(ns int64) int {
	if ns < 16 {
		return int(max(ns, 0))
	}
	e := bits.Len64(uint64(ns)) - 5 // ns >> e is in [16, 32)
	return (e+1)*16 + int(ns>>e) - 16
}

func bucketValue(i int) float64 {
	if i < 16 {
		return float64(i)
	}
	e := i/16 - 1
	return float64(int64(i%16+16) << e)
}

func (l *latencies) record(d time.Duration) {
	l.counts[bucket(int64(d))]++
	l.n++
}

func (l *latencies) merge(o *latencies) {
	for i, c := range o.counts {
		l.counts[i] += c
	}
	l.n += o.n
}

func (l *latencies) quantile(q float64) float64 {
	want := int64(q * float64(l.n))
	var seen int64
	for i, c := range l.counts {
		seen += c
		if seen > want {
			return bucketValue(i)
		}
	}
	return 0
}
