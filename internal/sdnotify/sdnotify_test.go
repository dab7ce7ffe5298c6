package sdnotify

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// notifySocket plays systemd: a real unixgram socket set as NOTIFY_SOCKET.
func notifySocket(t *testing.T) *net.UnixConn {
	t.Helper()
	p := filepath.Join(t.TempDir(), "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: p, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	t.Setenv("NOTIFY_SOCKET", p)
	return c
}

// recv returns the next datagram, or "" after timeout.
func recv(t *testing.T, c *net.UnixConn, timeout time.Duration) string {
	t.Helper()
	buf := make([]byte, 4096)
	c.SetReadDeadline(time.Now().Add(timeout))
	n, err := c.Read(buf)
	if err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return ""
		}
		t.Fatal(err)
	}
	return string(buf[:n])
}

func TestNotifications(t *testing.T) {
	tests := []struct {
		name string
		call func() error
		want *regexp.Regexp
	}{
		{"ready", Ready, regexp.MustCompile(`^READY=1$`)},
		{"stopping", Stopping, regexp.MustCompile(`^STOPPING=1$`)},
		{"reloading", Reloading, regexp.MustCompile(`^RELOADING=1\nMONOTONIC_USEC=[0-9]+$`)},
		{"status", func() error { return Status("2/2 MASTER;\n12/12 up") }, regexp.MustCompile(`^STATUS=2/2 MASTER; 12/12 up$`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := notifySocket(t)
			if err := tc.call(); err != nil {
				t.Fatal(err)
			}
			got := recv(t, c, 2*time.Second)
			if !tc.want.MatchString(got) {
				t.Fatalf("datagram %q, want %v", got, tc.want)
			}
		})
	}
}

// MONOTONIC_USEC must be CLOCK_MONOTONIC now (systemd compares it with the
// time it sent the reload signal), not wall-clock time.
func TestReloadingMonotonic(t *testing.T) {
	c := notifySocket(t)
	before := monotonicUsec(t)
	if err := Reloading(); err != nil {
		t.Fatal(err)
	}
	after := monotonicUsec(t)
	m := regexp.MustCompile(`MONOTONIC_USEC=([0-9]+)`).FindStringSubmatch(recv(t, c, 2*time.Second))
	if m == nil {
		t.Fatal("no MONOTONIC_USEC")
	}
	v, _ := strconv.ParseInt(m[1], 10, 64)
	if v < before || v > after {
		t.Fatalf("MONOTONIC_USEC=%d not within [%d, %d]", v, before, after)
	}
}

func monotonicUsec(t *testing.T) int64 {
	t.Helper()
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		t.Fatal(err)
	}
	return ts.Nano() / 1000
}

func TestNoSocketIsNoop(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	os.Unsetenv("NOTIFY_SOCKET")
	for name, f := range map[string]func() error{"ready": Ready, "reloading": Reloading, "stopping": Stopping, "status": func() error { return Status("x") }} {
		if err := f(); err != nil {
			t.Errorf("%s without NOTIFY_SOCKET: %v", name, err)
		}
	}
}

func TestBrokenSocketIsAnError(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", filepath.Join(t.TempDir(), "absent"))
	if err := Ready(); err == nil {
		t.Fatal("Ready to an absent socket: no error")
	}
}

func TestWatchdog(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantOff bool
	}{
		{name: "ours", env: map[string]string{"WATCHDOG_USEC": "200000", "WATCHDOG_PID": strconv.Itoa(os.Getpid())}},
		{name: "no pid given", env: map[string]string{"WATCHDOG_USEC": "200000"}},
		{name: "another process's", env: map[string]string{"WATCHDOG_USEC": "200000", "WATCHDOG_PID": "1"}, wantOff: true},
		{name: "off", env: map[string]string{}, wantOff: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := notifySocket(t)
			t.Setenv("WATCHDOG_USEC", "")
			t.Setenv("WATCHDOG_PID", "")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var healthy atomic.Bool
			healthy.Store(true)
			var unhealthyCalls atomic.Int32
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				done <- Watchdog(ctx, healthy.Load, func() { unhealthyCalls.Add(1) })
			}()
			if tc.wantOff {
				select {
				case err := <-done:
					if err != nil {
						t.Fatal(err)
					}
				case <-time.After(2 * time.Second):
					t.Fatal("Watchdog did not return at once with the watchdog off")
				}
				if got := recv(t, c, 300*time.Millisecond); got != "" {
					t.Fatalf("watchdog off but sent %q", got)
				}
				cancel()
				return
			}
			// Healthy: WATCHDOG=1 every 100 ms (half of 200 ms).
			start := time.Now()
			for i := range 4 {
				if got := recv(t, c, time.Second); got != "WATCHDOG=1" {
					t.Fatalf("keep-alive %d: %q", i, got)
				}
			}
			if el := time.Since(start); el < 250*time.Millisecond || el > 900*time.Millisecond {
				t.Errorf("4 keep-alives took %v, want about 300 ms (first at once, then every 100 ms)", el)
			}
			// Wedged loop: no keep-alive at all, onUnhealthy once.
			healthy.Store(false)
			recv(t, c, 150*time.Millisecond) // one may have been in flight
			if got := recv(t, c, 500*time.Millisecond); got != "" {
				t.Fatalf("unhealthy but sent %q", got)
			}
			if n := unhealthyCalls.Load(); n != 1 {
				t.Errorf("onUnhealthy called %d times, want 1", n)
			}
			// Recovered: keep-alives resume.
			healthy.Store(true)
			if got := recv(t, c, time.Second); got != "WATCHDOG=1" {
				t.Fatalf("after recovery: %q", got)
			}
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(2 * time.Second):
				t.Fatal("Watchdog did not return after cancel")
			}
		})
	}
}

func TestHeartbeat(t *testing.T) {
	var h Heartbeat
	fresh := h.Fresh(50 * time.Millisecond)
	if fresh() {
		t.Fatal("fresh before the first beat")
	}
	h.Beat()
	if !fresh() {
		t.Fatal("not fresh right after a beat")
	}
	time.Sleep(80 * time.Millisecond)
	if fresh() {
		t.Fatal("still fresh 80 ms after the last beat (max age 50 ms)")
	}
	h.Beat()
	if !fresh() {
		t.Fatal("not fresh after a new beat")
	}
}

// A loop that has not turned yet (lbx starting) is not a wedged loop: no
// keep-alive and no unhealthy report until the first healthy tick; after
// it, a stall is reported once.
func TestWatchdogQuietBeforeFirstBeat(t *testing.T) {
	c := notifySocket(t)
	t.Setenv("WATCHDOG_USEC", "200000")
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	var healthy atomic.Bool
	var unhealthyCalls atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go Watchdog(ctx, healthy.Load, func() { unhealthyCalls.Add(1) })
	if got := recv(t, c, 350*time.Millisecond); got != "" {
		t.Fatalf("sent %q before the first beat", got)
	}
	if n := unhealthyCalls.Load(); n != 0 {
		t.Fatalf("onUnhealthy called %d times before the first beat, want 0", n)
	}
	healthy.Store(true)
	if got := recv(t, c, time.Second); got != "WATCHDOG=1" {
		t.Fatalf("after the first beat: %q", got)
	}
	healthy.Store(false)
	deadline := time.Now().Add(2 * time.Second)
	for unhealthyCalls.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // more unhealthy ticks
	if n := unhealthyCalls.Load(); n != 1 {
		t.Fatalf("onUnhealthy called %d times after a stall, want 1", n)
	}
}
