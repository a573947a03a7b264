package seqcache

import (
	"context"

	"github.com/seqshim/seqshim/internal/checked"
)

// Advance is MariaDB's SETVAL(s, v, used): it moves the sequence forward
// so that its next value is v (used false) or the step after v (used
// true), and never moves it back: when the store is already there or
// past, it does nothing and reports false, as MariaDB ignores such a
// SETVAL and returns NULL. A target past the limit exhausts the sequence.
//
// The store is only ever moved by Reserve, which never hands a value out
// twice, so Advance cannot bring back values some process may hold: the
// values between the store's position and the target are reserved and
// dropped. A reservation by another process between the read and the
// move only widens that gap. With |increment| > 1 the next value is the
// first of the sequence's steps at or past the target. This process's
// cached values of the sequence are discarded, so that its next value
// follows v, as in the MariaDB session that calls SETVAL.
//
// The store's position runs ahead of what this process hands out by the
// blocks and the outage cover it holds, so a target inside this process's
// current block is decided against the block, as MariaDB decides against
// its own cached values: the block skips ahead to the target, or the
// target is behind. A target past the current block but not past the
// store is accepted too: the cached values are dropped, and the next value
// is the store's, past the target (values held elsewhere in between may
// not be handed out twice).
func (c *Cache) Advance(ctx context.Context, name string, v int64, used bool) (bool, error) {
	if moved, decided := c.skipTo(name, v, used); decided {
		return moved, nil
	}
	// This cache's reservation in flight would land between the read and
	// the move and widen the gap: let it finish first.
	if err := c.settle(ctx, name); err != nil {
		return false, err
	}
	seq, err := c.store.Get(ctx, name)
	if err != nil {
		return false, err
	}
	count, ahead := seq.stepsTo(v, used)
	if !ahead {
		if c.beyondBlock(name, seq.Spec, v, used) {
			c.forget(name)
			return true, nil
		}
		return false, nil
	}
	if count > 0 {
		if _, err := c.store.Reserve(ctx, name, count); err != nil {
			return false, err
		}
	}
	c.forget(name)
	return true, nil
}

// settle waits for this cache's reservation of the sequence in flight, if
// any.
func (c *Cache) settle(ctx context.Context, name string) error {
	v, ok := c.seqs.Load(name)
	if !ok {
		return nil
	}
	s := v.(*seq)
	s.mu.Lock()
	f := s.fetch
	s.mu.Unlock()
	if f == nil {
		return nil
	}
	select {
	case <-f.done:
		return nil
	case <-ctx.Done():
		return s.unavailable(ctx.Err())
	}
}

// stepsTo returns how many values to reserve from the store's position so
// that the next one is at or past target (v, or v plus one step when
// used), and whether the target is ahead of the position at all.
func (s Sequence) stepsTo(v int64, used bool) (int64, bool) {
	target, ok := v, true
	if used {
		target, ok = checked.Add(v, s.Increment)
	}
	past := !ok || !s.InRange(target) && (s.Ascending() == (target > s.MaxValue))
	if s.Exhausted {
		return 0, past // nothing left to skip
	}
	if past {
		return s.Remaining(s.Next), true
	}
	if !s.InRange(target) { // behind the other limit
		return 0, false
	}
	var dist uint64
	if s.Ascending() {
		if target < s.Next {
			return 0, false
		}
		dist = uint64(target) - uint64(s.Next)
	} else {
		if target > s.Next {
			return 0, false
		}
		dist = uint64(s.Next) - uint64(target)
	}
	step := checked.Abs(s.Increment)
	n := (dist + step - 1) / step
	return int64(n), true
}

// target is the value that is to come next after SETVAL(v, used): v, or
// the step after it. ok is false when that step is past int64.
func target(v, increment int64, used bool) (int64, bool) {
	if !used {
		return v, true
	}
	return checked.Add(v, increment)
}

// skipTo decides a SETVAL whose target lies in this process's current
// block: the block's position moves forward to it (moved), or the target
// is at or behind what the block has handed out (not moved). decided is
// false when the target is not in the current block.
func (c *Cache) skipTo(name string, v int64, used bool) (moved, decided bool) {
	x, ok := c.seqs.Load(name)
	if !ok {
		return false, false
	}
	s := x.(*seq)
	b := s.cur.Load()
	if b.Count <= 0 {
		return false, false
	}
	t, ok := target(v, b.Increment, used)
	if !ok || !between(b.First, t, b.Last(), b.Increment > 0) {
		return false, false
	}
	step := checked.Abs(b.Increment)
	dist := uint64(t) - uint64(b.First) // t is ahead of First: exact modulo 2^64
	if b.Increment < 0 {
		dist = uint64(b.First) - uint64(t)
	}
	idx := int64((dist + step - 1) / step)
	if idx >= b.Count { // off the grid, past the last value
		return false, false
	}
	for {
		taken := b.pos.Load()
		if taken > b.Count {
			return false, false // spent: the store decides
		}
		if idx < taken {
			return false, true // handed out already: behind
		}
		if b.pos.CompareAndSwap(taken, idx) {
			// Next starts the next fetch when it takes index low; a skip
			// over it must start the fetch itself.
			if taken < b.low && idx >= b.low {
				s.prefetch(b)
			}
			return true, true
		}
	}
}

// beyondBlock reports whether SETVAL's target lies past this process's
// current block, so that the values it holds are behind the target.
func (c *Cache) beyondBlock(name string, sp Spec, v int64, used bool) bool {
	x, ok := c.seqs.Load(name)
	if !ok {
		return false
	}
	b := x.(*seq).cur.Load()
	if b.Count <= 0 {
		return false
	}
	t, ok := target(v, sp.Increment, used)
	if !ok || !sp.InRange(t) {
		return false
	}
	if sp.Increment > 0 {
		return t > b.Last()
	}
	return t < b.Last()
}

// between reports whether v lies from a to z, in the sequence's direction.
func between(a, v, z int64, ascending bool) bool {
	if ascending {
		return a <= v && v <= z
	}
	return z <= v && v <= a
}
