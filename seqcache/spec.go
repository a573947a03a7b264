package seqcache

import (
	"fmt"
	"math"

	"github.com/seqshim/seqshim/internal/checked"
)

// Spec is a sequence definition with PostgreSQL's parameters. A Spec read
// from a store is complete; build new ones with [Define], which applies
// PostgreSQL's defaults, or fill every field and call [Spec.Validate].
type Spec struct {
	Name      string // the store key: "schema.name", without namespace
	Start     int64  // the first value nextval returns
	Increment int64  // non-zero; negative makes a descending sequence
	MinValue  int64
	MaxValue  int64
	Cycle     bool  // wrap to the other limit instead of failing with 2200H
	Cache     int64 // PostgreSQL's CACHE: values a client may hold; >= 1
	// Ordered sends every nextval to the store: globally monotonic values
	// across processes at the cost of one store request per value.
	Ordered bool
}

// Option sets one parameter of a sequence in [Define], as a clause of
// CREATE SEQUENCE does.
type Option func(*options)

type options struct {
	start, increment, min, max, cache *int64
	cycle, ordered                    bool
}

// Start sets START WITH.
func Start(v int64) Option { return func(o *options) { o.start = &v } }

// Increment sets INCREMENT BY.
func Increment(v int64) Option { return func(o *options) { o.increment = &v } }

// MinValue sets MINVALUE.
func MinValue(v int64) Option { return func(o *options) { o.min = &v } }

// MaxValue sets MAXVALUE.
func MaxValue(v int64) Option { return func(o *options) { o.max = &v } }

// CacheSize sets CACHE: the block size clients reserve when larger than 1.
func CacheSize(n int64) Option { return func(o *options) { o.cache = &n } }

// Cycle sets CYCLE.
func Cycle() Option { return func(o *options) { o.cycle = true } }

// Ordered makes every nextval go to the store (see [Spec.Ordered]).
func Ordered() Option { return func(o *options) { o.ordered = true } }

// Define builds a Spec the way CREATE SEQUENCE does: parameters not given
// take PostgreSQL's defaults, which depend on the sign of the increment
// (ascending: min 1, max 2^63-1, start min; descending: max -1, min -2^63,
// start max). The result is validated.
func Define(name string, opts ...Option) (Spec, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	s := Spec{Name: name, Increment: 1, Cache: 1, Cycle: o.cycle, Ordered: o.ordered}
	if o.increment != nil {
		s.Increment = *o.increment
	}
	if s.Increment >= 0 {
		s.MinValue, s.MaxValue = 1, math.MaxInt64
	} else {
		s.MinValue, s.MaxValue = math.MinInt64, -1
	}
	if o.min != nil {
		s.MinValue = *o.min
	}
	if o.max != nil {
		s.MaxValue = *o.max
	}
	if s.Increment >= 0 {
		s.Start = s.MinValue
	} else {
		s.Start = s.MaxValue
	}
	if o.start != nil {
		s.Start = *o.start
	}
	if o.cache != nil {
		s.Cache = *o.cache
	}
	return s, s.Validate()
}

// Validate reports the first problem with s, with SQLSTATE 22023: the
// problem, in PostgreSQL's words, is the Detail.
func (s Spec) Validate() error {
	bad := func(format string, args ...any) error {
		return &Error{
			Code:     CodeInvalidParameter,
			Sequence: s.Name,
			Message:  fmt.Sprintf("sequence %q", s.Name),
			Detail:   fmt.Sprintf(format, args...),
		}
	}
	switch {
	case s.Name == "":
		return bad("name must not be empty")
	case s.Increment == 0:
		return bad("INCREMENT must not be zero")
	case s.MinValue >= s.MaxValue:
		return bad("MINVALUE (%d) must be less than MAXVALUE (%d)", s.MinValue, s.MaxValue)
	case s.Start < s.MinValue:
		return bad("START value (%d) cannot be less than MINVALUE (%d)", s.Start, s.MinValue)
	case s.Start > s.MaxValue:
		return bad("START value (%d) cannot be greater than MAXVALUE (%d)", s.Start, s.MaxValue)
	case s.Cache < 1:
		return bad("CACHE (%d) must be greater than zero", s.Cache)
	}
	if _, ok := checked.Mul(s.Cache, s.Increment); !ok {
		return bad("CACHE (%d) times INCREMENT (%d) overflows int64", s.Cache, s.Increment)
	}
	return nil
}

// Ascending reports whether values grow.
func (s Spec) Ascending() bool { return s.Increment > 0 }

// Limit is the last value the sequence can reach in its direction.
func (s Spec) Limit() int64 {
	if s.Ascending() {
		return s.MaxValue
	}
	return s.MinValue
}

// Restart is where a cycling sequence goes after its limit.
func (s Spec) Restart() int64 {
	if s.Ascending() {
		return s.MinValue
	}
	return s.MaxValue
}

// InRange reports whether v is inside [MinValue, MaxValue].
func (s Spec) InRange(v int64) bool { return v >= s.MinValue && v <= s.MaxValue }

// Remaining is how many values are left from next to the limit, inclusive,
// capped at math.MaxInt64. next must be in range.
func (s Spec) Remaining(next int64) int64 {
	var span uint64
	if s.Ascending() {
		span = uint64(s.MaxValue) - uint64(next)
	} else {
		span = uint64(next) - uint64(s.MinValue)
	}
	n := span/checked.Abs(s.Increment) + 1
	if n > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(n)
}

// Reserve computes the block of up to n values starting at next and the
// state after it: the next unreserved value, or exhausted when the block
// ends on the limit. It is the arithmetic every store shares.
func (s Spec) Reserve(next int64, n int64) (b Block, after int64, exhausted bool) {
	count := min(n, s.Remaining(next))
	b = Block{First: next, Count: count, Increment: s.Increment}
	after, ok := checked.Add(b.Last(), s.Increment)
	if !ok || !s.InRange(after) {
		return b, 0, true
	}
	return b, after, false
}

// SetValue computes the state setval(v, called) leaves: the next value to
// reserve, or exhausted when called and v is the limit. v outside the
// bounds is 22003.
func (s Spec) SetValue(v int64, called bool) (next int64, exhausted bool, err error) {
	if !s.InRange(v) {
		return 0, false, OutOfRange(s.Name, v, s.MinValue, s.MaxValue)
	}
	if !called {
		return v, false, nil
	}
	next, ok := checked.Add(v, s.Increment)
	if !ok || !s.InRange(next) {
		return 0, true, nil
	}
	return next, false, nil
}
