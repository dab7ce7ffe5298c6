package ops

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSameProcNet: /proc/PID/net tells namespaces apart without ptrace
// access (the fallback lbx uses under systemd's capability bound): the
// same for two processes of one namespace, different for a process in a
// namespace of its own.
func TestSameProcNet(t *testing.T) {
	if !sameProcNet("/proc/self/net", "/proc/"+strconv.Itoa(os.Getppid())+"/net") {
		t.Fatal("this process and its parent share a namespace, but /proc/PID/net differ")
	}
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("needs root for a network namespace (CI=true: no skip)")
		}
		t.Skip("needs root for a network namespace")
	}
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
