package server_test

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seqshim/seqshim/driver"
	"github.com/seqshim/seqshim/dynamo"
	"github.com/seqshim/seqshim/internal/testenv"
	"github.com/seqshim/seqshim/seqcache"
	"github.com/seqshim/seqshim/server"
	"github.com/seqshim/seqshim/server/remote"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// steadyFor is how long BenchmarkDynamoRequests/steady draws: a short run
// counts mostly the first blocks and the first fill of the outage covers.
var steadyFor = flag.Duration("steady", 6*time.Second, "how long BenchmarkDynamoRequests/steady draws, at 10,000 values a second per process")

// benchServer runs a server with the default server cache over the
// stores open returns, on a loopback port.
func benchServer(b *testing.B, open server.Backend, journal string) string {
	b.Helper()
	cfg := server.DefaultCacheConfig()
	cfg.Logger = quiet
	s, err := server.New(open, server.Options{Cache: &cfg, Journal: journal, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go s.Serve(lis)
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Stop(ctx)
	})
	return lis.Addr().String()
}

func memBackend() server.Backend {
	st := seqcache.NewMemoryStore()
	return func(context.Context, string) (seqcache.Store, error) { return st, nil }
}

func benchClient(b *testing.B, url string) *remote.Store {
	b.Helper()
	c, err := remote.Dial(url, remote.Options{Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}

func mustDefine(b *testing.B, s seqcache.Store, name string) {
	b.Helper()
	spec, _ := seqcache.Define(name)
	if err := s.Create(context.Background(), spec); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkRefill is a client cache's refill through a server on loopback:
// one Reserve of 100 values, answered from the server's cache.
func BenchmarkRefill(b *testing.B) {
	c := benchClient(b, "seqshim://"+benchServer(b, memBackend(), ""))
	mustDefine(b, c, "public.s")
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	for b.Loop() {
		start := time.Now()
		if _, err := c.Reserve(ctx, "public.s", 100); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	reportLatency(b, lat)
}

func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkBlocksPerSecond is how many client blocks one server hands out
// a second to 8 clients calling in parallel, without and with a journal.
func BenchmarkBlocksPerSecond(b *testing.B) {
	for _, journal := range []bool{false, true} {
		b.Run(map[bool]string{false: "memory", true: "journal"}[journal], func(b *testing.B) {
			path := ""
			if journal {
				path = filepath.Join(b.TempDir(), "journal.db")
			}
			url := "seqshim://" + benchServer(b, memBackend(), path)
			var clients []*remote.Store
			for range 8 {
				clients = append(clients, benchClient(b, url))
			}
			mustDefine(b, clients[0], "public.s")
			var next atomic.Int64
			b.SetParallelism(4)
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				c := clients[next.Add(1)%8]
				for pb.Next() {
					if _, err := c.Reserve(context.Background(), "public.s", 100); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "blocks/s")
		})
	}
}

// counting counts the calls that reach a store: one DynamoDB request each.
type counting struct {
	seqcache.Store
	n *atomic.Int64
}

func (c counting) Reserve(ctx context.Context, name string, n int64) (seqcache.Block, error) {
	c.n.Add(1)
	return c.Store.Reserve(ctx, name, n)
}

func (c counting) Get(ctx context.Context, name string) (seqcache.Sequence, error) {
	c.n.Add(1)
	return c.Store.Get(ctx, name)
}

// BenchmarkDynamoRequests has 8 caches (one per client process) draw
// values directly on DynamoDB and then through 2 servers, and reports the
// DynamoDB requests per million values of each: "fixed" with blocks of
// 1000 drawn as fast as they go (one million values), "steady" with the
// driver's defaults (blocks sized by demand, an outage cover of 60 s
// direct and driver.ServerTierCover behind servers) at 10,000 values a
// second per process for -steady (6 s). Run with -benchtime=1x.
func BenchmarkDynamoRequests(b *testing.B) {
	cfg := testenv.AWSConfig(b)
	for _, tc := range []struct {
		name           string
		direct, served seqcache.Config
		per            int           // values per process
		pace           time.Duration // between batches of 100, or 0
	}{
		{"fixed", seqcache.Config{BlockSize: 1000, MaxBlockSize: 1000, OutageCover: -1},
			seqcache.Config{BlockSize: 1000, MaxBlockSize: 1000, OutageCover: -1}, 125_000, 0},
		{"steady", seqcache.Config{}, seqcache.Config{OutageCover: driver.ServerTierCover}, int(steadyFor.Seconds() * 10_000), 10 * time.Millisecond},
	} {
		b.Run(tc.name, func(b *testing.B) {
			ns := testenv.UniqueName("bench")
			var direct, served atomic.Int64
			open := func(n *atomic.Int64) server.Backend {
				return func(context.Context, string) (seqcache.Store, error) {
					st, err := dynamo.New(cfg, dynamo.Options{Table: "seqshim_integration", Namespace: ns})
					return counting{st, n}, err
				}
			}
			st, _ := open(&direct)(context.Background(), ns)
			if err := st.(counting).Store.(*dynamo.Store).EnsureTable(context.Background()); err != nil {
				b.Fatal(err)
			}
			for _, name := range []string{"public.direct", "public.served"} {
				mustDefine(b, st, name)
				b.Cleanup(func() { st.Drop(context.Background(), name) })
			}
			url := "seqshim://" + benchServer(b, open(&served), "") + "," + benchServer(b, open(&served), "")
			tc.direct.Logger, tc.served.Logger = quiet, quiet
			const procs = 8
			for b.Loop() {
				direct.Store(0)
				served.Store(0)
				draw(b, procs, tc.per, tc.pace, tc.direct, "public.direct", func() seqcache.Store { s, _ := open(&direct)(context.Background(), ns); return s })
				draw(b, procs, tc.per, tc.pace, tc.served, "public.served", func() seqcache.Store { return benchClient(b, url) })
			}
			million := float64(procs*tc.per) / 1e6
			b.ReportMetric(float64(direct.Load())/million, "direct-req/M")
			b.ReportMetric(float64(served.Load())/million, "served-req/M")
			b.ReportMetric(float64(direct.Load())/float64(max(1, served.Load())), "x-fewer")
		})
	}
}

// draw takes per values from each of procs caches, each on its own store,
// in batches of 100 paced by pace.
func draw(b *testing.B, procs, per int, pace time.Duration, cfg seqcache.Config, name string, store func() seqcache.Store) {
	var wg sync.WaitGroup
	for range procs {
		cache := seqcache.NewCache(store(), cfg)
		wg.Go(func() {
			defer cache.Close(context.Background())
			for i := range per {
				if pace > 0 && i%100 == 0 {
					time.Sleep(pace)
				}
				if _, err := cache.Next(context.Background(), name); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
