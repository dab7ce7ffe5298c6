package vrrpd

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestStartShortage: a track script that cannot start for want of file
// descriptors is no failure; one that ran and failed, timed out, or cannot
// start for good is. The shortage is real: a child test process lowers
// its own fd limit to what it has open, then runs the script.
func TestStartShortage(t *testing.T) {
	if os.Getenv("LBX_SHORTAGE_CHILD") != "" {
		// The runtime makes its poller (an epoll fd and an eventfd) at
		// the first timer and dies if it cannot; a daemon has it long
		// before any shortage, so make it before the limit is lowered.
		time.AfterFunc(time.Hour, func() {}).Stop()
		fds, _ := os.ReadDir("/proc/self/fd")
		lim := syscall.Rlimit{Cur: uint64(len(fds)), Max: uint64(len(fds))}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			fmt.Println("setrlimit:", err)
			os.Exit(1)
		}
		_, _, err := runOnce(context.Background(), "true", time.Second, nil)
		fmt.Printf("shortage=%v err=%v\n", startShortage(err), err)
		os.Exit(0)
	}
	cases := []struct {
		name, cmd string
		timeout   time.Duration
		env       bool // run in the child with no fd left
		want      bool
	}{
		{name: "fd limit reached", cmd: "true", timeout: time.Second, env: true, want: true},
		{name: "exit status 1", cmd: "exit 1", timeout: time.Second},
		{name: "killed by a signal", cmd: "kill -9 $$", timeout: time.Second},
		{name: "timed out", cmd: "sleep 5", timeout: 100 * time.Millisecond},
		{name: "succeeded", cmd: "true", timeout: time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.env {
				cmd := exec.Command(os.Args[0], "-test.run=^TestStartShortage$")
				cmd.Env = append(os.Environ(), "LBX_SHORTAGE_CHILD=1")
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("child: %v\n%s", err, out)
				}
				if want := fmt.Sprintf("shortage=%v", c.want); !strings.Contains(string(out), want) {
					t.Fatalf("child said %q, want %s", out, want)
				}
				return
			}
			_, _, err := runOnce(context.Background(), c.cmd, c.timeout, nil)
			if got := startShortage(err); got != c.want {
				t.Fatalf("startShortage(%v) = %v, want %v", err, got, c.want)
			}
		})
	}
	// A start failure that is no shortage: permanent, counted.
	if startShortage(&os.PathError{Op: "fork/exec", Path: "/bin/sh", Err: syscall.ENOENT}) {
		t.Error("ENOENT taken for a shortage")
	}
	if !startShortage(fmt.Errorf("start: %w", &os.PathError{Op: "fork/exec", Path: "/bin/sh", Err: syscall.ENOMEM})) {
		t.Error("ENOMEM not taken for a shortage")
	}
}
