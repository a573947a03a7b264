package dynamo

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
	"regexp"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/seqshim/seqshim/seqcache"
)

// Attribute names of an item. Expressions refer to them only through
// ExpressionAttributeNames ("#" + the name): "name", "next", "cycle",
// "cache" and others are DynamoDB reserved words.
const (
	attrKey       = "name"
	attrNamespace = "ns"
	attrSeq       = "seq"
	attrStart     = "start"
	attrIncrement = "increment"
	attrMin       = "minvalue"
	attrMax       = "maxvalue"
	attrCycle     = "cycle"
	attrCache     = "cache"
	attrOrdered   = "ordered"
	attrNext      = "next"
	attrCID       = "cid"
	attrEpoch     = "epoch"
)

type item = map[string]types.AttributeValue

// state is a sequence as read from an item, with what the store needs to
// write it back conditionally.
type state struct {
	seqcache.Sequence
	cid     string // the incarnation written by Create
	rawNext string // next exactly as stored
}

func num(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func numStr(s string) types.AttributeValue { return &types.AttributeValueMemberN{Value: s} }

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

// sum returns a+b exactly, in decimal: beyond int64 when a block ends on
// math.MaxInt64 or math.MinInt64 (an exhausted sequence's next).
func sum(a, b int64) string {
	return new(big.Int).Add(big.NewInt(a), big.NewInt(b)).String()
}

// parseNum reads a DynamoDB number. ok is false when it is not an integer
// in the int64 range, which for next means "outside every limit".
func parseNum(s string) (v int64, ok bool) {
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v, true
	}
	r, isNum := new(big.Rat).SetString(s)
	if !isNum || !r.IsInt() || !r.Num().IsInt64() {
		return 0, false
	}
	return r.Num().Int64(), true
}

func newCID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// encode makes the item of a new sequence.
func (s *Store) encode(spec seqcache.Spec, cid string) item {
	it := item{
		attrKey:       str(s.key(spec.Name)),
		attrSeq:       str(spec.Name),
		attrStart:     num(spec.Start),
		attrIncrement: num(spec.Increment),
		attrMin:       num(spec.MinValue),
		attrMax:       num(spec.MaxValue),
		attrCycle:     &types.AttributeValueMemberBOOL{Value: spec.Cycle},
		attrCache:     num(spec.Cache),
		attrOrdered:   &types.AttributeValueMemberBOOL{Value: spec.Ordered},
		attrNext:      num(spec.Start),
		attrCID:       str(cid),
		attrEpoch:     num(0),
	}
	if s.ns != "" {
		it[attrNamespace] = str(s.ns)
	}
	return it
}

// decode reads an item of this store's namespace. ok is false for an
// absent item or one of another namespace.
func (s *Store) decode(it item) (st state, ok bool, err error) {
	if len(it) == 0 || getS(it, attrNamespace) != s.ns {
		return state{}, false, nil
	}
	d := decoder{it: it}
	spec := seqcache.Spec{
		Name:      d.str(attrSeq),
		Start:     d.int(attrStart),
		Increment: d.int(attrIncrement),
		MinValue:  d.int(attrMin),
		MaxValue:  d.int(attrMax),
		Cycle:     d.bool(attrCycle),
		Cache:     d.int(attrCache),
		Ordered:   d.bool(attrOrdered),
	}
	st = state{cid: d.str(attrCID), rawNext: d.rawNum(attrNext)}
	st.Epoch = epochOf(it)
	if d.err != nil {
		return state{}, false, fmt.Errorf("dynamo: malformed item %q: %w", getS(it, attrKey), d.err)
	}
	if err := spec.Validate(); err != nil {
		return state{}, false, fmt.Errorf("dynamo: malformed item %q: %w", getS(it, attrKey), err)
	}
	st.Spec = spec
	if next, ok := parseNum(st.rawNext); ok && spec.InRange(next) {
		st.Next = next
	} else {
		st.Exhausted = true
	}
	return st, true, nil
}

func getS(it item, name string) string {
	if v, ok := it[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// decoder reads typed attributes and keeps the first error.
type decoder struct {
	it  item
	err error
}

func (d *decoder) fail(name, want string) {
	if d.err == nil {
		d.err = fmt.Errorf("attribute %q is missing or not %s", name, want)
	}
}

func (d *decoder) str(name string) string {
	v, ok := d.it[name].(*types.AttributeValueMemberS)
	if !ok {
		d.fail(name, "a string")
		return ""
	}
	return v.Value
}

func (d *decoder) rawNum(name string) string {
	v, ok := d.it[name].(*types.AttributeValueMemberN)
	if !ok {
		d.fail(name, "a number")
		return ""
	}
	return v.Value
}

func (d *decoder) int(name string) int64 {
	s := d.rawNum(name)
	if d.err != nil {
		return 0
	}
	v, ok := parseNum(s)
	if !ok {
		d.fail(name, "an int64")
	}
	return v
}

func (d *decoder) bool(name string) bool {
	v, ok := d.it[name].(*types.AttributeValueMemberBOOL)
	if !ok {
		d.fail(name, "a boolean")
		return false
	}
	return v.Value
}

var placeholder = regexp.MustCompile(`#[A-Za-z]+`)

// names returns the ExpressionAttributeNames of the given expressions:
// "#x" stands for the attribute "x". DynamoDB refuses unused names, so the
// map holds exactly the placeholders that appear.
func names(exprs ...string) map[string]string {
	m := make(map[string]string)
	for _, e := range exprs {
		for _, p := range placeholder.FindAllString(e, -1) {
			m[p] = p[1:]
		}
	}
	return m
}

// epochOf reads an item's epoch; an item written before epochs has 0.
func epochOf(it item) int64 {
	v, _ := parseNum(rawN(it, attrEpoch))
	return v
}

// epochCond is the condition that an item is still in epoch e, with its
// value: items written before epochs have none and are in epoch 0.
func epochCond(e int64) (string, types.AttributeValue) {
	if e == 0 {
		return "(attribute_not_exists(#epoch) OR #epoch = :epoch)", num(0)
	}
	return "#epoch = :epoch", num(e)
}
