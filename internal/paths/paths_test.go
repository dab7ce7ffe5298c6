package paths

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/testkit"
)

// TestSameProcNet: /proc/PID/net tells namespaces apart without ptrace
// access (the fallback lbx uses under systemd's capability bound): the
// same for two processes of one namespace, different for a process in a
// namespace of its own.
func TestSameProcNet(t *testing.T) {
	if !sameProcNet("/proc/self/net", "/proc/"+strconv.Itoa(os.Getppid())+"/net") {
		t.Fatal("this process and its parent share a namespace, but /proc/PID/net differ")
	}
	testkit.RequireRoot(t, "a network namespace")
	cmd := exec.Command("unshare", "--net", "sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatalf("unshare --net: %v", err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	other := "/proc/" + strconv.Itoa(cmd.Process.Pid) + "/net"
	// unshare execs sleep once the namespace is made: wait for that.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if exe, _ := os.Readlink("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/exe"); strings.HasSuffix(exe, "/sleep") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("unshare never ran sleep")
		}
	}
	if sameProcNet("/proc/self/net", other) {
		t.Fatal("a process in a new network namespace looks like ours")
	}
}

// TestPaths: the lock and the status socket are in the run directory
// given, RunDir when none is, and carry the namespace's suffix; a name no
// namespace has is an error naming it, never the host's paths.
func TestPaths(t *testing.T) {
	id, err := NetnsID("")
	if err != nil {
		t.Fatal(err)
	}
	typo := "lbx-no-such-netns-" + strconv.Itoa(os.Getpid())
	for _, tc := range []struct {
		name, runDir, netns  string
		wantLock, wantSocket string
		wantErr              bool
	}{
		{"default run directory", "", "", RunDir + "/lock" + id, RunDir + "/lbx" + id + ".sock", false},
		{"a test's run directory", "/tmp/x", "", "/tmp/x/lock" + id, "/tmp/x/lbx" + id + ".sock", false},
		{"a namespace that does not exist", "/tmp/x", typo, "", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lock, lerr := Lock(tc.runDir, tc.netns)
			sock, serr := StatusSocket(tc.runDir, tc.netns)
			if tc.wantErr {
				for what, err := range map[string]error{"lock": lerr, "socket": serr} {
					if err == nil || !strings.Contains(err.Error(), tc.netns) {
						t.Errorf("%s: %v, want an error naming %s", what, err, tc.netns)
					}
				}
				return
			}
			if lerr != nil || serr != nil || lock != tc.wantLock || sock != tc.wantSocket {
				t.Errorf("lock %q (%v), socket %q (%v); want %q, %q", lock, lerr, sock, serr, tc.wantLock, tc.wantSocket)
			}
		})
	}
	if id == "" && HostStatusSocket != RunDir+"/lbx.sock" {
		t.Errorf("HostStatusSocket %q", HostStatusSocket)
	}
}
