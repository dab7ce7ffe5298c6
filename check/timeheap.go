package check

import "time"

// timeSlot is an item's place in a timeHeap, kept by the heap so that an
// item can be moved or removed wherever it sits.
type timeSlot struct {
	pos int // index+1 in the heap; 0: not in one
}

func (s *timeSlot) slot() *timeSlot { return s }

// timeHeap orders items that embed a timeSlot by time, earliest first: the
// runner's probes by due time, the event loop's by deadline. Each probe
// passes through both a few times, so this is on the checker's hot path.
// The times sit in the heap's own array, beside the items: a comparison
// reads neither item (one array, no pointer to chase per level), and the
// sifting is written out rather than run through container/heap, whose
// interface calls could not be inlined (a host profile of lbx-check at 500
// probes a second, 2026-12-06: the items' slot method alone 1.7 % of its
// samples, the heap's code about 3 %).
type timeHeap[T interface{ slot() *timeSlot }] []timed[T]

type timed[T any] struct {
	at time.Time
	x  T
}

// add puts x, which is in no heap, in the heap at time at.
func (h *timeHeap[T]) add(x T, at time.Time) {
	*h = append(*h, timed[T]{at, x})
	h.up(len(*h) - 1)
}

// move gives x, which is in the heap, the time at.
func (h timeHeap[T]) move(x T, at time.Time) {
	i := x.slot().pos - 1
	h[i].at = at
	h.fix(i)
}

// remove takes x out of the heap, if it is in it.
func (h *timeHeap[T]) remove(x T) {
	if p := x.slot().pos; p > 0 {
		h.removeAt(p - 1)
	}
}

// due takes out the earliest item if its time is not after now.
func (h *timeHeap[T]) due(now time.Time) (x T, ok bool) {
	if len(*h) == 0 || (*h)[0].at.After(now) {
		return x, false
	}
	return h.removeAt(0), true
}

// next is the earliest time in the heap (zero: empty).
func (h timeHeap[T]) next() time.Time {
	if len(h) == 0 {
		return time.Time{}
	}
	return h[0].at
}

// removeAt takes out the item at index i: the last one takes its place.
func (h *timeHeap[T]) removeAt(i int) T {
	old := *h
	last := len(old) - 1
	x := old[i].x
	old[i] = old[last]
	old[last] = timed[T]{} // no reference left behind the length
	*h = old[:last]
	if i < last {
		h.fix(i)
	}
	x.slot().pos = 0
	return x
}

// fix restores the order around index i after its time changed.
func (h timeHeap[T]) fix(i int) {
	if !h.down(i) {
		h.up(i)
	}
}

func (h timeHeap[T]) up(i int) {
	e := h[i]
	for i > 0 {
		parent := (i - 1) / 2
		if !e.at.Before(h[parent].at) {
			break
		}
		h.set(i, h[parent])
		i = parent
	}
	h.set(i, e)
}

// down sinks index i0 and says whether it moved.
func (h timeHeap[T]) down(i0 int) bool {
	e, i, n := h[i0], i0, len(h)
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if r := c + 1; r < n && h[r].at.Before(h[c].at) {
			c = r
		}
		if !h[c].at.Before(e.at) {
			break
		}
		h.set(i, h[c])
		i = c
	}
	h.set(i, e)
	return i > i0
}

func (h timeHeap[T]) set(i int, e timed[T]) {
	h[i] = e
	e.x.slot().pos = i + 1
}
