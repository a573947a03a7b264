package seqcache

import (
	"context"

	"github.com/seqshim/seqshim/internal/checked"
)

// Sequence is a sequence's definition and its position in a store.
type Sequence struct {
	Spec
	// Next is the first value not yet reserved; the next reservation starts
	// there. Meaningless when Exhausted.
	Next int64
	// Exhausted means every value up to the limit has been reserved: the
	// next reservation wraps to the other limit (Cycle) or fails with 2200H.
	Exhausted bool
	// Epoch counts the moves that can bring Next back to where it was with
	// values handed out in between: SetValue and a CYCLE wrap. A give-back
	// is taken only in the epoch its block was reserved in, so that it can
	// never return values that may have been handed out since.
	Epoch int64
}

// Store is where sequences live. Implementations must be safe for
// concurrent use by any number of goroutines and processes: a value is
// handed out in at most one Block, ever (cycling sequences excepted, which
// repeat by definition).
//
// Errors are *Error values with PostgreSQL SQLSTATEs: ErrUnknownSequence
// (42P01), ErrExists (42P07), ErrLimitReached (2200H), ErrOutOfRange (22003),
// ErrInvalidSpec (22023) and ErrUnavailable (08006), wrapping the cause.
type Store interface {
	// Create adds a sequence whose first value will be spec.Start.
	Create(ctx context.Context, spec Spec) error
	// Get returns a sequence and its position.
	Get(ctx context.Context, name string) (Sequence, error)
	// List returns every sequence, ordered by name.
	List(ctx context.Context) ([]Sequence, error)
	// Drop removes a sequence.
	Drop(ctx context.Context, name string) error
	// Reserve hands out a block of at least one and at most n values (n >= 1).
	// The block is shorter than n only when it ends on the sequence's limit;
	// the reservation after that wraps (Cycle) or fails with 2200H.
	Reserve(ctx context.Context, name string, n int64) (Block, error)
	// SetValue is setval: with called, the next reservation starts after v;
	// without, at v. v outside the bounds is 22003.
	SetValue(ctx context.Context, name string, v int64, called bool) error
	// GiveBack returns the unused tail of the most recent reservation, so that
	// a graceful shutdown leaves no gap. It succeeds only when nobody has
	// reserved or set the sequence since the block holding tail was reserved
	// (the store is still exactly past tail, in tail.Epoch); it reports
	// whether the values were taken back. A false result with a nil error is
	// normal.
	GiveBack(ctx context.Context, name string, tail Block) (bool, error)
}

// After reports whether the sequence stands exactly past tail: nobody has
// reserved or set it since the block holding tail was reserved. It is the
// condition for GiveBack.
func (s Sequence) After(tail Block) bool {
	if tail.Count <= 0 || tail.Increment != s.Increment || tail.Epoch != s.Epoch {
		return false
	}
	next, ok := checked.Add(tail.Last(), s.Increment)
	if !ok || !s.InRange(next) {
		return s.Exhausted
	}
	return !s.Exhausted && next == s.Next
}
