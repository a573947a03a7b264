// Package checked is int64 arithmetic that reports overflow, shared by the
// packages that compute sequence positions near the ends of int64.
package checked

import "math"

// Add returns a+b and whether it did not overflow.
func Add(a, b int64) (int64, bool) {
	c := a + b
	if (c > a) != (b > 0) {
		return c, false
	}
	return c, true
}

// Mul returns a*b and whether it did not overflow.
func Mul(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	c := a * b
	if c/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
		return c, false
	}
	return c, true
}

// Abs returns |v|, exact even for math.MinInt64.
func Abs(v int64) uint64 {
	if v < 0 {
		return uint64(-(v + 1)) + 1
	}
	return uint64(v)
}
