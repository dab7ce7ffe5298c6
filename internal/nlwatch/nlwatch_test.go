package nlwatch

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// TestFollow: updates that concern the caller kick it, others do not; a
// subscription that breaks is made again and reported as such; a stop
// ends the subscription (done closed); a failed subscription is reported
// and ends Follow.
func TestFollow(t *testing.T) {
	var changed, resub atomic.Int32
	subs := make(chan chan int, 2)
	dones := make(chan chan struct{}, 2)
	resubAtSubscribe := make(chan int32, 2)
	ctx, cancel := context.WithCancel(context.Background())
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		Follow(ctx, func(ch chan int, done chan struct{}) error {
			resubAtSubscribe <- resub.Load()
			subs <- ch
			dones <- done
			return nil
		}, func(u int) bool { return u%2 == 0 }, func() { changed.Add(1) }, func() { resub.Add(1) }, func(error) { t.Error("unavailable") })
	}()
	ch := <-subs
	<-dones
	ch <- 1
	ch <- 2
	ch <- 4
	close(ch) // the subscription broke
	ch = <-subs
	done := <-dones
	for deadline := time.Now().Add(time.Second); resub.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if changed.Load() != 2 || resub.Load() != 1 {
		t.Errorf("changed %d, resubscribed %d; want 2 and 1", changed.Load(), resub.Load())
	}
	// The resync after a break reads what the new subscription will not
	// report: resubscribed comes once it exists.
	<-resubAtSubscribe
	if n := <-resubAtSubscribe; n != 0 {
		t.Errorf("resubscribed called %d time(s) before the subscription was made again", n)
	}
	cancel()
	<-ended
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Error("the subscription was not ended at the stop")
	}

	var why error
	Follow(context.Background(), func(chan int, chan struct{}) error { return errors.New("no netlink") },
		func(int) bool { return true }, func() {}, func() {}, func(err error) { why = err })
	if why == nil {
		t.Error("a failed subscription was not reported")
	}
}
