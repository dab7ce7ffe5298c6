package nstest

import (
	"os/exec"
	"strings"
	"syscall"
	"testing"
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
