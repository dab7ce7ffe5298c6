package nstest

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Background starts cmd, a daemon the test talks to (lbx watch in a
// namespace), with its stderr kept. At the test's end it gets a SIGTERM
// and is waited for, and its stderr is logged, under name, if the test
// failed: no daemon outlives its test.
func Background(t testing.TB, cmd *exec.Cmd, name string) {
	t.Helper()
	var log strings.Builder
	cmd.Stderr = &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait() // also ends the copying into log
		if t.Failed() {
			t.Logf("%s's log:\n%s", name, log.String())
		}
	})
}

// Proc is a daemon a test drives and stops itself (signals, kill -9,
// restarts): Start runs it with its output in a log file, kills it at the
// test's end if it still runs, and logs the file if the test failed.
type Proc struct {
	Cmd *exec.Cmd
	// Done receives Wait's result once; whoever takes it puts it back,
	// so that the cleanup (and a later Stop) can take it too.
	Done chan error
}

// Start starts cmd with its stdout and stderr in logPath.
func Start(t testing.TB, cmd *exec.Cmd, logPath string) *Proc {
	t.Helper()
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	p := &Proc{Cmd: cmd, Done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatal(err)
	}
	go func() { p.Done <- cmd.Wait(); logf.Close() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		p.Done <- <-p.Done
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("%s log:\n%s", logPath, b)
		}
	})
	return p
}

// Stop sends SIGTERM and fails the test unless the process exits cleanly
// within the given time.
func (p *Proc) Stop(t testing.TB, within time.Duration) {
	t.Helper()
	p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.Done:
		p.Done <- err
		if err != nil {
			t.Fatalf("%s exit: %v", p.Cmd.Path, err)
		}
	case <-time.After(within):
		t.Fatalf("%s did not stop on SIGTERM within %v", p.Cmd.Path, within)
	}
}
