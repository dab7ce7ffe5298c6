package checkproc

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/check"
	"github.com/lbx-dev/lbx/check/checkmodel"
	"github.com/lbx-dev/lbx/check/tlsclient"
	"github.com/lbx-dev/lbx/internal/testkit"
	"github.com/lbx-dev/lbx/model"
)

// The test binary is its own checker child: started with this variable
// set it serves fd 3, as lbx-check does.
const childEnv = "LBX_CHECKPROC_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		f := os.NewFile(3, "checkproc")
		conn, err := net.FileConn(f)
		if err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(2)
		}
		f.Close()
		if strings.HasSuffix(os.Args[0], "-tls") { // lbx-check-tls's part
			check.UseTLS(tlsclient.Handshake)
		}
		if err := Serve(context.Background(), conn, ServeOptions{}); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(testkit.Main(m.Run))
}

// listener is a TCP server on loopback that a test can close.
func listener(t *testing.T) (net.Listener, int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return ln, ln.Addr().(*net.TCPAddr).Port
}

// closedPort is a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	ln, port := listener(t)
	ln.Close()
	return port
}

// targets are TCP checks of one real server per port, every 100 ms.
func targets(t testing.TB, ports ...int) []check.Target {
	t.Helper()
	return targetsOf(t, "type: tcp", ports...)
}

// targetsOf is targets with checks of kind (the check's YAML before its
// connect_port), e.g. "type: ssl_get, urls: [{path: /}]".
func targetsOf(t testing.TB, kind string, ports ...int) []check.Target {
	t.Helper()
	y := "version: 1\nvirtual_servers:\n"
	for i, p := range ports {
		y += fmt.Sprintf(`  - address: 192.0.2.%d
    port: 80
    delay_loop: 100ms
    real_servers:
      - address: 127.0.0.1
        port: 80
        checks: [{%s, connect_port: %d, connect_timeout: 1s, retry: 0, delay_before_retry: 100ms}]
`, i+1, kind, p)
	}
	m, err := model.Parse([]byte(y), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ts, err := checkmodel.Targets(m)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// recorder collects reported transitions; its report calls back into the
// client, as the watch engine does, to prove that cannot deadlock.
type recorder struct {
	mu  sync.Mutex
	got []check.Transition
	c   *Client
}

func (r *recorder) report(ts []check.Transition) {
	_ = r.c.Health()
	r.mu.Lock()
	r.got = append(r.got, ts...)
	r.mu.Unlock()
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

func startClient(t *testing.T, ts []check.Target) (*Client, *recorder) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(childEnv, "1")
	c := New(Options{Path: exe, MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, CallTimeout: 5 * time.Second})
	r := &recorder{c: c}
	if err := c.Start(context.Background(), ts, r.report); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	return c, r
}

// childWait is how long a checker child may take to report a probe or
// restart.
const childWait = 10 * time.Second

func TestClientReportsAndAnswers(t *testing.T) {
	_, open := listener(t)
	ts := targets(t, open, closedPort(t))
	upID, downID := ts[0].ID, ts[1].ID
	c, r := startClient(t, ts)
	testkit.Eventually(t, "the closed port reported down", childWait, func() bool { h, ok := c.Health()[downID]; return ok && !h.Up && r.count() > 0 })
	if h := c.Health()[upID]; !h.Up {
		t.Errorf("open port: health %+v", h)
	}
	r.mu.Lock()
	tr := r.got[0]
	r.mu.Unlock()
	if tr.ID != downID || tr.Health.Up || tr.Reason == "" {
		t.Errorf("transition %+v, want %s down with a reason", tr, downID)
	}
	testkit.Eventually(t, "stats counting probes", childWait, func() bool {
		st := c.Stats()
		return len(st) == 2 && st[0].Checks[0].Total > 1 && st[1].Checks[0].Failed > 1
	})
	// A reload that drops the down server: its health goes with it.
	if err := c.Update(ts[:1]); err != nil {
		t.Fatal(err)
	}
	if h := c.Health(); len(h) != 1 || !h[upID].Up {
		t.Errorf("after the update: health %v", h)
	}
}

// TestClientRestartKeepsHealth: a killed child is started again with each
// server as last known and the suspend set; nothing flaps meanwhile.
func TestClientRestartKeepsHealth(t *testing.T) {
	_, open := listener(t)
	_, paused := listener(t)
	ts := targets(t, open, closedPort(t), paused)
	upID, downID, pausedID := ts[0].ID, ts[1].ID, ts[2].ID
	c, r := startClient(t, ts)
	testkit.Eventually(t, "the closed port reported down", childWait, func() bool { return !c.Health()[downID].Up && r.count() == 1 })
	c.Suspend(map[model.RealID]bool{pausedID: true})
	before := c.Health()

	c.mu.Lock()
	pid := c.sess.cmd.Process.Pid
	c.mu.Unlock()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "the child restarted", childWait, func() bool { return c.Restarts() == 1 })
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("the killed child %d is still there", pid)
	}
	// Probes of the new child run; the suspended server's are skipped.
	testkit.Eventually(t, "the new child probing", childWait, func() bool {
		st := c.Stats()
		return len(st) == 3 && st[0].Checks[0].Total > 2 && st[1].Checks[0].Total > 2
	})
	for _, st := range c.Stats() {
		if st.ID == pausedID && st.Checks[0].Total != 0 {
			t.Errorf("suspended server probed %d times by the new child", st.Checks[0].Total)
		}
	}
	after := c.Health()
	for _, id := range []model.RealID{upID, downID, pausedID} {
		if after[id].Up != before[id].Up {
			t.Errorf("%s: up %v before the crash, %v after", id, before[id].Up, after[id].Up)
		}
	}
	if n := r.count(); n != 1 {
		t.Errorf("%d transitions, want only the first down (none from the restart)", n)
	}
}

