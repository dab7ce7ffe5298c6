package footprint

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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

// TestWithoutHugePages: a process started with huge pages on runs again,
// once, as the same process (same PID) with them off from its first page;
// one started with them off (as lbx-check under lbx watch) runs on.
func TestWithoutHugePages(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, thpOn string
		want        []string // log lines without their pid
	}{
		{"huge pages on", "1", []string{"start thp_disabled=0", "start thp_disabled=1", "returned thp_disabled=1"}},
		{"huge pages off already", "0", []string{"start thp_disabled=1", "returned thp_disabled=1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log := filepath.Join(t.TempDir(), "log")
			if err := os.WriteFile(log, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(exe, "-test.run", "^$")
			cmd.Env = append(os.Environ(), reexecLog+"="+log, "LBX_FOOTPRINT_THP_ON="+tc.thpOn)
			// The child inherits this process's flag: set it, as lbx
			// watch does for lbx-check.
			if err := NoHugePages(); err != nil {
				t.Fatal(err)
			}
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			data, err := os.ReadFile(log)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			pids := map[string]bool{}
			for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
				f := strings.Fields(l)
				if len(f) != 3 {
					t.Fatalf("log line %q", l)
				}
				pids[f[1]] = true
				got = append(got, f[0]+" "+f[2])
			}
			if !slices.Equal(got, tc.want) || len(pids) != 1 {
				t.Errorf("log:\n%s\nwant %q from one pid", data, tc.want)
			}
		})
	}
}
