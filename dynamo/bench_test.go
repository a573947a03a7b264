package dynamo_test

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// The reservation benchmarks measure one Reserve (a single UpdateItem on
// the fast path) against whatever endpoint AWS_ENDPOINT_URL_DYNAMODB names:
// with `make test`'s services that is the local emulator, so the figures
// are emulator figures, not DynamoDB's. They report p50 and p99 latency.

// BenchmarkReserve is one caller reserving blocks of 1000 in a loop.
func BenchmarkReserve(b *testing.B) {
	s := newStore(b)
	mustDefine(b, s, "public.bench")
	mustReserve(b, s, "public.bench", 1000) // the definition is known
	lat := make([]time.Duration, 0, 1024)
	ctx := b.Context()
	for b.Loop() {
		start := time.Now()
		if _, err := s.Reserve(ctx, "public.bench", 1000); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	reportLatency(b, lat)
}

// BenchmarkReserveParallel is GOMAXPROCS callers (times -cpu) on one
// sequence of one store.
func BenchmarkReserveParallel(b *testing.B) {
	s := newStore(b)
	mustDefine(b, s, "public.bench")
	mustReserve(b, s, "public.bench", 1000)
	var (
		mu  sync.Mutex
		lat []time.Duration
	)
	ctx := b.Context()
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			start := time.Now()
			if _, err := s.Reserve(ctx, "public.bench", 1000); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(start))
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	reportLatency(b, lat)
}

func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	q := func(p float64) float64 {
		return float64(lat[int(p*float64(len(lat)-1))].Microseconds())
	}
	b.ReportMetric(q(0.50), "p50-us")
	b.ReportMetric(q(0.99), "p99-us")
}
