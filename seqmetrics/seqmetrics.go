// Package seqmetrics exposes a seqcache.Cache to Prometheus.
//
// A service registers the cache of its database handle in one line:
//
//	prometheus.MustRegister(seqmetrics.ForDB(db))
//
// or any cache with prometheus.MustRegister(seqmetrics.New(cache, seqmetrics.Options{})).
//
// Counters and the reservation histogram are for the whole cache, without
// labels. The per-sequence gauges (rate, block size, outage cover) carry a
// "sequence" label for the Options.TopSequences sequences with the highest
// rate only (default 20); the others are summed up under the label value
// "_other" (largest block, shortest cover), so that a process with
// thousands of sequences exports a bounded number of series.
package seqmetrics

import (
	"cmp"
	"context"
	"database/sql"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/seqshim/seqshim/driver"
	"github.com/seqshim/seqshim/seqcache"
)

// Other is the sequence label of the sequences beyond Options.TopSequences.
const Other = "_other"

// Options tune a Collector.
type Options struct {
	// TopSequences is how many sequences get a label of their own in the
	// per-sequence gauges. Default 20.
	TopSequences int
	// ConstLabels are added to every metric, e.g. the database name when a
	// process has several.
	ConstLabels prometheus.Labels
}

// Collector is a prometheus.Collector reading a seqcache.Cache at each
// scrape.
type Collector struct {
	cache func() *seqcache.Cache // nil result: not available yet
	top   int

	served, reservations, waits, waitSeconds, lost, givenBack *prometheus.Desc
	reserve, storeErrors, unreachable                         *prometheus.Desc
	rate, blockSize, coverSeconds, coverValues                *prometheus.Desc
}

var _ prometheus.Collector = (*Collector)(nil)

// New returns a Collector for cache.
func New(cache *seqcache.Cache, opts Options) *Collector {
	return newCollector(func() *seqcache.Cache { return cache }, opts)
}

// ForDB returns a Collector for the cache that answers db's sequence calls
// (db opened with a seqshim driver). The cache is looked up at the first
// scrape, on one of db's connections, and kept; until it is found, the
// collector reports nothing.
func ForDB(db *sql.DB) *Collector {
	var (
		mu    sync.Mutex
		found *seqcache.Cache
	)
	return newCollector(func() *seqcache.Cache {
		mu.Lock()
		defer mu.Unlock()
		if found == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			found, _ = driver.CacheOf(ctx, db) // retried at the next scrape
		}
		return found
	}, Options{})
}

func newCollector(cache func() *seqcache.Cache, opts Options) *Collector {
	if opts.TopSequences <= 0 {
		opts.TopSequences = 20
	}
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("seqshim_"+name, help, labels, opts.ConstLabels)
	}
	return &Collector{
		cache:        cache,
		top:          opts.TopSequences,
		served:       desc("values_served_total", "Sequence values handed out."),
		reservations: desc("reservations_total", "Blocks reserved from the store, outage cover included."),
		waits:        desc("waits_total", "Times a caller waited for the store."),
		waitSeconds:  desc("wait_seconds_total", "Time callers spent waiting for the store."),
		lost:         desc("values_lost_total", "Values reserved and never handed out (setval, drop, values not given back at close)."),
		givenBack:    desc("values_given_back_total", "Values returned to the store at close."),
		reserve:      desc("reservation_duration_seconds", "Latency of store reservation attempts, failed ones included."),
		storeErrors:  desc("store_errors_total", "Failed store attempts by kind: timeout, throttled, unavailable, other.", "kind"),
		unreachable:  desc("store_unreachable_seconds", "How long the store has not answered (longest over sequences); 0 while it answers."),
		rate:         desc("sequence_rate", "Values handed out per second, as estimated by the cache.", "sequence"),
		blockSize:    desc("block_size", "Size of the next normal reservation.", "sequence"),
		coverSeconds: desc("outage_cover_seconds", "How long the outage cover lasts at the sequence's rate.", "sequence"),
		coverValues:  desc("outage_cover_values", "Values held for a store outage.", "sequence"),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.served, c.reservations, c.waits, c.waitSeconds, c.lost, c.givenBack,
		c.reserve, c.storeErrors, c.unreachable, c.rate, c.blockSize, c.coverSeconds, c.coverValues} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	cache := c.cache()
	if cache == nil {
		return
	}
	st := cache.Stats()
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	counter(c.served, float64(st.Served))
	counter(c.reservations, float64(st.Reservations))
	counter(c.waits, float64(st.Waits))
	counter(c.waitSeconds, st.WaitTime.Seconds())
	counter(c.lost, float64(st.Lost))
	counter(c.givenBack, float64(st.GivenBack))
	counter(c.storeErrors, float64(st.StoreErrors.Timeout), "timeout")
	counter(c.storeErrors, float64(st.StoreErrors.Throttled), "throttled")
	counter(c.storeErrors, float64(st.StoreErrors.Unavailable), "unavailable")
	counter(c.storeErrors, float64(st.StoreErrors.Other), "other")
	ch <- histogram(c.reserve, st.Reserve)
	c.collectSequences(ch, cache.Sequences())
}

// histogram converts a seqcache.Histogram into a constant one.
func histogram(d *prometheus.Desc, h seqcache.Histogram) prometheus.Metric {
	buckets := make(map[float64]uint64, len(h.Bounds))
	var cum uint64
	for i, b := range h.Bounds {
		cum += uint64(h.Counts[i])
		buckets[b.Seconds()] = cum
	}
	return prometheus.MustNewConstHistogram(d, uint64(h.Count()), h.Sum.Seconds(), buckets)
}

// collectSequences reports the gauges of the top sequences by rate and
// sums up the rest under Other.
func (c *Collector) collectSequences(ch chan<- prometheus.Metric, seqs []seqcache.SequenceStats) {
	slices.SortFunc(seqs, func(a, b seqcache.SequenceStats) int {
		return cmp.Or(cmp.Compare(b.Rate, a.Rate), cmp.Compare(a.Name, b.Name))
	})
	var unreachable time.Duration
	for _, s := range seqs {
		unreachable = max(unreachable, s.Unreachable)
	}
	ch <- prometheus.MustNewConstMetric(c.unreachable, prometheus.GaugeValue, unreachable.Seconds())
	if len(seqs) > c.top {
		rest := seqs[c.top:]
		other := seqcache.SequenceStats{Name: Other, CoverTime: rest[0].CoverTime}
		for _, s := range rest {
			other.Rate += s.Rate
			other.BlockSize = max(other.BlockSize, s.BlockSize)
			other.Cover += s.Cover
			other.CoverTime = min(other.CoverTime, s.CoverTime)
		}
		seqs = append(seqs[:c.top:c.top], other)
	}
	for _, s := range seqs {
		gauge := func(d *prometheus.Desc, v float64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, s.Name)
		}
		gauge(c.rate, s.Rate)
		gauge(c.blockSize, float64(s.BlockSize))
		gauge(c.coverSeconds, s.CoverTime.Seconds())
		gauge(c.coverValues, float64(s.Cover))
	}
}
