package dynamo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/seqshim/seqshim/seqcache"
)

// Reserve implements seqcache.Store: one conditional UpdateItem when the
// sequence is known and the block fits, else read and compare-and-set
// (see the package documentation).
func (s *Store) Reserve(ctx context.Context, name string, n int64) (seqcache.Block, error) {
	n = max(n, 1)
	if name == "" {
		return seqcache.Block{}, seqcache.UnknownSequence(name)
	}
	var current item // the item as the failed fast path saw it, if any
	if k, ok := s.lookup(name); ok {
		b, it, err := s.increment(ctx, name, k, n)
		if err == nil {
			return b, nil
		}
		if !errors.Is(err, errNoFit) {
			return seqcache.Block{}, err
		}
		current = it
	}
	return s.reserveCAS(ctx, name, n, current)
}

// errNoFit means the fast path cannot reserve the block: the sequence is
// near or at its limit, or is not the incarnation the store knew.
var errNoFit = errors.New("block does not fit")

// increment is the fast path: next += n*increment, on the condition that
// the block lies inside the limit. On errNoFit it returns the item as
// DynamoDB saw it (nil when it is gone).
func (s *Store) increment(ctx context.Context, name string, k known, n int64) (seqcache.Block, item, error) {
	delta, bound, ok := fastBounds(k.spec, n)
	if !ok {
		return seqcache.Block{}, nil, errNoFit
	}
	update := "SET #next = #next + :delta"
	cond := "#cid = :cid AND #next <= :bound"
	if !k.spec.Ascending() {
		cond = "#cid = :cid AND #next >= :bound"
	}
	// All of the old item: its epoch comes with it, unchanged by this write.
	out, err := s.update(ctx, name, update, cond, item{
		":delta": num(delta),
		":bound": num(bound),
		":cid":   str(k.cid),
	}, types.ReturnValueAllOld)
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return seqcache.Block{}, ccf.Item, errNoFit
	}
	if err != nil {
		return seqcache.Block{}, nil, s.fail(name, err)
	}
	first, ok := parseNum(rawN(out.Attributes, attrNext))
	if !ok || !k.spec.InRange(first) {
		return seqcache.Block{}, nil, internal(name, fmt.Errorf("reservation returned next %q", rawN(out.Attributes, attrNext)))
	}
	return seqcache.Block{First: first, Count: n, Increment: k.spec.Increment, Epoch: epochOf(out.Attributes)}, nil, nil
}

// fastBounds returns the increment of next for n values and the furthest
// next from which n values fit before the limit. ok is false when n values
// cannot fit in the sequence at all (or the arithmetic leaves int64).
func fastBounds(spec seqcache.Spec, n int64) (delta, bound int64, ok bool) {
	inc := spec.Increment
	if n > math.MaxInt64/absInt(inc) {
		return 0, 0, false
	}
	delta = n * inc
	span := delta - inc // (n-1)*inc, cannot overflow
	bound = spec.Limit() - span
	if (span > 0 && bound > spec.Limit()) || (span < 0 && bound < spec.Limit()) || !spec.InRange(bound) {
		return 0, 0, false
	}
	return delta, bound, true
}

func absInt(v int64) int64 {
	if v < 0 {
		if v == math.MinInt64 {
			return math.MaxInt64
		}
		return -v
	}
	return v
}

func rawN(it item, name string) string {
	if v, ok := it[name].(*types.AttributeValueMemberN); ok {
		return v.Value
	}
	return ""
}

// reserveCAS is the slow path: compute the block from the current item with
// the shared arithmetic (truncate, wrap, or 2200H) and write next with a
// compare-and-set, again until no one else moved the sequence in between.
// current, when not nil, is an item just returned by DynamoDB.
func (s *Store) reserveCAS(ctx context.Context, name string, n int64, current item) (seqcache.Block, error) {
	for {
		var (
			st  state
			err error
		)
		if current != nil {
			st, err = s.found(name, current)
		} else {
			st, err = s.read(ctx, name)
		}
		if err != nil {
			return seqcache.Block{}, err
		}
		b, next, err := plan(st, n)
		if err != nil {
			return seqcache.Block{}, err
		}
		moved, err := s.compareAndSet(ctx, name, st, next, b.Epoch)
		if err != nil {
			return seqcache.Block{}, err
		}
		if moved == nil {
			return b, nil
		}
		current = moved
		if err := ctx.Err(); err != nil {
			return seqcache.Block{}, s.fail(name, err)
		}
	}
}

