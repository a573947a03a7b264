package seqcache

import (
	"cmp"
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// backoffCap bounds the pause between two attempts of a background
// reservation, so that the store is probed about once a second while it
// does not answer, and a caller waits at most about that long after the
// store answers again.
const backoffCap = 250 * time.Millisecond

// runway is what sizes a sequence's reservations and carries it through a
// store outage. Guarded by seq.mu.
type runway struct {
	rate     float64 // values handed out per second, smoothed
	left     int64   // values left to the limit after the last reservation
	reserved uint64  // reservations so far: the order of held blocks
	cover    []held  // the outage cover, oldest reservation first
	covering bool    // a cover reservation is in flight

	downSince time.Time // when the first failed attempt of the current outage began
	lastErr   error     // its latest failure
}

// fetch is a background reservation, retried until the store answers.
type fetch struct {
	done   chan struct{} // closed when it ends
	failed chan struct{} // closed when its first attempt fails
	err    error         // set before done is closed
}

// sample folds n values handed out in d into the rate, taken at most
// twice a block (at its low mark and when it is used up): a higher rate
// is taken at once, so that a hot sequence reaches its size within a
// block or two, and a lower one halves the difference (an exponentially
// weighted average), so that blocks shrink over a few blocks when demand
// falls. Called with mu held.
func (s *seq) sample(n int64, d time.Duration) {
	if n <= 0 {
		return
	}
	r := float64(n) / max(d, time.Millisecond).Seconds()
	if r > s.rate {
		s.rate = r // at once: a rate too low makes callers wait, too high only holds more
	} else {
		s.rate += (r - s.rate) / 2
	}
}

// budget is what the cache may hold of the sequence: MaxHeldShare of the
// values left to its limit, or for a CYCLE sequence of its whole range.
func (s *seq) budget() int64 {
	share := s.c.cfg.MaxHeldShare
	if share >= 1 {
		return math.MaxInt64
	}
	left := s.left
	if s.spec.Cycle {
		left = s.spec.Remaining(s.spec.Restart())
	}
	return toInt(share * float64(left))
}

// blockSize is the size of the next normal reservation: what lasts
// BlockLifetime at the observed rate, within [floor, MaxBlockSize] and a
// quarter of the budget (the current block, the next and the cover share
// it), never below the sequence's own CACHE.
func (s *seq) blockSize() int64 {
	cfg := s.c.cfg
	floor := cfg.BlockSize
	if s.spec.Cache > 1 {
		floor = s.spec.Cache
	}
	size := floor
	if want := s.rate * s.lifetime().Seconds(); want > float64(floor) {
		size = toInt(min(want, float64(max(cfg.MaxBlockSize, floor))))
	}
	size = min(size, max(s.budget()/4, 1))
	return max(size, s.spec.Cache, 1)
}

// lifetime is the time a normal block should last: BlockLifetime, but
// long enough for an attempt to time out while the current block lasts
// (see lowMark), so that a store that stops answering is known, and the
// cover in use, before callers run out of values.
func (s *seq) lifetime() time.Duration {
	return max(s.c.cfg.BlockLifetime, s.c.cfg.AttemptTimeout*3/2)
}

// coverTarget is the outage cover the sequence reserves: OutageCover at
// the observed rate and a quarter more, so that small changes of rate do
// not call for a reservation each (see topUpCover), within what the budget
// leaves after two blocks.
func (s *seq) coverTarget() int64 {
	cfg := s.c.cfg
	if cfg.OutageCover < 0 || s.spec.Ordered {
		return 0
	}
	room := max(s.budget()-2*s.blockSize(), 0)
	want := s.rate * cfg.OutageCover.Seconds() * 5 / 4
	if want >= float64(room) {
		return room
	}
	return toInt(want)
}

func toInt(f float64) int64 {
	if f >= math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(f)
}

// lowMark is the index at which a block of count values starts the next
// fetch: when LowWater of it is left, or, with an outage cover, earlier
// when the rest would not outlast one timed out attempt, so that an
// unreachable store is known (and the cover in use) before the block runs
// out.
func (s *seq) lowMark(count int64) int64 {
	ahead := int64(float64(count) * s.c.cfg.LowWater)
	if s.c.cfg.OutageCover > 0 {
		lead := s.rate * (s.c.cfg.AttemptTimeout * 5 / 4).Seconds()
		if l := toInt(lead); l > ahead {
			ahead = min(l, count)
		}
	}
	return max(1, count-ahead)
}

func (s *seq) coverHeld() int64 {
	var n int64
	for _, b := range s.cover {
		n += b.Count
	}
	return n
}

// useCover makes a piece of the outage cover, one block's worth, the
// current block. It reports false when the cover is spent. Called with mu
// held, while the store is unreachable.
func (s *seq) useCover() bool {
	if len(s.cover) == 0 {
		return false
	}
	b := s.cover[0]
	n := min(s.blockSize(), b.Count)
	piece := held{Block: Block{First: b.First, Count: n, Increment: b.Increment, Epoch: b.Epoch}, n: b.n}
	if n == b.Count {
		s.cover = s.cover[1:]
	} else {
		s.cover[0].Block = b.Tail(n)
	}
	s.install(&piece, true)
	return true
}

// startFetch reserves the next block in the background. Called with mu
// held. The fetch does not use any caller's context: a caller that gives
// up must not waste the reservation for the others.
func (s *seq) startFetch() (*fetch, error) {
	c := s.c
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return nil, ErrClosed
	}
	f := &fetch{done: make(chan struct{}), failed: make(chan struct{})}
	s.fetch = f
	c.fetches.Add(1)
	go s.runFetch(f, s.gen)
	return f, nil
}

