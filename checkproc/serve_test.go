package checkproc

import (
	"context"
	"encoding/json"
	"net"
	"sync/atomic"
	"testing"
)

// TestServeApplied checks that ServeOptions.Applied runs once per update,
// after its reply, and not for the other requests.
func TestServeApplied(t *testing.T) {
	_, port := listener(t)
	parent, child := net.Pipe()
	defer parent.Close()
	var applied atomic.Int32
	done := make(chan error, 1)
	go func() {
		done <- Serve(context.Background(), child, ServeOptions{Applied: func() { applied.Add(1) }})
	}()
	enc, dec := json.NewEncoder(parent), json.NewDecoder(parent)
	ts := wireTargets(targets(t, port))
	for i, tc := range []struct {
		q    request
		want int32 // Applied calls once the reply is read (-1: not checked)
	}{
		// An update's reply goes before its Applied call, so its count
		// is known only at the next request's reply.
		{request{Seq: 1, Op: opUpdate, Targets: ts}, -1},
		{request{Seq: 2, Op: opHealth}, 1},
		{request{Seq: 3, Op: opStats}, 1},
		{request{Seq: 4, Op: opUpdate, Targets: ts}, -1},
		{request{Seq: 5, Op: opHealth}, 2},
	} {
		if err := enc.Encode(tc.q); err != nil {
			t.Fatal(err)
		}
		var m message
		for m.Seq != tc.q.Seq {
			m = message{}
			if err := dec.Decode(&m); err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
		}
		if m.Err != "" {
			t.Fatalf("request %d (%s): %s", i, tc.q.Op, m.Err)
		}
		if tc.want >= 0 {
			if got := applied.Load(); got != tc.want {
				t.Errorf("after the reply to request %d (%s): Applied ran %d times, want %d", i, tc.q.Op, got, tc.want)
			}
		}
	}
	parent.Close()
	if err := <-done; err != nil {
		t.Fatalf("Serve after EOF: %v", err)
	}
}
