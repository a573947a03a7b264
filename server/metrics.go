package server

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

// metrics are a server's Prometheus metrics, in a registry of its own.
type metrics struct {
	reg       *prometheus.Registry
	calls     *prometheus.CounterVec
	seconds   *prometheus.HistogramVec
	refused   *prometheus.CounterVec
	values    prometheus.Counter
	blocks    prometheus.Counter
	journals  prometheus.Counter
	pooled    prometheus.Counter
	dropped   prometheus.Counter
	bypassed  prometheus.Counter
	recovered prometheus.Counter
}

func newMetrics(s *Server) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seqshim_server_calls_total", Help: "Calls answered, by method and gRPC code.",
		}, []string{"method", "code"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "seqshim_server_call_seconds", Help: "Time to answer a call, by method.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .1, .5, 1},
		}, []string{"method"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seqshim_server_refused_total", Help: "Calls refused for a missing or invalid token or a namespace outside the token's.",
		}, []string{"reason"}),
		values: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "seqshim_server_values_total", Help: "Values handed out to clients.",
		}),
		blocks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "seqshim_server_blocks_total", Help: "Blocks handed out to clients.",
		}),
		journals: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "seqshim_server_journal_commits_total", Help: "Journal records committed.",
		}),
		pooled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "seqshim_server_pooled_values_total", Help: "Values set aside for lower clients to get past a client's last block (after a client moved between servers).",
		}),
		bypassed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "seqshim_server_bypassed_total", Help: "Client blocks reserved from the store directly because the server's cache was behind the client's last block.",
		}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "seqshim_server_pool_dropped_values_total", Help: "Values set aside and then dropped (pool full, setval, drop): a gap.",
		}),
		recovered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "seqshim_server_journal_recovered_values_total", Help: "Values of a previous run's journaled blocks served after a restart.",
		}),
	}
	stat := func(name, help string, f func() int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(f()) })
	}
	m.reg.MustRegister(m.calls, m.seconds, m.refused, m.values, m.blocks, m.journals, m.pooled, m.dropped, m.bypassed, m.recovered,
		stat("seqshim_server_store_reservations_total", "Blocks the server's caches reserved from the store (DynamoDB).",
			func() int64 { return s.storeStats().Reservations }),
		stat("seqshim_server_store_waits_total", "Calls that waited for the store because a cached block ran out.",
			func() int64 { return s.storeStats().Waits }),
		stat("seqshim_server_lost_values_total", "Values the server's caches reserved and dropped (setval, drop, failed give-back).",
			func() int64 { return s.storeStats().Lost }),
		stat("seqshim_server_given_back_values_total", "Values given back to the store at shutdown.",
			func() int64 { return s.storeStats().GivenBack }),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

func (m *metrics) handedOut(n int64) {
	m.blocks.Inc()
	m.values.Add(float64(n))
}

// observe counts every call and its duration.
func (s *Server) observe(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	start := time.Now()
	resp, err := handler(ctx, req)
	s.metrics.seconds.WithLabelValues(info.FullMethod).Observe(time.Since(start).Seconds())
	s.metrics.calls.WithLabelValues(info.FullMethod, status.Code(err).String()).Inc()
	return resp, err
}
