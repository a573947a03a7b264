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

// Config tunes a Cache. The zero value is usable.
type Config struct {
	// BlockSize is how many values one reservation asks for when the
	// sequence's own CACHE is 1 (PostgreSQL's default). Default 1000.
	BlockSize int64
	// MaxBlockSize lets a sequence's block size double, up to this value,
	// when a block lasted less than GrowWithin or a caller had to wait for
	// the store because a block ran out before its successor arrived: hot
	// sequences then reach the store about once per GrowWithin, at the
	// cost of larger gaps when a process dies (about two GrowWithin's worth
	// of values). Zero or less than the block size disables growth.
	MaxBlockSize int64
	// GrowWithin is the block lifetime under which a block grows (see
	// MaxBlockSize). Default 1s.
	GrowWithin time.Duration
	// LowWater is the fraction of a block still unused when the next block
	// is fetched in the background. Default 0.5.
	LowWater float64
	// FetchTimeout bounds one background reservation. Default 10s.
	FetchTimeout time.Duration
	// Logger receives background fetch failures. Default slog.Default().
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.BlockSize < 1 {
		c.BlockSize = 1000
	}
	if c.LowWater <= 0 || c.LowWater >= 1 {
		c.LowWater = 0.5
	}
	if c.FetchTimeout <= 0 {
		c.FetchTimeout = 10 * time.Second
	}
	if c.GrowWithin <= 0 {
		c.GrowWithin = time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Stats counts what a Cache has done since it was made.
type Stats struct {
	Sequences    int   // sequences the cache has seen
	Served       int64 // values handed out
	Reservations int64 // blocks reserved from the store
	Waits        int64 // times a caller had to wait for the store
	GivenBack    int64 // values returned to the store by Close
	Lost         int64 // values reserved but never handed out (setval, drop, failed give-back)
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
// answered from memory while the current block lasts; when a block is
// partly used, the next one is reserved in the background (one fetch in
// flight per sequence), so callers wait only when a block runs out before
// its successor arrives, bounded by their context.
//
// Values are unique (the store never hands out a value twice) and strictly
// increasing within the process (decreasing for descending sequences),
// except across a CYCLE wrap or a SetValue. They are not ordered across
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

	reservations, waits, givenBack, lost, retired atomic.Int64
}

var _ Store = (*Cache)(nil)

// NewCache returns a Cache in front of store.
func NewCache(store Store, cfg Config) *Cache {
	return &Cache{store: store, cfg: cfg.withDefaults()}
}

// seq is one sequence's cache: the block being handed out (cur, read
// without locks) and, under mu, the block fetched in advance.
type seq struct {
	c    *Cache
	name string
	cur  atomic.Pointer[buffer]

	mu      sync.Mutex
	loaded  bool
	spec    Spec
	size    int64   // values per reservation
	grown   *buffer // the last block whose running out grew size
	pending *Block
	fetch   *fetch // in flight, or nil
	gen     uint64 // bumped by SetValue and Drop: older fetches are discarded
	closed  bool
}

// buffer is a block being handed out. pos counts values taken, and may run
// past Count: whoever takes index low starts the next fetch.
type buffer struct {
	Block
	low   int64
	since time.Time // when it became current
	_     [64]byte  // keeps pos off the cache line the readers share
	pos   atomic.Int64
}

type fetch struct {
	done chan struct{}
	err  error
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
				s.prefetch()
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
				s.prefetch()
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

// advance runs when old is used up. It installs the prefetched block, or
// waits for the fetch in flight, or starts one. For an Ordered sequence it
// reserves one value from the store and returns it with ok set.
func (s *seq) advance(ctx context.Context, old *buffer) (one Block, ok bool, err error) {
	s.mu.Lock()
	if err := s.load(ctx); err != nil {
		s.mu.Unlock()
		return Block{}, false, err
	}
	if s.spec.Ordered {
		s.mu.Unlock()
		b, err := s.c.store.Reserve(ctx, s.name, 1)
		if err != nil {
			return Block{}, false, err
		}
		s.c.reservations.Add(1)
		s.c.retired.Add(1)
		return b, true, nil
	}
	if s.cur.Load() != old { // another caller advanced already
		s.mu.Unlock()
		return Block{}, false, nil
	}
	if s.pending != nil {
		s.install()
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
	if old.Count > 0 && s.grown != old && s.size < s.c.cfg.MaxBlockSize {
		s.grown = old // once per block that ran out, however many wait
		s.size = min(2*s.size, s.c.cfg.MaxBlockSize)
	}
	s.mu.Unlock()
	s.c.waits.Add(1)
	select {
	case <-f.done:
		return Block{}, false, f.err
	case <-ctx.Done():
		return Block{}, false, ctxError(s.name, ctx.Err())
	}
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
	s.size = s.c.cfg.BlockSize
	if sq.Cache > 1 {
		s.size = sq.Cache
	}
	return nil
}

// install makes the pending block current. Called with mu held.
func (s *seq) install() {
	b := s.pending
	s.pending = nil
	old := s.cur.Load()
	s.c.retired.Add(min(old.pos.Load(), old.Count))
	now := time.Now()
	if old.Count > 0 && now.Sub(old.since) < s.c.cfg.GrowWithin && s.size < s.c.cfg.MaxBlockSize {
		s.size = min(2*s.size, s.c.cfg.MaxBlockSize) // a hot sequence: fewer, larger blocks
	}
	nb := &buffer{Block: *b, since: now}
	nb.low = max(1, b.Count-int64(float64(b.Count)*s.c.cfg.LowWater))
	s.cur.Store(nb)
}

// prefetch starts the next fetch unless one is pending or in flight.
func (s *seq) prefetch() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loaded && s.pending == nil && s.fetch == nil && !s.closed {
		_, _ = s.startFetch() // a failure is reported to whoever waits next
	}
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
	f := &fetch{done: make(chan struct{})}
	s.fetch = f
	gen, size := s.gen, s.size
	c.fetches.Add(1)
	go func() {
		defer c.fetches.Done()
		ctx, cancel := context.WithTimeout(context.Background(), c.cfg.FetchTimeout)
		b, err := c.store.Reserve(ctx, s.name, size)
		cancel()
		s.mu.Lock()
		s.fetch = nil
		switch {
		case err != nil:
			f.err = err
			c.cfg.Logger.Debug("seqcache: reserve failed", "sequence", s.name, "err", err)
		case gen != s.gen:
			c.reservations.Add(1)
			c.lost.Add(b.Count)
		default:
			c.reservations.Add(1)
			s.pending = &b
			if s.cur.Load().pos.Load() >= s.cur.Load().Count {
				s.install() // nobody is left on the old block: no need to wait for one
			}
		}
		s.mu.Unlock()
		close(f.done)
	}()
	return f, nil
}

// discard drops every value this cache holds for the sequence, so that the
// next value comes from the store. Called with mu held.
func (s *seq) discard() {
	s.gen++
	if s.pending != nil {
		s.c.lost.Add(s.pending.Count)
		s.pending = nil
	}
	old := s.cur.Swap(new(buffer))
	taken := min(old.pos.Swap(closedPos), old.Count)
	s.c.retired.Add(taken)
	s.c.lost.Add(old.Count - taken)
}

func ctxError(name string, err error) error {
	if errors.Is(err, context.Canceled) {
		return &Error{Code: CodeQueryCanceled, Sequence: name,
			Message: "canceling statement due to user request", Err: err}
	}
	return Unavailable(name, err)
}

// Stats returns the cache's counters.
func (c *Cache) Stats() Stats {
	st := Stats{
		Reservations: c.reservations.Load(),
		Waits:        c.waits.Load(),
		GivenBack:    c.givenBack.Load(),
		Lost:         c.lost.Load(),
		Served:       c.retired.Load(),
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
	c.fetches.Wait()
	var errs []error
	c.seqs.Range(func(_, v any) bool {
		errs = append(errs, v.(*seq).drain(ctx))
		return true
	})
	return errors.Join(errs...)
}

// drain hands the sequence's unused values back to the store, newest first:
// the pending block, then the tail of the current one.
func (s *seq) drain(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	old := s.cur.Swap(new(buffer))
	taken := min(old.pos.Swap(closedPos), old.Count)
	s.c.retired.Add(taken)
	tail := old.Tail(taken)
	var blocks []Block
	if s.pending != nil {
		blocks = append(blocks, *s.pending)
		s.pending = nil
	}
	if tail.Count > 0 {
		blocks = append(blocks, tail)
	}
	for i, b := range blocks {
		ok, err := s.c.store.GiveBack(ctx, s.name, b)
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
