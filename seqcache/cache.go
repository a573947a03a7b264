package seqcache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Config tunes a Cache. The zero value is usable: every field left zero
// takes the default given in its comment.
type Config struct {
	// BlockSize is the smallest reservation of a sequence whose own CACHE
	// is 1 (PostgreSQL's default), and the size of its first one.
	// Default 1000.
	BlockSize int64
	// MaxBlockSize bounds a normal reservation. Default 10,000,000; a
	// value not above BlockSize keeps blocks at BlockSize (no sizing by
	// demand).
	MaxBlockSize int64
	// BlockLifetime is how long a normal block should last at the
	// sequence's observed rate: reservations are rate × BlockLifetime
	// values, BlockLifetime being at least 1.5 × AttemptTimeout. It bounds
	// disorder across processes (see the package documentation).
	// Default 2s.
	BlockLifetime time.Duration
	// OutageCover is how long the cache keeps serving every sequence at its
	// observed rate while the store cannot be reached: values for that time
	// are reserved in the background and kept apart, used only while the
	// store is unreachable. Default 60s; negative disables the cover.
	OutageCover time.Duration
	// MaxHeldShare caps what the cache holds of a sequence without CYCLE
	// (blocks and cover: what a crash can lose) at this share of the values
	// left to its limit, so that crashes cannot use up a small sequence.
	// A sequence's own CACHE is always allowed. Default 0.01; 1 or more
	// disables the cap.
	MaxHeldShare float64
	// AttemptTimeout bounds one store request of a background reservation:
	// a store that has not answered by then counts as unreachable and the
	// request is retried, with backoff and jitter, until it answers.
	// Default 1s.
	AttemptTimeout time.Duration
	// FetchTimeout bounds how long a caller waits for the store when the
	// cache has no value left for it and its context has no earlier
	// deadline. Default 10s.
	FetchTimeout time.Duration
	// LowWater is the least fraction of a block still unused when the next
	// block is fetched in the background (it is fetched earlier when the
	// rest would not outlast AttemptTimeout). Default 0.5.
	LowWater float64
	// Logger receives background fetch failures. Default slog.Default().
	Logger *slog.Logger
}

// Defaults of Config.
const (
	DefaultBlockSize      = 1000
	DefaultMaxBlockSize   = 10_000_000
	DefaultBlockLifetime  = 2 * time.Second
	DefaultOutageCover    = time.Minute
	DefaultMaxHeldShare   = 0.01
	DefaultAttemptTimeout = time.Second
	DefaultFetchTimeout   = 10 * time.Second
)