func TestClientUpdateRefused(t *testing.T) {
	_, open := listener(t)
	ts := targets(t, open)
	c, _ := startClient(t, ts)
	bad := targets(t, open)
	bad[0].Checks[0].Spec.Schedule.DelayLoop = 0 // not an effective check
	if err := c.Update(bad); err == nil {
		t.Fatal("an update with a check that is not effective was accepted")
	}
	// The child is still there and answers.
	if err := c.Update(ts); err != nil {
		t.Fatalf("a good update after a refused one: %v", err)
	}
	if c.Restarts() != 0 {
		t.Errorf("the refusal restarted the child")
	}
}

func TestStartFails(t *testing.T) {
	c := New(Options{Path: "/nonexistent/lbx-check"})
	if err := c.Start(context.Background(), nil, nil); err == nil {
		t.Fatal("a missing binary started")
	}
}

// TestStopEndsChild: Stop closes the child's input; it exits by itself.
func TestStopEndsChild(t *testing.T) {
	_, open := listener(t)
	c, _ := startClient(t, targets(t, open))
	c.mu.Lock()
	s := c.sess
	c.mu.Unlock()
	start := time.Now()
	c.Stop()
	select {
	case <-s.exited:
	default:
		t.Fatal("the child is still running after Stop")
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("Stop took %v: the child was killed, not ended by EOF", d)
	}
	if s.cmd.ProcessState == nil || !s.cmd.ProcessState.Success() {
		t.Errorf("child exit: %v", s.cmd.ProcessState)
	}
}

// TestSuspendBeforeStart: the engine suspends before Start (no instance is
// MASTER yet); the child must skip those probes from the first one.
func TestSuspendBeforeStart(t *testing.T) {
	_, open := listener(t)
	ts := targets(t, open, open)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(childEnv, "1")
	c := New(Options{Path: exe})
	c.Suspend(map[model.RealID]bool{ts[1].ID: true})
	if err := c.Start(context.Background(), ts, nil); err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	testkit.Eventually(t, "the other server probed", childWait, func() bool { st := c.Stats(); return len(st) == 2 && st[0].Checks[0].Total > 2 })
	if st := c.Stats(); st[1].ID != ts[1].ID || st[1].Checks[0].Total != 0 {
		t.Errorf("the suspended server: %+v", st[1])
	}
	// Lifted: probed again.
	c.Suspend(nil)
	testkit.Eventually(t, "the lifted server probed", childWait, func() bool { return c.Stats()[1].Checks[0].Total > 0 })
}
