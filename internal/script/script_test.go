package script

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "child.pid")
	for _, tc := range []struct {
		name    string
		cmdline string
		timeout time.Duration
		code    int // exit status wanted; -1: timeout
		within  time.Duration
		out     string
	}{
		{"exit 0 with output", "echo hello; echo oops >&2", time.Second, 0, time.Second, "hello\noops\n"},
		{"exit status", "exit 3", time.Second, 3, time.Second, ""},
		// A notify script that mails in the background: it has ended, and
		// the child holding its output must not hold lbx.
		{"background child", "sleep 5 & echo started", 10 * time.Second, 0, time.Second, "started\n"},
		// A hanging script and the child it waits for are killed at the
		// deadline, the group with it.
		{"timeout kills the group", "sleep 100 & echo $! >" + pidfile + "; wait", 200 * time.Millisecond, -1, time.Second, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			out, err := Shell(context.Background(), tc.cmdline, Options{Timeout: tc.timeout})
			if took := time.Since(start); took > tc.within {
				t.Errorf("took %s, want within %s", took, tc.within)
			}
			if out != tc.out {
				t.Errorf("output %q, want %q", out, tc.out)
			}
			var ee *exec.ExitError
			switch {
			case tc.code == -1:
				if !errors.Is(err, ErrTimeout) {
					t.Fatalf("err %v, want a timeout", err)
				}
				b, _ := os.ReadFile(pidfile)
				var pid int
				for _, c := range strings.TrimSpace(string(b)) {
					pid = pid*10 + int(c-'0')
				}
				time.Sleep(50 * time.Millisecond)
				if pid == 0 || alive(pid) {
					t.Errorf("the script's child %d lives on", pid)
				}
			case tc.code == 0 && err != nil:
				t.Errorf("err %v, want nil", err)
			case tc.code > 0 && (!errors.As(err, &ee) || ee.ExitCode() != tc.code):
				t.Errorf("err %v, want exit status %d", err, tc.code)
			}
		})
	}
}

// TestStoppedIsNotATimeout: a script killed because its caller cancelled
// it (lbx stopping) says so, and is not reported as having timed out after
// a timeout it never reached; a caller's deadline is a timeout.
func TestStoppedIsNotATimeout(t *testing.T) {
	tests := []struct {
		name   string
		ctx    func() (context.Context, context.CancelFunc)
		want   error
		notErr error
	}{
		{"cancelled", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(100*time.Millisecond, cancel)
			return ctx, cancel
		}, ErrStopped, ErrTimeout},
		{"caller's deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 100*time.Millisecond)
		}, ErrTimeout, ErrStopped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := tt.ctx()
			defer cancel()
			_, err := Shell(ctx, "sleep 30", Options{Timeout: 30 * time.Second})
			if !errors.Is(err, tt.want) || errors.Is(err, tt.notErr) {
				t.Errorf("err %v, want %v and not %v", err, tt.want, tt.notErr)
			}
		})
	}
}

// alive: pid runs (a zombie, killed and not yet reaped by init, does not).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return len(f) > 0 && f[0] != "Z"
}

func TestOutputIsBounded(t *testing.T) {
	out, err := Shell(context.Background(), "head -c 100000 /dev/zero", Options{Timeout: 5 * time.Second})
	if err != nil || len(out) != maxOutput {
		t.Errorf("kept %d bytes (err %v), want %d", len(out), err, maxOutput)
	}
}

func TestArgs(t *testing.T) {
	out, err := Shell(context.Background(), `echo "$1-$2"`, Options{Timeout: time.Second}, "a", "b c")
	if err != nil || out != "a-b c\n" {
		t.Errorf("got %q, %v", out, err)
	}
}
