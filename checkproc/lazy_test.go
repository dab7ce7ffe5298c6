package checkproc

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/check"
	"github.com/lbx-dev/lbx/internal/testkit"
	"github.com/lbx-dev/lbx/model"
)

// newLazy is a Lazy client whose child is this test binary (TestMain).
func newLazy(t *testing.T) *Lazy {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(childEnv, "1")
	l := NewLazy(Options{Path: exe, MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, CallTimeout: 5 * time.Second})
	t.Cleanup(l.Stop)
	return l
}

// TestLazyStartsWithFirstCheck: no child while the model has no checked
// real server, at start or after a reload without any; the first reload
// with one starts it, with the suspended set given before it.
func TestLazyStartsWithFirstCheck(t *testing.T) {
	_, open := listener(t)
	l := newLazy(t)
	var reported atomic.Int64
	report := func(ts []check.Transition) {
		_ = l.Health() // the engine's callback reads back, as recorder does
		reported.Add(int64(len(ts)))
	}
	if err := l.Start(context.Background(), nil, report); err != nil {
		t.Fatal(err)
	}
	if err := l.Update(nil); err != nil {
		t.Fatal(err)
	}
	if l.Running() || len(l.Health()) != 0 || l.Stats() != nil || l.Restarts() != 0 {
		t.Fatalf("without checks: running %v, health %v, stats %v", l.Running(), l.Health(), l.Stats())
	}
	ts := targets(t, open, open)
	l.Suspend(map[model.RealID]bool{ts[1].ID: true})
	if err := l.Update(ts); err != nil {
		t.Fatal(err)
	}
	if !l.Running() {
		t.Fatal("the first checked server did not start the child")
	}
	testkit.Eventually(t, "the unsuspended server probed", childWait, func() bool {
		st := l.Stats()
		return len(st) == 2 && st[0].Checks[0].Total > 2
	})
	if st := l.Stats(); st[1].Checks[0].Total != 0 {
		t.Errorf("the server suspended before the child started was probed: %+v", st[1])
	}
	if err := l.Update(ts[:1]); err != nil {
		t.Errorf("an update of the running child: %v", err)
	}
	c := l.c.Load()
	l.Stop()
	c.mu.Lock()
	s := c.sess
	c.mu.Unlock()
	select {
	case <-s.exited:
	case <-time.After(childWait):
		t.Fatal("the child still runs after Stop")
	}
	if err := l.Update(ts); err == nil || l.c.Load() != c {
		t.Errorf("an update after Stop: %v, or a new child", err)
	}
}

// TestLazyStartFailure: a child that cannot start fails the update that
// asked for it, and the next update tries again with a new client.
func TestLazyStartFailure(t *testing.T) {
	for _, tc := range []struct {
		name    string
		atStart bool // the checked server is in the model at start
	}{
		{"at start", true},
		{"at a reload", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := NewLazy(Options{Path: "/nonexistent/lbx-check"})
			defer l.Stop()
			ts := targets(t, closedPort(t))
			var err error
			if tc.atStart {
				err = l.Start(context.Background(), ts, nil)
			} else {
				if err := l.Start(context.Background(), nil, nil); err != nil {
					t.Fatalf("start without checks: %v", err)
				}
				err = l.Update(ts)
			}
			if err == nil || l.Running() {
				t.Fatalf("a missing binary: err %v, running %v", err, l.Running())
			}
			if err := l.Update(ts); err == nil || strings.Contains(err.Error(), "already started") {
				t.Errorf("the retry: %v, want the start's error again", err)
			}
		})
	}
}