// plan computes the block of up to n values a sequence in state st hands
// out, and the next value to store (beyond the limit when exhausted). A
// wrap starts a new epoch: the block says which.
func plan(st state, n int64) (seqcache.Block, string, error) {
	start, epoch := st.Next, st.Epoch
	if st.Exhausted {
		if !st.Cycle {
			return seqcache.Block{}, "", seqcache.LimitReached(st.Name, st.Limit(), st.Ascending())
		}
		start, epoch = st.Restart(), epoch+1
	}
	b, after, exhausted := st.Spec.Reserve(start, n)
	b.Epoch = epoch
	if exhausted {
		return b, sum(b.Last(), st.Increment), nil
	}
	return b, strconv.FormatInt(after, 10), nil
}

// compareAndSet writes next and epoch when the item is still exactly st.
// It returns nil when it did, else the item as it is now (empty when gone).
func (s *Store) compareAndSet(ctx context.Context, name string, st state, next string, epoch int64) (item, error) {
	update := "SET #next = :next, #epoch = :newepoch"
	inEpoch, e := epochCond(st.Epoch)
	cond := "#cid = :cid AND #next = :old AND " + inEpoch
	_, err := s.update(ctx, name, update, cond, item{
		":next":     numStr(next),
		":old":      numStr(st.rawNext),
		":cid":      str(st.cid),
		":epoch":    e,
		":newepoch": num(epoch),
	}, types.ReturnValueNone)
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		if len(ccf.Item) == 0 {
			e := seqcache.UnknownSequence(name)
			e.Err = err
			return nil, e
		}
		return ccf.Item, nil
	}
	return nil, s.fail(name, err)
}

// GiveBack implements seqcache.Store. The write is conditional on next
// being exactly past tail (or, for a tail ending on the limit, on the
// sequence being exhausted), on the same incarnation; it is retried only
// when throttled, so it is never applied twice.
func (s *Store) GiveBack(ctx context.Context, name string, tail seqcache.Block) (bool, error) {
	if tail.Count <= 0 {
		return false, nil
	}
	k, ok := s.lookup(name)
	if !ok {
		st, err := s.read(ctx, name)
		if err != nil {
			return false, err
		}
		k = known{spec: st.Spec, cid: st.cid}
	}
	spec := k.spec
	if tail.Increment != spec.Increment || !spec.InRange(tail.First) || !spec.InRange(tail.Last()) {
		return false, nil
	}
	update := "SET #next = :first"
	inEpoch, e := epochCond(tail.Epoch)
	values := item{":first": num(tail.First), ":cid": str(k.cid), ":epoch": e}
	// Exactly past tail, or, when tail ends on the limit, exhausted; in the
	// epoch of tail's block.
	cond := "#cid = :cid AND #next = :end"
	values[":end"] = numStr(sum(tail.Last(), spec.Increment))
	if endsOnLimit(spec, tail) {
		cond = "#cid = :cid AND #next > :limit"
		if !spec.Ascending() {
			cond = "#cid = :cid AND #next < :limit"
		}
		delete(values, ":end")
		values[":limit"] = num(spec.Limit())
	}
	cond += " AND " + inEpoch
	_, err := s.update(ctx, name, update, cond, values, types.ReturnValueNone, s.writeOnce)
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		if _, ok, _ := s.decode(ccf.Item); !ok {
			s.specs.Delete(name)
			e := seqcache.UnknownSequence(name)
			e.Err = err
			return false, e
		}
		return false, nil // someone reserved or set the sequence since
	}
	if err != nil {
		return false, s.fail(name, err)
	}
	return true, nil
}

// endsOnLimit reports whether no value of the sequence follows tail.
func endsOnLimit(spec seqcache.Spec, tail seqcache.Block) bool {
	_, _, exhausted := spec.Reserve(tail.Last(), 1)
	return exhausted
}

// update sends one conditional UpdateItem to the item of name. When the
// condition fails, DynamoDB returns the item as it is in the error.
func (s *Store) update(ctx context.Context, name, update, cond string, values item, ret types.ReturnValue,
	optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           &s.table,
		Key:                                 s.keyAttr(name),
		UpdateExpression:                    &update,
		ConditionExpression:                 &cond,
		ExpressionAttributeNames:            names(update, cond),
		ExpressionAttributeValues:           values,
		ReturnValues:                        ret,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}, optFns...)
}
