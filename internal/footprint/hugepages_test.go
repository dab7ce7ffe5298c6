package footprint

import (
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/lbx-dev/lbx/internal/testkit"
)

// TestNoHugePages checks the flag on this process and on a process it
// starts, as the kernel reports them: PR_GET_THP_DISABLE here, the
// THP_enabled line of /proc/self/status (Linux 5.0 and later) in the
// child.
func TestNoHugePages(t *testing.T) {
	if err := NoHugePages(); err != nil {
		t.Fatal(err)
	}
	got, err := unix.PrctlRetInt(unix.PR_GET_THP_DISABLE, 0, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got != 1 {
		t.Fatalf("PR_GET_THP_DISABLE = %d after NoHugePages, want 1", got)
	}
	out, err := exec.Command("cat", "/proc/self/status").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if name, value, ok := strings.Cut(line, ":"); ok && name == "THP_enabled" {
			if v := strings.TrimSpace(value); v != "0" {
				t.Fatalf("child's THP_enabled = %s, want 0 (inherited)", v)
			}
			return
		}
	}
	testkit.Skip(t, "no THP_enabled line in /proc/self/status (kernel before 5.0)")
}
