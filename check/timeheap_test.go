package check

import (
	"math/rand/v2"
	"testing"
	"time"
)

type heapItem struct {
	timeSlot
	name int
}

// checkHeap fails unless h is ordered and every item knows its place.
func checkHeap(t *testing.T, h timeHeap[*heapItem]) {
	t.Helper()
	for i, e := range h {
		if e.x.pos != i+1 {
			t.Fatalf("item %d at index %d has pos %d", e.x.name, i, e.x.pos)
		}
		if i > 0 && e.at.Before(h[(i-1)/2].at) {
			t.Fatalf("index %d (%v) is before its parent (%v)", i, e.at, h[(i-1)/2].at)
		}
	}
}

// TestTimeHeap runs random adds, moves, removes and takes against a plain
// map of due times: every take must be the earliest left.
func TestTimeHeap(t *testing.T) {
	for _, tc := range []struct {
		name  string
		seed  uint64
		items int
		steps int
		span  int // distinct times: small spans make ties
	}{
		{"few items, many ties", 1, 4, 400, 3},
		{"many items", 2, 200, 5000, 1 << 20},
		{"many ties", 3, 100, 3000, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(tc.seed, 0))
			base := time.Unix(1000, 0)
			at := func() time.Time { return base.Add(time.Duration(rng.IntN(tc.span))) }
			var h timeHeap[*heapItem]
			items := make([]*heapItem, tc.items)
			for i := range items {
				items[i] = &heapItem{name: i}
			}
			want := map[*heapItem]time.Time{} // the items in the heap
			for range tc.steps {
				x := items[rng.IntN(len(items))]
				_, in := want[x]
				switch op := rng.IntN(4); {
				case op == 0 && !in:
					want[x] = at()
					h.add(x, want[x])
				case op == 1 && in:
					want[x] = at()
					h.move(x, want[x])
				case op == 2:
					h.remove(x) // also when not in it
					delete(want, x)
					if x.pos != 0 {
						t.Fatalf("removed item has pos %d", x.pos)
					}
				case op == 3:
					now := at()
					got, ok := h.due(now)
					var earliest time.Time
					for _, w := range want {
						if earliest.IsZero() || w.Before(earliest) {
							earliest = w
						}
					}
					if wantOK := len(want) > 0 && !earliest.After(now); ok != wantOK {
						t.Fatalf("due(%v) = %v, want %v (earliest %v)", now, ok, wantOK, earliest)
					}
					if ok {
						if !want[got].Equal(earliest) {
							t.Fatalf("due took an item at %v, the earliest is at %v", want[got], earliest)
						}
						delete(want, got)
					}
				}
				checkHeap(t, h)
				if len(h) != len(want) {
					t.Fatalf("heap holds %d items, want %d", len(h), len(want))
				}
				if next := h.next(); len(want) == 0 != next.IsZero() {
					t.Fatalf("next() = %v with %d items", next, len(want))
				}
			}
		})
	}
}

// TestTimeHeapReleases: a taken item's entry is cleared behind the slice's
// length, so the heap keeps no probe alive.
func TestTimeHeapReleases(t *testing.T) {
	var h timeHeap[*heapItem]
	a, b := &heapItem{name: 1}, &heapItem{name: 2}
	h.add(a, time.Unix(1, 0))
	h.add(b, time.Unix(2, 0))
	if x, ok := h.due(time.Unix(5, 0)); !ok || x != a {
		t.Fatalf("due = %v, %v; want item 1", x, ok)
	}
	if full := h[:cap(h)]; full[1].x != nil {
		t.Fatalf("the array still holds item %d past the heap's length", full[1].x.name)
	}
}