func (c Config) withDefaults() Config {
	if c.BlockSize < 1 {
		c.BlockSize = DefaultBlockSize
	}
	if c.MaxBlockSize == 0 {
		c.MaxBlockSize = DefaultMaxBlockSize
	}
	c.MaxBlockSize = max(c.MaxBlockSize, c.BlockSize)
	if c.BlockLifetime <= 0 {
		c.BlockLifetime = DefaultBlockLifetime
	}
	if c.OutageCover == 0 {
		c.OutageCover = DefaultOutageCover
	}
	if c.MaxHeldShare <= 0 {
		c.MaxHeldShare = DefaultMaxHeldShare
	}
	if c.AttemptTimeout <= 0 {
		c.AttemptTimeout = DefaultAttemptTimeout
	}
	if c.LowWater <= 0 || c.LowWater >= 1 {
		c.LowWater = 0.5
	}
	if c.FetchTimeout <= 0 {
		c.FetchTimeout = DefaultFetchTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// ErrClosed is returned by a Cache after Close.
var ErrClosed = &Error{Code: "08003", Message: "sequence cache is closed"}

// errStale tells a caller holding a seq that was dropped from the map (its
// sequence was unknown) to look the name up again, so that a process never
// holds two caches of one sequence.
var errStale = errors.New("seqcache: stale sequence entry")

// closedPos is stored as a buffer's position to make every later take fail
// without overflowing.
const closedPos = math.MaxInt64 / 2

// MaxNextN bounds one NextN call.
const MaxNextN = 1 << 20

// Cache hands out sequence values from blocks reserved in a Store. Next is
// answered from memory while the current block lasts; the next block is
// reserved in the background before it runs out (one fetch in flight per
// sequence), sized by the sequence's rate, so callers wait only when a
// block runs out before its successor arrives and the store is answering.
// While the store is unreachable, values come from the outage cover.
//
// Values are unique (the store never hands out a value twice) and strictly
// increasing within the process (decreasing for descending sequences),
// except across a CYCLE wrap, a SetValue, and the switch to the outage
// cover, whose values were reserved earlier. They are not ordered across
// processes, unless the sequence is Ordered.
//
// A Cache is a Store, so caches can be layered.
type Cache struct {
	store Store
	cfg   Config
	seqs  sync.Map // string -> *seq

	mu      sync.RWMutex // guards closed against new background fetches
	closed  bool
	fetches sync.WaitGroup
	stop    context.Context // canceled by Close: ends background retries
	cancel  context.CancelFunc

	counters
}

var _ Store = (*Cache)(nil)

// NewCache returns a Cache in front of store.
func NewCache(store Store, cfg Config) *Cache {
	stop, cancel := context.WithCancel(context.Background())
	return &Cache{store: store, cfg: cfg.withDefaults(), stop: stop, cancel: cancel}
}

// seq is one sequence's cache: the block being handed out (cur, read
// without locks) and, under mu, the block fetched in advance, the outage
// cover and what sizes them.
type seq struct {
	c    *Cache
	name string
	cur  atomic.Pointer[buffer]

	mu      sync.Mutex
	loaded  bool
	spec    Spec
	pending *held
	fetch   *fetch // in flight, or nil
	gen     uint64 // bumped by SetValue and Drop: older fetches are discarded
	closed  bool
	runway
}

// held is a block the cache holds and n, the order of its reservation, so
// that Close can give blocks back newest first.
type held struct {
	Block
	n uint64
}

// buffer is a block being handed out. pos counts values taken, and may run
// past Count: whoever takes index low starts the next fetch.
type buffer struct {
	held
	low   int64
	cover bool      // a piece of the outage cover
	since time.Time // when it became current
	_     [64]byte  // keeps pos off the cache line the readers share
	pos   atomic.Int64
}

func (c *Cache) seq(name string) *seq {
	if v, ok := c.seqs.Load(name); ok {
		return v.(*seq)
	}
	s := &seq{c: c, name: name}
	s.cur.Store(new(buffer))
	v, _ := c.seqs.LoadOrStore(name, s)
	return v.(*seq)
}

// Next returns the next value of the sequence.
func (c *Cache) Next(ctx context.Context, name string) (int64, error) {
	s := c.seq(name)
	for {
		b := s.cur.Load()
		if i := b.pos.Add(1); i <= b.Count {
			if i == b.low {
				s.prefetch(b)
			}
			return b.Value(i - 1), nil
		}
		one, ok, err := s.advance(ctx, b)
		if err == errStale {
			s = c.seq(name)
			continue
		}
		if err != nil || ok {
			return one.First, err
		}
	}
}

// NextN returns the next n values of the sequence, in order. They are
// contiguous only when they come from one block.
func (c *Cache) NextN(ctx context.Context, name string, n int) ([]int64, error) {
	if n < 1 || n > MaxNextN {
		return nil, &Error{Code: CodeInvalidParameter, Sequence: name,
			Message: fmt.Sprintf("NextN: n must be between 1 and %d, got %d", MaxNextN, n)}
	}
	out := make([]int64, 0, n)
	for len(out) < n {
		b, err := c.take(ctx, name, int64(n-len(out)))
		if err != nil {
			return out[:0], err
		}
		for i := range b.Count {
			out = append(out, b.Value(i))
		}
	}
	return out, nil
}

// take hands out up to n contiguous values.
func (c *Cache) take(ctx context.Context, name string, n int64) (Block, error) {
	s := c.seq(name)
	for {
		b := s.cur.Load()
		i := b.pos.Add(n)
		if from := i - n; from < b.Count {
			if from < b.low && b.low <= i {
				s.prefetch(b)
			}
			return Block{First: b.Value(from), Count: min(i, b.Count) - from, Increment: b.Increment, Epoch: b.Epoch}, nil
		}
		one, ok, err := s.advance(ctx, b)
		if err == errStale {
			s = c.seq(name)
			continue
		}
		if err != nil || ok {
			return one, err
		}
	}
}

// advance runs when old is used up. It installs the prefetched block, or a
// piece of the outage cover while the store is unreachable, or waits for
// the fetch in flight, or starts one. For an Ordered sequence it reserves
// one value from the store and returns it with ok set.
func (s *seq) advance(ctx context.Context, old *buffer) (one Block, ok bool, err error) {
	s.mu.Lock()
	if err := s.load(ctx); err != nil {
		s.mu.Unlock()
		return Block{}, false, err
	}
	if s.spec.Ordered {
		s.mu.Unlock()
		return s.reserveOrdered(ctx)
	}
	if s.cur.Load() != old { // another caller advanced already
		s.mu.Unlock()
		return Block{}, false, nil
	}
	if s.pending != nil {
		s.install(s.pending, false)
		s.mu.Unlock()
		return Block{}, false, nil
	}
	if !s.downSince.IsZero() && s.useCover() {
		s.mu.Unlock()
		return Block{}, false, nil
	}
	f := s.fetch
	if f == nil {
		if f, err = s.startFetch(); err != nil {
			s.mu.Unlock()
			return Block{}, false, err
		}
	}
	failed := f.failed
	if !s.downSince.IsZero() {
		failed = nil // already known: nothing new to wake up for
	}
	s.mu.Unlock()
	err = s.wait(ctx, f, failed)
	if errors.Is(err, ErrLimitReached) {
		// The store is past the limit, but the cover may still hold the
		// last values: hand them out first, as a PostgreSQL session hands
		// out its cached values.
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.cur.Load() != old || s.useCover() {
			return Block{}, false, nil
		}
	}
	return Block{}, false, err
}

// reserveOrdered sends one nextval of an Ordered sequence to the store.
func (s *seq) reserveOrdered(ctx context.Context) (Block, bool, error) {
	start := time.Now()
	b, err := s.c.store.Reserve(ctx, s.name, 1)
	s.c.observe(time.Since(start), err)
	if err != nil {
		return Block{}, false, err
	}
	s.c.reservations.Add(1)
	s.c.retired.Add(1)
	return b, true, nil
}

// wait waits for the fetch f: until it is done, or (failed) its first
// attempt fails, so that the caller can turn to the outage cover, or the
// caller's context or FetchTimeout ends. nil means "look again".
func (s *seq) wait(ctx context.Context, f *fetch, failed <-chan struct{}) error {
	s.c.waits.Add(1)
	start := time.Now()
	defer func() { s.c.waitNanos.Add(int64(time.Since(start))) }()
	timer := time.NewTimer(s.c.cfg.FetchTimeout)
	defer timer.Stop()
	select {
	case <-f.done:
		return f.err
	case <-failed:
		return nil
	case <-ctx.Done():
		return s.unavailable(ctx.Err())
	case <-timer.C:
		return s.unavailable(context.DeadlineExceeded)
	}
}

// unavailable is the error of a caller that gave up waiting for the store:
// 57014 when canceled, else 08006 saying how long the store has been
// unreachable.
func (s *seq) unavailable(err error) error {
	if errors.Is(err, context.Canceled) {
		return &Error{Code: CodeQueryCanceled, Sequence: s.name,
			Message: "canceling statement due to user request", Err: err}
	}
	e := Unavailable(s.name, err)
	s.mu.Lock()
	since, last := s.downSince, s.lastErr
	s.mu.Unlock()
	if !since.IsZero() {
		var se *Error
		if errors.As(last, &se) && se.Err != nil {
			last = se.Err // the store's own words, without our wrapping
		}
		e.Detail = fmt.Sprintf("the store has been unreachable for %s and the outage cover is spent (last error: %v)",
			time.Since(since).Round(time.Millisecond), last)
	} else {
		e.Detail = "no answer from the store yet"
	}
	return e
}

// load reads the sequence's definition once. Called with mu held.
func (s *seq) load(ctx context.Context) error {
	if s.closed {
		return ErrClosed
	}
	if s.loaded {
		return nil
	}
	if v, ok := s.c.seqs.Load(s.name); !ok || v != s {
		return errStale // dropped as unknown meanwhile: one seq per name
	}
	sq, err := s.c.store.Get(ctx, s.name)
	if err != nil {
		if errors.Is(err, ErrUnknownSequence) {
			s.c.seqs.CompareAndDelete(s.name, s) // unknown names must not pile up
		}
		return err
	}
	s.spec, s.loaded = sq.Spec, true
	s.left = s.spec.left(sq.Next, sq.Exhausted)
	return nil
}

// install makes b current, retiring the current block; with cover, b is a
// piece of the outage cover. Called with mu held.
func (s *seq) install(b *held, cover bool) {
	if b == s.pending {
		s.pending = nil
	}
	now := time.Now()
	old := s.cur.Swap(&buffer{held: *b, cover: cover, since: now, low: s.lowMark(b.Count)})
	taken := min(old.pos.Swap(closedPos), old.Count)
	s.c.retired.Add(taken)
	if taken == old.Count && old.Count > 0 {
		s.sample(old.Count, now.Sub(old.since))
	}
	if rest := old.Tail(taken); rest.Count > 0 {
		// Only a piece of the cover is retired unused (a normal block came
		// back): its values go back to the cover, in front.
		s.cover = append([]held{{Block: rest, n: old.n}}, s.cover...)
	}
}

// prefetch starts the next fetch unless one is pending or in flight, and
// samples the sequence's rate on b, the block whose low mark was reached.
func (s *seq) prefetch(b *buffer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur.Load() == b && b.low*4 >= b.Count { // a quarter of a block or more: a fair sample
		s.sample(b.low, time.Since(b.since))
	}
	if s.loaded && s.pending == nil && s.fetch == nil && !s.closed {
		_, _ = s.startFetch() // a failure is reported to whoever waits next
	}
}

// discard drops every value this cache holds for the sequence, so that the
// next value comes from the store. Called with mu held.
func (s *seq) discard() {
	s.gen++
	if s.pending != nil {
		s.c.lost.Add(s.pending.Count)
		s.pending = nil
	}
	for _, b := range s.cover {
		s.c.lost.Add(b.Count)
	}
	s.cover = nil
	old := s.cur.Swap(new(buffer))
	taken := min(old.pos.Swap(closedPos), old.Count)
	s.c.retired.Add(taken)
	s.c.lost.Add(old.Count - taken)
}

// Close stops background fetches and returns every unused value to the
// store where nobody has reserved since (see Store.GiveBack), so that a
// graceful restart leaves no gap. Values it cannot return are lost.
func (c *Cache) Close(ctx context.Context) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	c.fetches.Wait()
	var errs []error
	c.seqs.Range(func(_, v any) bool {
		errs = append(errs, v.(*seq).drain(ctx))
		return true
	})
	return errors.Join(errs...)
}

// drain hands the sequence's unused values back to the store, newest
// reservation first (the pending block, the current one, the cover), and
// stops at the first the store refuses: the ones before it cannot be
// adjacent to the store's position either.
func (s *seq) drain(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	old := s.cur.Swap(new(buffer))
	taken := min(old.pos.Swap(closedPos), old.Count)
	s.c.retired.Add(taken)
	blocks := append([]held(nil), s.cover...)
	if tail := old.Tail(taken); tail.Count > 0 {
		blocks = append(blocks, held{Block: tail, n: old.n})
	}
	if s.pending != nil {
		blocks = append(blocks, *s.pending)
	}
	s.pending, s.cover = nil, nil
	newestFirst(blocks, s.spec.Increment)
	for i, b := range blocks {
		ok, err := s.giveBack(ctx, b.Block)
		if err != nil || !ok {
			for _, rest := range blocks[i:] {
				s.c.lost.Add(rest.Count)
			}
			return err
		}
		s.c.givenBack.Add(b.Count)
	}
	return nil
}

// giveBack is one give-back, bounded like every store attempt: a store
// that does not answer must not hold up Close.
func (s *seq) giveBack(ctx context.Context, b Block) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.c.cfg.AttemptTimeout)
	defer cancel()
	return s.c.store.GiveBack(ctx, s.name, b)
}

