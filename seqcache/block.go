package seqcache

// Block is a contiguous run of values reserved from a store:
// First, First+Increment, ..., First+(Count-1)*Increment.
// A block never crosses a sequence's limit; a cycling sequence wraps
// between blocks, never inside one.
type Block struct {
	First     int64
	Count     int64
	Increment int64
	// Epoch is the sequence's epoch when the block was reserved (see
	// Sequence.Epoch): GiveBack takes a tail back only in the same epoch.
	Epoch int64
}

// Value returns the i-th value of the block, 0 <= i < Count.
func (b Block) Value(i int64) int64 { return b.First + i*b.Increment }

// Last returns the last value of the block. Count must be positive.
func (b Block) Last() int64 { return b.First + (b.Count-1)*b.Increment }

// End returns the value just past the block, which is the store's next
// value while nobody has reserved after it. It may overflow when the block
// ends on math.MaxInt64 or math.MinInt64; compare with care.
func (b Block) End() int64 { return b.First + b.Count*b.Increment }

// Tail returns the values of b from index i on.
func (b Block) Tail(i int64) Block {
	return Block{First: b.Value(i), Count: b.Count - i, Increment: b.Increment, Epoch: b.Epoch}
}

// Contains reports whether v is one of the block's values.
func (b Block) Contains(v int64) bool {
	if b.Count <= 0 {
		return false
	}
	d := v - b.First
	if b.Increment > 0 {
		return v >= b.First && v <= b.Last() && d%b.Increment == 0
	}
	return v <= b.First && v >= b.Last() && d%b.Increment == 0
}
