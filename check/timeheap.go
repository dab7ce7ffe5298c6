package check

import (
	"container/heap"
	"time"
)

// timeSlot is an item's place in a timeHeap: the time it is ordered by,
// and its position, kept by the heap so that an item can be removed
// wherever it sits.
type timeSlot struct {
	at  time.Time
	pos int // index+1 in the heap; 0: not in one
}

func (s *timeSlot) slot() *timeSlot { return s }

// timeHeap orders items that embed a timeSlot by time, earliest first: the
// runner's probes by due time, the event loop's by deadline.
type timeHeap[T interface{ slot() *timeSlot }] []T

// add puts x in the heap at time at.
func (h *timeHeap[T]) add(x T, at time.Time) {
	x.slot().at = at
	heap.Push(h, x)
}

// move gives x, which is in the heap, the time at.
func (h *timeHeap[T]) move(x T, at time.Time) {
	x.slot().at = at
	heap.Fix(h, x.slot().pos-1)
}

// remove takes x out of the heap, if it is in it.
func (h *timeHeap[T]) remove(x T) {
	if p := x.slot().pos; p > 0 {
		heap.Remove(h, p-1)
	}
}

// due takes out the earliest item if its time is not after now.
func (h *timeHeap[T]) due(now time.Time) (x T, ok bool) {
	if len(*h) == 0 || (*h)[0].slot().at.After(now) {
		return x, false
	}
	return heap.Pop(h).(T), true
}

// next is the earliest time in the heap (zero: empty).
func (h timeHeap[T]) next() time.Time {
	if len(h) == 0 {
		return time.Time{}
	}
	return h[0].slot().at
}

// heap.Interface, for container/heap only.
func (h timeHeap[T]) Len() int           { return len(h) }
func (h timeHeap[T]) Less(i, j int) bool { return h[i].slot().at.Before(h[j].slot().at) }
func (h timeHeap[T]) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].slot().pos, h[j].slot().pos = i+1, j+1
}
func (h *timeHeap[T]) Push(x any) {
	t := x.(T)
	*h = append(*h, t)
	t.slot().pos = len(*h)
}
func (h *timeHeap[T]) Pop() any {
	old := *h
	t := old[len(old)-1]
	var zero T
	old[len(old)-1] = zero
	t.slot().pos = 0
	*h = old[:len(old)-1]
	return t
}