// TestLazyMovesToTLS: lbx-check runs the checks until a reload brings the
// first ssl_get check; then lbx-check-tls (here this test binary under a
// name ending in -tls, which plugs TLS in as cmd/lbx-check-tls does) runs
// them all, each server keeping its health (a down one stays down, with
// no transition), and the
// ssl_get check passes against a TLS server. Without lbx-check-tls the
// reload is refused, naming it, and lbx-check goes on as it was; with
// one that cannot start, lbx-check is started again on the old checks.
func TestLazyMovesToTLS(t *testing.T) {
	_, open := listener(t)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	t.Cleanup(srv.Close)
	tlsPort := srv.Listener.Addr().(*net.TCPAddr).Port

	l := newLazy(t)
	exe := l.opts.Path
	var mu sync.Mutex
	var got []check.Transition
	report := func(ts []check.Transition) {
		mu.Lock()
		got = append(got, ts...)
		mu.Unlock()
	}
	closed := closedPort(t)
	plain := targets(t, open, closed)
	if err := l.Start(context.Background(), plain, report); err != nil {
		t.Fatal(err)
	}
	first := l.c.Load()
	testkit.Eventually(t, "the tcp checks probed, one server down", childWait, func() bool {
		st := l.Stats()
		return len(st) == 2 && st[0].Checks[0].Total > 2 && !l.Health()[plain[1].ID].Up
	})
	ssl := targetsOf(t, "type: ssl_get, urls: [{path: /}]", open, closed, tlsPort)[2]
	both := append(slices.Clone(plain), ssl)

	if err := l.Update(both); err == nil || !strings.Contains(err.Error(), "lbx-check-tls") {
		t.Fatalf("a reload with ssl_get and no lbx-check-tls: %v, want an error naming it", err)
	}
	if l.c.Load() != first || !l.Running() || l.tls {
		t.Fatal("the refused reload changed the checker process")
	}

	// An lbx-check-tls that cannot start: the reload fails, and
	// lbx-check runs the checks it had, the down server still down.
	missing := filepath.Join(t.TempDir(), "missing-lbx-check-tls")
	l.opts.FindTLS = func() string { return missing }
	if err := l.Update(both); err == nil {
		t.Fatal("a reload whose lbx-check-tls cannot start succeeded")
	}
	if c := l.c.Load(); c == nil || c.opts.Path != exe || l.tls || len(l.Health()) != 2 || l.Health()[plain[1].ID].Up {
		t.Fatalf("after the failed move: running %v, tls %v, health %v; want lbx-check on the old checks", c != nil, l.tls, l.Health())
	}

	// A crash before the move: the restart it counts survives the move.
	c := l.c.Load()
	c.mu.Lock()
	c.sess.cmd.Process.Kill()
	c.mu.Unlock()
	testkit.Eventually(t, "lbx-check restarted", childWait, func() bool {
		_, err := c.call(request{Op: opHealth})
		return l.Restarts() == 1 && err == nil
	})
	// A transition the old child's dispatch had no turn for (queued,
	// not kicked) reaches report at the move, not lost with the client.
	queued := check.Transition{ID: plain[1].ID, Reason: "queued before the move"}
	c.mu.Lock()
	c.queue = append(c.queue, []check.Transition{queued})
	c.mu.Unlock()

	// lbx-check-tls installed after the start: found at the reload.
	tlsExe := filepath.Join(t.TempDir(), "lbx-check-tls")
	if err := os.Symlink(exe, tlsExe); err != nil {
		t.Fatal(err)
	}
	l.opts.FindTLS = func() string { return tlsExe }
	if err := l.Update(both); err != nil {
		t.Fatalf("the reload that brings ssl_get: %v", err)
	}
	moved := l.c.Load()
	if moved == first || !l.tls || moved.opts.Path != tlsExe {
		t.Fatalf("the checks did not move to lbx-check-tls (path %s)", moved.opts.Path)
	}
	if l.Health()[plain[1].ID].Up {
		t.Error("the server that was down is up after the move")
	}
	if n := l.Restarts(); n != 1 {
		t.Errorf("restarts after the move: %d, want the 1 from before it", n)
	}
	mu.Lock()
	delivered := slices.ContainsFunc(got, func(tr check.Transition) bool { return tr.Reason == queued.Reason })
	mu.Unlock()
	if !delivered {
		t.Error("a transition queued in the old client was not delivered at the move")
	}
	testkit.Eventually(t, "the ssl_get check passed in lbx-check-tls", childWait, func() bool {
		st := l.Stats()
		return len(st) == 3 && st[2].Checks[0].Total > 2 && l.Health()[ssl.ID].Up
	})
	if err := l.Update(plain); err != nil || l.c.Load() != moved {
		t.Fatalf("a reload without ssl_get: %v; it should stay in lbx-check-tls", err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, tr := range got {
		if tr.Health.Up {
			t.Errorf("a transition up across the move: %+v", tr)
		}
	}
}
