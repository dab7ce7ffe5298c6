package scriptq

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/script"
	"github.com/lbx-dev/lbx/internal/testkit"
)

// recorder is a Run that records what ran, per key (argv[0] is the key,
// argv[1] the job's name), and holds the first job of key "hold" until
// release is closed.
type recorder struct {
	mu      sync.Mutex
	ran     map[string][]string
	started chan struct{}
	release chan struct{}
}

func newRecorder() *recorder {
	return &recorder{ran: map[string][]string{}, started: make(chan struct{}, 1), release: make(chan struct{})}
}

func (r *recorder) run(ctx context.Context, argv []string) {
	r.mu.Lock()
	first := len(r.ran[argv[0]]) == 0
	r.ran[argv[0]] = append(r.ran[argv[0]], argv[1])
	r.mu.Unlock()
	if argv[0] == "hold" && first {
		r.started <- struct{}{}
		select {
		case <-r.release:
		case <-ctx.Done():
		}
	}
}

func job(key, name string) Job {
	return Job{Key: key, Kind: "notify", Argvs: [][]string{{key, name}}}
}

// TestQueueOrderAndCoalescing: a key's jobs run in order; on overflow the
// oldest waiting go and the newest (the final state) always runs.
func TestQueueOrderAndCoalescing(t *testing.T) {
	seq := func(key string, from, to int) []Job {
		var js []Job
		for i := from; i <= to; i++ {
			js = append(js, job(key, fmt.Sprint(i)))
		}
		return js
	}
	names := func(from, to int) []string {
		var ns []string
		for i := from; i <= to; i++ {
			ns = append(ns, fmt.Sprint(i))
		}
		return ns
	}
	cases := []struct {
		name                    string
		perKey, total, parallel int
		// push runs while "hold"'s first job (named 0) runs.
		push    []Job
		want    map[string][]string
		dropped uint64
	}{
		{name: "fits: every job, in order", perKey: 8, total: 64, parallel: 2,
			push: seq("hold", 1, 5),
			want: map[string][]string{"hold": names(0, 5)}},
		{name: "key overflow keeps the newest", perKey: 4, total: 64, parallel: 2,
			push:    seq("hold", 1, 300),
			want:    map[string][]string{"hold": append([]string{"0"}, names(297, 300)...)},
			dropped: 296},
		{name: "total overflow takes from the longest key", perKey: 8, total: 4, parallel: 1,
			push: append(seq("a", 1, 3), seq("b", 1, 2)...),
			// a1 is the oldest of the longest key when b2 comes.
			want:    map[string][]string{"hold": {"0"}, "a": {"2", "3"}, "b": {"1", "2"}},
			dropped: 1},
		{name: "other keys run beside a held one", perKey: 2, total: 64, parallel: 2,
			push: append(seq("a", 1, 2), seq("b", 1, 2)...),
			want: map[string][]string{"hold": {"0"}, "a": {"1", "2"}, "b": {"1", "2"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRecorder()
			q := New(Options{Run: r.run, PerKey: c.perKey, Total: c.total, Parallel: c.parallel, Log: slog.New(slog.DiscardHandler)})
			q.Push(job("hold", "0"))
			<-r.started
			for _, j := range c.push {
				q.Push(j)
			}
			if c.parallel > 1 {
				// The other keys do not wait for the held one.
				testkit.Eventually(t, "the other keys' scripts run while one is held", 5*time.Second, func() bool {
					r.mu.Lock()
					defer r.mu.Unlock()
					for k, w := range c.want {
						if k != "hold" && len(r.ran[k]) < len(w) {
							return false
						}
					}
					return true
				})
			}
			close(r.release)
			q.Close(5 * time.Second)
			r.mu.Lock()
			defer r.mu.Unlock()
			for k, w := range c.want {
				if !slices.Equal(r.ran[k], w) {
					t.Errorf("key %s ran %v, want %v", k, r.ran[k], w)
				}
			}
			if got := q.Dropped()["notify"]; got != c.dropped {
				t.Errorf("dropped %d, want %d", got, c.dropped)
			}
		})
	}
}

// TestQueueHangingScripts runs real scripts that never end: Push never
// blocks, Close returns within its budget, and the scripts' process
// groups (a background child included) are gone.
func TestQueueHangingScripts(t *testing.T) {
	dir := t.TempDir()
	pids := filepath.Join(dir, "pids")
	run := func(ctx context.Context, argv []string) {
		script.Run(ctx, argv, script.Options{Timeout: time.Hour})
	}
	q := New(Options{Run: run, PerKey: 4, Total: 16, Parallel: 3, Log: slog.New(slog.DiscardHandler)})
	start := time.Now()
	const pushes = 1000
	for i := range pushes {
		cmd := fmt.Sprintf(`sleep 1000 & echo $! >> %s; echo $$ >> %s; wait`, pids, pids)
		q.Push(Job{Key: fmt.Sprint("k", i%5), Kind: "notify", Argvs: [][]string{{"/bin/sh", "-c", cmd}}})
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("%d pushes took %s: Push blocks", pushes, d)
	}
	// Three keys run (Parallel), each holding its first script.
	testkit.Eventually(t, "three keys' first scripts started", 5*time.Second, func() bool { b, _ := os.ReadFile(pids); return len(strings.Fields(string(b))) >= 6 })
	start = time.Now()
	q.Close(300 * time.Millisecond)
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Close took %s with a 300ms budget", d)
	}
	b, _ := os.ReadFile(pids)
	for _, p := range strings.Fields(string(b)) {
		var pid int
		fmt.Sscan(p, &pid)
		testkit.Eventually(t, fmt.Sprintf("script process %d gone", pid), 5*time.Second, func() bool { return syscall.Kill(pid, 0) != nil })
	}
	// All but the three that ran were dropped: coalesced or abandoned.
	if got := q.Dropped()["notify"]; got != pushes-3 {
		t.Errorf("dropped %d, want %d", got, pushes-3)
	}
	q.Push(job("late", "1"))
	if got := q.Dropped()["notify"]; got != pushes-2 {
		t.Errorf("a push after Close: dropped %d, want %d", got, pushes-2)
	}
}
