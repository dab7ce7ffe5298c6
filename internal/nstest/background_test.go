package nstest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBackground: the daemon started in a subtest gets its SIGTERM and is
// reaped when the subtest ends, its stderr kept.
func TestBackground(t *testing.T) {
	ready := filepath.Join(t.TempDir(), "ready")
	cmd := exec.Command("sh", "-c", `trap 'echo got TERM >&2; exit 0' TERM; echo started >&2; touch "$1"; while :; do sleep 0.05; done`, "sh", ready)
	t.Run("daemon", func(t *testing.T) {
		Background(t, cmd, "sh")
		// Up to its trap: a SIGTERM before that would kill the shell.
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if _, err := os.Stat(ready); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the shell never set its trap")
			}
		}
	})
	if cmd.ProcessState == nil {
		t.Fatal("the daemon was not waited for at the end of its test")
	}
	if !cmd.ProcessState.Success() {
		t.Errorf("the daemon ended %v, want its SIGTERM trap's exit 0", cmd.ProcessState)
	}
	if log := cmd.Stderr.(*strings.Builder).String(); log != "started\ngot TERM\n" {
		t.Errorf("stderr %q, want started and got TERM", log)
	}
}
