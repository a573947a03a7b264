package checked

import (
	"math"
	"testing"
)

func TestChecked(t *testing.T) {
	adds := []struct {
		a, b, want int64
		ok         bool
	}{
		{1, 2, 3, true}, {math.MaxInt64, 1, 0, false}, {math.MinInt64, -1, 0, false},
		{math.MaxInt64, -1, math.MaxInt64 - 1, true}, {-5, 0, -5, true},
	}
	for _, tc := range adds {
		if got, ok := Add(tc.a, tc.b); ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("Add(%d, %d) = %d, %v", tc.a, tc.b, got, ok)
		}
	}
	muls := []struct {
		a, b, want int64
		ok         bool
	}{
		{3, -4, -12, true}, {math.MaxInt64, 2, 0, false}, {-1, math.MinInt64, 0, false},
		{math.MinInt64, -1, 0, false}, {0, math.MinInt64, 0, true}, {1 << 31, 1 << 31, 1 << 62, true},
	}
	for _, tc := range muls {
		if got, ok := Mul(tc.a, tc.b); ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("Mul(%d, %d) = %d, %v", tc.a, tc.b, got, ok)
		}
	}
	if Abs(math.MinInt64) != 1<<63 || Abs(-7) != 7 || Abs(7) != 7 {
		t.Error("Abs")
	}
}
