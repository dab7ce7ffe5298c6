// Package paths names, once, the files an installed lbx uses: the state
// directory (ownership records), the run directory (the one-writer lock,
// the status socket of lbx watch), and the suffix that gives each network
// namespace its own. The commands (cmd/lbx and its ops), lbx watch and
// the status client and server all take them from here.
package paths

import (
	"fmt"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// StateDir holds the ownership records (one per network namespace).
const StateDir = "/var/lib/lbx"

// RunDir holds the one-writer lock and the status socket.
const RunDir = "/run/lbx"

// HostStatusSocket is where the host's lbx watch serves its status and
// lbx status connects by default.
var HostStatusSocket = statusSocketIn(RunDir, "")

// Lock is the one-writer lock file in runDir ("": RunDir) for a network
// namespace: netns NAME (--netns), or "" for the namespace lbx runs in
// (`ip netns exec`). Kernel state is per namespace, so is the lock; the
// host's is /run/lbx/lock.
func Lock(runDir, netns string) (string, error) {
	id, err := NetnsID(netns)
	return filepath.Join(orRunDir(runDir), "lock"+id), err
}

// StatusSocket is where the daemon of a network namespace serves its
// status: lbx.sock in runDir ("": RunDir) on the host, suffixed
// elsewhere.
func StatusSocket(runDir, netns string) (string, error) {
	id, err := NetnsID(netns)
	return statusSocketIn(orRunDir(runDir), id), err
}

func statusSocketIn(dir, id string) string {
	return filepath.Join(dir, "lbx"+id+".sock")
}

func orRunDir(runDir string) string {
	if runDir == "" {
		return RunDir
	}
	return runDir
}

// NetnsID names a network namespace's lock, status socket and ownership
// record: "" for the host's, "-netns-<inode>" for another (--netns NAME,
// or the one lbx runs in); the inode identifies a namespace whatever its
// name. A named namespace that cannot be read is an error naming it:
// falling back to the host's would take the host's lock and record for
// another namespace's kernel. (The namespace lbx runs in, unreadable
// without /proc, counts as the host's.)
func NetnsID(name string) (string, error) {
	path := "/proc/self/ns/net"
	if name != "" {
		path = "/run/netns/" + name
	}
	var self, host unix.Stat_t
	if err := unix.Stat(path, &self); err != nil {
		if name != "" {
			return "", fmt.Errorf("network namespace %q: %s: %w; `ip netns list` shows the names", name, path, err)
		}
		return "", nil
	}
	// PID 1's namespace is the host's. Where it cannot be read (a
	// sandbox), name the namespace anyway: every lbx in it computes the
	// same path, which is all that matters.
	if unix.Stat("/proc/1/ns/net", &host) == nil {
		if self.Ino == host.Ino {
			return "", nil
		}
	} else if name == "" && sameProcNet("/proc/1/net", "/proc/self/net") {
		// /proc/1/ns/net needs ptrace access to PID 1, which a root lbx
		// lacks under a unit's CapabilityBoundingSet= (no CAP_SYS_PTRACE);
		// /proc/PID/net does not: the same netns shows the same entries.
		return "", nil
	}
	return fmt.Sprintf("-netns-%d", self.Ino), nil
}

// sameProcNet reports whether two /proc/PID/net directories are the same
// network namespace's (the inode of an entry is per namespace).
func sameProcNet(a, b string) bool {
	var sa, sb unix.Stat_t
	return unix.Stat(a+"/dev", &sa) == nil && unix.Stat(b+"/dev", &sb) == nil && sa.Ino == sb.Ino
}
