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
func (c *Cache) Advance(ctx context.Context, name string, v int64, used bool) (bool, error) {
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