// runFetch reserves a block, one attempt of at most AttemptTimeout at a
// time, with backoff and jitter between attempts, until the store answers,
// the answer is final (42P01, 2200H), or the cache is closed.
func (s *seq) runFetch(f *fetch, gen uint64) {
	c := s.c
	defer c.fetches.Done()
	for attempt := 0; ; attempt++ {
		s.mu.Lock()
		size := s.blockSize()
		s.mu.Unlock()
		start := time.Now()
		b, err := c.attempt(s.name, size)
		s.mu.Lock()
		if err == nil {
			s.fetched(gen, b)
			s.mu.Unlock()
			close(f.done)
			return
		}
		if gen != s.gen || c.stop.Err() != nil || !transient(err) {
			switch {
			case gen != s.gen:
				err = nil // set or dropped meanwhile: whoever waits looks again
			case c.stop.Err() != nil:
				err = ErrClosed
			default:
				s.downSince, s.lastErr = time.Time{}, nil // the store answered, if not with a block
			}
			s.fetch, f.err = nil, err
			s.mu.Unlock()
			close(f.done)
			return
		}
		if s.downSince.IsZero() {
			s.downSince = start
			c.cfg.Logger.Warn("seqcache: store unreachable, serving from the outage cover",
				"sequence", s.name, "cover", s.coverHeld(), "err", err)
		}
		s.lastErr = err
		if attempt == 0 {
			close(f.failed)
		}
		s.mu.Unlock()
		select {
		case <-time.After(backoff(attempt)):
		case <-c.stop.Done():
		}
	}
}

// attempt is one store reservation bounded by AttemptTimeout.
func (c *Cache) attempt(name string, n int64) (Block, error) {
	ctx, cancel := context.WithTimeout(c.stop, c.cfg.AttemptTimeout)
	defer cancel()
	start := time.Now()
	b, err := c.store.Reserve(ctx, name, n)
	c.observe(time.Since(start), err)
	return b, err
}

// backoff is the pause after the given failed attempt: exponential from
// 25 ms up to backoffCap, with full jitter over its upper half.
func backoff(attempt int) time.Duration {
	d := min(25*time.Millisecond<<min(attempt, 8), backoffCap)
	return d/2 + rand.N(d/2+1)
}

// transient reports whether a failed reservation may succeed when
// retried: the store was unreachable, slow or throttling. Answers such as
// 42P01 and 2200H are final.
func transient(err error) bool {
	switch CodeOf(err) {
	case "", CodeConnectionFailure, CodeQueryCanceled:
		return true
	}
	return false
}

// fetched takes a reservation that succeeded: the next block, or, when the
// current block is spent or a piece of the cover, the current one. It then
// tops up the cover. Called with mu held.
func (s *seq) fetched(gen uint64, b Block) {
	c := s.c
	s.fetch = nil
	c.reservations.Add(1)
	if gen != s.gen || s.closed {
		c.lost.Add(b.Count)
		return
	}
	if !s.downSince.IsZero() {
		c.cfg.Logger.Info("seqcache: store answering again", "sequence", s.name,
			"unreachable", time.Since(s.downSince).Round(time.Millisecond))
		s.downSince, s.lastErr = time.Time{}, nil
	}
	s.reserved++
	s.left = s.spec.leftAfter(b)
	s.pending = &held{Block: b, n: s.reserved}
	if cur := s.cur.Load(); cur.cover || cur.pos.Load() >= cur.Count {
		s.install(s.pending, false) // nobody is left on the old block, or it is cover to keep
	}
	s.topUpCover()
}

// topUpCover reserves outage cover in the background when the cover held
// lasts less than OutageCover at the observed rate (4/5 of its target), a
// quarter of the target at a time. One attempt: a failure waits for the
// next successful block. Called with mu held.
func (s *seq) topUpCover() {
	c := s.c
	if s.covering || s.closed || !s.downSince.IsZero() {
		return
	}
	target, have := s.coverTarget(), s.coverHeld()
	if have >= target*4/5 || target-have < 1 {
		return
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return
	}
	s.covering = true
	gen := s.gen
	// A quarter of the target at a time, so that a rate overestimated while
	// a process ramps up does not fill the cover (and a crash's loss) at
	// once: it takes four blocks to fill, each sized by a newer rate.
	size := min(target-have, max(target/4, s.blockSize()))
	c.fetches.Add(1)
	go func() {
		defer c.fetches.Done()
		b, err := c.attempt(s.name, size)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.covering = false
		if err != nil {
			return
		}
		c.reservations.Add(1)
		if gen != s.gen || s.closed {
			c.lost.Add(b.Count)
			return
		}
		s.reserved++
		s.left = s.spec.leftAfter(b)
		s.cover = append(s.cover, held{Block: b, n: s.reserved})
	}()
}

// newestFirst orders held blocks by reservation, newest first, and within
// one reservation the later values first: the order in which give-backs
// can succeed.
func newestFirst(blocks []held, inc int64) {
	slices.SortFunc(blocks, func(a, b held) int {
		if a.n != b.n {
			return -cmp.Compare(a.n, b.n)
		}
		if inc > 0 {
			return -cmp.Compare(a.First, b.First)
		}
		return cmp.Compare(a.First, b.First)
	})
}

// left is how many values remain to the limit from next.
func (s Spec) left(next int64, exhausted bool) int64 {
	if exhausted || !s.InRange(next) {
		return 0
	}
	return s.Remaining(next)
}

// leftAfter is how many values remain to the limit after block b.
func (s Spec) leftAfter(b Block) int64 {
	_, after, exhausted := s.Reserve(b.Last(), 1)
	if exhausted {
		return 0
	}
	return s.Remaining(after)
}
