package model

import "testing"

// TestFieldSet: a field is added once, below and above the 64 held in bits.
func TestFieldSet(t *testing.T) {
	for _, tc := range []struct {
		name string
		adds []int
		want []bool
	}{
		{"distinct", []int{0, 1, 63}, []bool{true, true, true}},
		{"repeat low", []int{5, 5}, []bool{true, false}},
		{"repeat high", []int{64, 100, 64}, []bool{true, true, false}},
		{"low and high apart", []int{0, 64, 0, 64}, []bool{true, true, false, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s fieldSet
			for i, f := range tc.adds {
				if got := s.add(f); got != tc.want[i] {
					t.Errorf("add(%d) #%d = %v, want %v", f, i, got, tc.want[i])
				}
			}
		})
	}
}