// Create implements Store by passing through.
func (c *Cache) Create(ctx context.Context, spec Spec) error { return c.store.Create(ctx, spec) }

// Get implements Store by passing through: the store's position is past
// whatever this cache holds.
func (c *Cache) Get(ctx context.Context, name string) (Sequence, error) {
	return c.store.Get(ctx, name)
}

// List implements Store by passing through.
func (c *Cache) List(ctx context.Context) ([]Sequence, error) { return c.store.List(ctx) }

// Drop implements Store: it drops the sequence in the store and forgets
// what this cache holds of it.
func (c *Cache) Drop(ctx context.Context, name string) error {
	if err := c.store.Drop(ctx, name); err != nil {
		return err
	}
	c.forget(name)
	return nil
}

// SetValue implements Store: setval in the store, then the cached values
// of this process are discarded so that its next value follows v, as in
// the PostgreSQL session that calls setval.
func (c *Cache) SetValue(ctx context.Context, name string, v int64, called bool) error {
	if err := c.store.SetValue(ctx, name, v, called); err != nil {
		return err
	}
	c.forget(name)
	return nil
}

func (c *Cache) forget(name string) {
	v, ok := c.seqs.Load(name)
	if !ok {
		return
	}
	s := v.(*seq)
	s.mu.Lock()
	s.discard()
	s.loaded = false // the definition may have changed too
	s.mu.Unlock()
}

// Reserve implements Store: it hands out up to n contiguous values from
// this cache, so that a Cache can serve another Cache.
func (c *Cache) Reserve(ctx context.Context, name string, n int64) (Block, error) {
	return c.take(ctx, name, max(1, min(n, MaxNextN)))
}

// GiveBack implements Store. Values handed out by a Cache are not taken
// back: the cache's own store is already past them. It reports false.
func (c *Cache) GiveBack(ctx context.Context, name string, tail Block) (bool, error) {
	return false, nil
}
