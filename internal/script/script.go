// Package script runs the operator's scripts (notify, quorum, track and
// MISC_CHECK commands) so that none can hold lbx up: each runs in its own
// process group, the whole group is killed at the deadline, and a child
// the script leaves in the background (`mail ... &`) cannot keep lbx
// waiting on its output.
package script

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// ErrTimeout is the error of a script killed at its deadline.
var ErrTimeout = errors.New("timed out")

// ErrStopped is the error of a script killed because its caller gave up
// on it before any deadline (lbx stopping): no verdict on what it checks,
// and no timeout to report.
var ErrStopped = errors.New("stopped")

// maxOutput bounds what is kept of a script's output (for a log line).
const maxOutput = 4096

// Options tune a run.
type Options struct {
	// Timeout bounds the run; at it the process group is killed.
	Timeout time.Duration
	// User runs the command as that user (uid, gid, supplementary
	// groups; HOME, USER and LOGNAME set to the user's). nil: as lbx's
	// own user.
	User *User
}

// Run runs argv and waits for it, at most until ctx ends or the timeout
// passes, when it kills the process group. It returns the start of the
// combined output, and an error: nil on exit status 0, an *exec.ExitError
// for another status or a signal, an error wrapping ErrTimeout at the
// deadline (its own or ctx's), ErrStopped when ctx was cancelled first.
func Run(ctx context.Context, argv []string, o Options) (string, error) {
	if len(argv) == 0 {
		return "", errors.New("empty command")
	}
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: o.User.credential()}
	// From /, as keepalived (a daemon, chdir("/")): a relative path in a
	// command means the same to lbx's checks and to the script, and a
	// user never starts in a directory it may not enter.
	cmd.Dir = "/"
	if c := cmd.SysProcAttr.Credential; c != nil {
		cmd.Env = append(os.Environ(), "HOME="+o.User.Home, "USER="+o.User.Name, "LOGNAME="+o.User.Name)
	}
	// The whole group, not just the leader: a shell's children would
	// otherwise live on.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// A background child keeps the output pipe open after the script
	// exits: stop reading it a moment after the exit.
	cmd.WaitDelay = 100 * time.Millisecond
	out := &limitedBuffer{max: maxOutput}
	cmd.Stdout, cmd.Stderr = out, out
	err := cmd.Run()
	if ctx.Err() != nil && (cmd.ProcessState == nil || !cmd.ProcessState.Exited()) {
		if errors.Is(ctx.Err(), context.Canceled) {
			return out.String(), fmt.Errorf("%w before it ended (process group killed)", ErrStopped)
		}
		return out.String(), fmt.Errorf("%w after %s (process group killed)", ErrTimeout, o.Timeout)
	}
	if errors.Is(err, exec.ErrWaitDelay) {
		err = nil // exited 0; only its background child held the output
	}
	return out.String(), err
}

// Shell is Run of a command line through /bin/sh -c, with args as $1...
func Shell(ctx context.Context, cmdline string, o Options, args ...string) (string, error) {
	argv := []string{"/bin/sh", "-c", cmdline}
	if len(args) > 0 {
		argv = append(append(argv, "sh"), args...)
	}
	return Run(ctx, argv, o)
}

// limitedBuffer keeps the first max bytes written and drops the rest
// (still reporting them written, so the script never blocks on a pipe).
// Not an embedded bytes.Buffer: its ReadFrom would bypass the bound.
type limitedBuffer struct {
	buf bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string { return b.buf.String() }
