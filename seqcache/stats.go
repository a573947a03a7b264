package seqcache

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"time"
)

// Stats counts what a Cache has done since it was made.
type Stats struct {
	Sequences    int           // sequences the cache has seen
	Served       int64         // values handed out
	Reservations int64         // blocks reserved from the store (cover included)
	Waits        int64         // times a caller had to wait for the store
	WaitTime     time.Duration // total time callers waited for the store
	GivenBack    int64         // values returned to the store by Close
	Lost         int64         // values reserved but never handed out (setval, drop, failed give-back)
	// Reserve is the latency of store reservation attempts, failed ones
	// included.
	Reserve Histogram
	// StoreErrors counts failed store attempts by kind.
	StoreErrors StoreErrors
}

// StoreErrors counts failed store attempts by kind.
type StoreErrors struct {
	Timeout     int64 // no answer within AttemptTimeout
	Throttled   int64 // the store refused for capacity (throttling)
	Unavailable int64 // any other failure to reach the store
	Other       int64 // final answers: unknown sequence, limit reached, ...
}

// Histogram is a latency histogram with fixed bounds.
type Histogram struct {
	Bounds []time.Duration // upper bounds of the buckets, ascending
	Counts []int64         // observations per bucket; one more than Bounds (the rest)
	Sum    time.Duration
}

// Count is the number of observations.
func (h Histogram) Count() int64 {
	var n int64
	for _, c := range h.Counts {
		n += c
	}
	return n
}

// latencyBounds are the buckets of the reservation latency histogram:
// from a nearby store's milliseconds to a timed out attempt.
var latencyBounds = [...]time.Duration{
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond, 10 * time.Millisecond,
	25 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond,
	500 * time.Millisecond, time.Second, 2500 * time.Millisecond,
}

// counters are a Cache's atomic counters, written off the hot path.
type counters struct {
	reservations, waits, waitNanos, givenBack, lost, retired atomic.Int64

	latency    [len(latencyBounds) + 1]atomic.Int64
	latencySum atomic.Int64

	timeouts, throttled, unavailable, otherErrs atomic.Int64
}

// observe records one store attempt.
func (c *counters) observe(d time.Duration, err error) {
	i := 0
	for i < len(latencyBounds) && d > latencyBounds[i] {
		i++
	}
	c.latency[i].Add(1)
	c.latencySum.Add(int64(d))
	if err == nil {
		return
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		c.timeouts.Add(1)
	case throttling(err):
		c.throttled.Add(1)
	case transient(err):
		c.unavailable.Add(1)
	default:
		c.otherErrs.Add(1)
	}
}

// throttling reports whether err carries a throttling error code, as AWS
// errors do (ErrorCode() "ThrottlingException",
// "ProvisionedThroughputExceededException", "RequestLimitExceeded").
func throttling(err error) bool {
	var coded interface{ ErrorCode() string }
	if !errors.As(err, &coded) {
		return false
	}
	code := coded.ErrorCode()
	return strings.Contains(code, "Throttl") || strings.Contains(code, "ThroughputExceeded") ||
		strings.Contains(code, "LimitExceeded")
}

// Stats returns the cache's counters.
func (c *Cache) Stats() Stats {
	st := Stats{
		Reservations: c.reservations.Load(),
		Waits:        c.waits.Load(),
		WaitTime:     time.Duration(c.waitNanos.Load()),
		GivenBack:    c.givenBack.Load(),
		Lost:         c.lost.Load(),
		Served:       c.retired.Load(),
		Reserve: Histogram{
			Bounds: latencyBounds[:],
			Counts: make([]int64, len(latencyBounds)+1),
			Sum:    time.Duration(c.latencySum.Load()),
		},
		StoreErrors: StoreErrors{
			Timeout:     c.timeouts.Load(),
			Throttled:   c.throttled.Load(),
			Unavailable: c.unavailable.Load(),
			Other:       c.otherErrs.Load(),
		},
	}
	for i := range c.latency {
		st.Reserve.Counts[i] = c.latency[i].Load()
	}
	c.seqs.Range(func(_, v any) bool {
		b := v.(*seq).cur.Load()
		st.Sequences++
		if p := b.pos.Load(); p < closedPos {
			st.Served += min(p, b.Count)
		}
		return true
	})
	return st
}

// SequenceStats is the runway of one sequence: what sizes its
// reservations and what the cache holds of it.
type SequenceStats struct {
	Name      string
	Rate      float64 // values handed out per second, as estimated
	BlockSize int64   // the size of the next normal reservation
	// Held is the values held in normal blocks (the rest of the current
	// one and the one fetched ahead): what a crash loses besides the cover.
	Held int64
	// Cover is the values kept for an outage; CoverTime is how long they
	// last at Rate.
	Cover     int64
	CoverTime time.Duration
	// Unreachable is how long the store has failed to answer for this
	// sequence; zero while it answers.
	Unreachable time.Duration
}

// Sequences returns the runway of every sequence the cache holds.
func (c *Cache) Sequences() []SequenceStats {
	var out []SequenceStats
	c.seqs.Range(func(_, v any) bool {
		s := v.(*seq)
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.loaded {
			return true
		}
		cur := s.cur.Load()
		st := SequenceStats{Name: s.name, Rate: s.rate, BlockSize: s.blockSize(), Cover: s.coverHeld()}
		if p := cur.pos.Load(); p < cur.Count && !cur.cover {
			st.Held = cur.Count - p
		} else if p < cur.Count {
			st.Cover += cur.Count - p
		}
		if s.pending != nil {
			st.Held += s.pending.Count
		}
		if s.rate > 0 {
			st.CoverTime = time.Duration(float64(st.Cover) / s.rate * float64(time.Second))
		}
		if !s.downSince.IsZero() {
			st.Unreachable = time.Since(s.downSince)
		}
		out = append(out, st)
		return true
	})
	return out
}
