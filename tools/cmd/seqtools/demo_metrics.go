package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// scrape gathers reg once, as Prometheus would, and returns the metric
// families by name.
func scrape(reg prometheus.Gatherer) (map[string]*dto.MetricFamily, error) {
	mfs, err := reg.Gather()
	if err != nil {
		return nil, fmt.Errorf("gathering the metrics: %w", err)
	}
	out := make(map[string]*dto.MetricFamily, len(mfs))
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out, nil
}

// printMetrics writes what one scrape of seqmetrics' collector holds:
// the cache's counters, the reservation latency from the histogram's
// buckets, and the block size and outage cover of each sequence.
func printMetrics(w io.Writer, mfs map[string]*dto.MetricFamily) {
	value := func(name string) float64 {
		mf := mfs[name]
		if mf == nil || len(mf.GetMetric()) == 0 {
			return math.NaN()
		}
		var sum float64 // store errors: one series per kind
		for _, m := range mf.GetMetric() {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
		return sum
	}
	line := func(name, v, note string) {
		if note != "" {
			note = "  (" + note + ")"
		}
		fmt.Fprintf(w, "  %-38s %s%s\n", name, v, note)
	}
	num := func(name string) string { return strconv.FormatFloat(value(name), 'f', -1, 64) }

	line("seqshim_values_served_total", num("seqshim_values_served_total"), "")
	line("seqshim_reservations_total", num("seqshim_reservations_total"), "blocks and outage cover")
	line("seqshim_reservation_duration_seconds", reservationLatency(mfs["seqshim_reservation_duration_seconds"]), "")
	line("seqshim_waits_total", num("seqshim_waits_total"),
		fmt.Sprintf("%v waited in all", roundSig(seconds(value("seqshim_wait_seconds_total")))))
	line("seqshim_values_lost_total", num("seqshim_values_lost_total"), "")
	line("seqshim_values_given_back_total", num("seqshim_values_given_back_total"), "Close gives back")
	line("seqshim_store_errors_total", num("seqshim_store_errors_total"), "all kinds")

	type seqRow struct{ block, cover float64 }
	rows := make(map[string]*seqRow)
	for name, set := range map[string]func(*seqRow, float64){
		"seqshim_block_size":           func(r *seqRow, v float64) { r.block = v },
		"seqshim_outage_cover_seconds": func(r *seqRow, v float64) { r.cover = v },
	} {
		for _, m := range mfs[name].GetMetric() {
			seq := labelValue(m, "sequence")
			if rows[seq] == nil {
				rows[seq] = &seqRow{}
			}
			set(rows[seq], m.GetGauge().GetValue())
		}
	}
	names := make([]string, 0, len(rows))
	for n := range rows {
		names = append(names, n)
	}
	slices.Sort(names)
	width := 0
	for _, n := range names {
		width = max(width, len(n))
	}
	fmt.Fprintln(w, "  seqshim_block_size and seqshim_outage_cover_seconds by sequence:")
	for _, n := range names {
		fmt.Fprintf(w, "    %-*s  block %s, outage cover %.1f s\n", width, n, strconv.FormatFloat(rows[n].block, 'f', -1, 64), rows[n].cover)
	}
}

// reservationLatency describes a latency histogram: its count, mean and
// the bucket bounds of p50 and p99.
func reservationLatency(mf *dto.MetricFamily) string {
	if mf == nil || len(mf.GetMetric()) != 1 {
		return "absent"
	}
	h := mf.GetMetric()[0].GetHistogram()
	n := h.GetSampleCount()
	if n == 0 {
		return "no reservation yet"
	}
	mean := seconds(h.GetSampleSum() / float64(n))
	return fmt.Sprintf("%d attempts, mean %v, p50 %s, p99 %s", n, roundSig(mean),
		bucketQuantile(h, 0.50), bucketQuantile(h, 0.99))
}

// bucketQuantile is what a histogram's buckets say of quantile q: at most
// the upper bound of the first bucket holding it, or more than the last
// bound.
func bucketQuantile(h *dto.Histogram, q float64) string {
	rank := uint64(math.Ceil(q * float64(h.GetSampleCount())))
	bs := h.GetBucket()
	for _, b := range bs {
		if b.GetCumulativeCount() >= rank {
			return "≤ " + seconds(b.GetUpperBound()).String()
		}
	}
	if len(bs) == 0 {
		return "?"
	}
	return "> " + seconds(bs[len(bs)-1].GetUpperBound()).String()
}

func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
