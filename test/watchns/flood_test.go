package watchns

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/nstest"
	"github.com/lbx-dev/lbx/internal/testkit"
)

// floodLimit is the daemon's RLIMIT_NOFILE (soft and hard, so that Go's
// raise of the soft limit to the hard one at start gives nothing): small
// enough that a flood of a few thousand connections would exhaust it.
const floodLimit = 256

// trackedMaster prepares a daemon's run: lbx built, a namespace (named
// from prefix) with link d0, and in dir a model of one VRRPv3 instance,
// MASTER at once, tracking a script that runs every 100 ms (it needs a
// file descriptor each time: the canary of an fd shortage); sock is where
// its status socket goes.
func trackedMaster(t *testing.T, prefix string) (bin string, ns *nstest.NS, dir, sock, file string) {
	t.Helper()
	bin = lbxBinary(t)
	ns = linkedNamespace(t, prefix)
	dir = t.TempDir()
	sock = filepath.Join(dir, "s.sock")
	file = filepath.Join(dir, "lbx.yaml")
	if err := os.WriteFile(file, []byte(`version: 1
scripts:
  ok: {script: "/bin/true", interval: 100ms, fall: 1, rise: 1}
vrrp_instances:
  - {name: VI_1, interface: d0, virtual_router_id: 9, priority: 255, state: MASTER, version: 3, advert_int: 0.1,
     track_scripts: [{name: ok}], virtual_addresses: [{address: 192.0.2.50/24}]}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	return bin, ns, dir, sock, file
}

// TestFloodKeepsVIP is the attack of issue 26 item 1: a local user holds
// thousands of idle connections on the metrics port and the status socket
// of a daemon whose fd budget is small. The daemon must keep its fd use
// bounded (so the track script, which needs /dev/null, keeps passing), keep
// answering `lbx status` during and after the flood, and stay MASTER with
// its VIP and without a transition.
func TestFloodKeepsVIP(t *testing.T) {
	nstest.Require(t, "prlimit")
	bin, ns, dir, sock, file := trackedMaster(t, "lf")
	lim := fmt.Sprintf("--nofile=%d:%d", floodLimit, floodLimit)
	startDaemon(t, ns, dir, "watch", "prlimit", lim, bin, "watch", "-f", file, "--state-dir", dir, "--run-dir", dir,
		"--metrics-addr", "127.0.0.1:9650", "--status-socket", sock)

	st := waitMaster(t, ns, bin, sock)
	fds := func() int { e, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", st.pid)); return len(e) }
	base, transitions := fds(), st.transitions

	// The flood: idle TCP connections on the metrics port (from inside
	// the namespace) and unix connections on the status socket, held for
	// 3 s (less than any of the servers' timeouts), then released.
	var held []net.Conn
	ns.In(t, func() { held = dialMany(t, "tcp", "127.0.0.1:9650", 2000) })
	held = append(held, dialMany(t, "unix", sock, 1000)...)
	peak, answered, asked := 0, 0, 0
	var failure error
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		peak = max(peak, fds())
		asked++
		if _, err := status(ns, bin, sock); err == nil {
			answered++
		} else {
			failure = err
		}
	}
	for _, c := range held {
		c.Close()
	}
	t.Logf("flood: %d connections held; daemon fds %d before, peak %d (limit %d); status answered %d of %d times during the flood",
		len(held), base, peak, floodLimit, answered, asked)

	// Bounded: 64 metrics connections, 8 status clients, a few in passing.
	if bound := base + 64 + 8 + 8; peak > bound {
		t.Errorf("daemon fds peaked at %d during the flood, want at most %d", peak, bound)
	}
	if answered < asked {
		t.Errorf("lbx status answered %d of %d times during the flood; last failure: %v", answered, asked, failure)
	}
	after := waitMaster(t, ns, bin, sock)
	testkit.Eventually(t, fmt.Sprintf("daemon fds back to %d (+4)", base), settle, func() bool { return fds() <= base+4 })
	if after.transitions != transitions {
		t.Errorf("vrrp_transitions %d -> %d: the instance left MASTER during the flood", transitions, after.transitions)
	}
	if a := ns.Run(t, "ip", "-o", "addr", "show", "dev", "d0"); !strings.Contains(a, "192.0.2.50/24") {
		t.Errorf("VIP gone after the flood: %s", a)
	}
}

// floodStatus is what the flood test reads from `lbx status -o json`.
type floodStatus struct {
	pid, transitions int
	state            string
}

func status(ns *nstest.NS, bin, sock string) (floodStatus, error) {
	out, err := ns.Cmd(bin, "status", "-o", "json", "--socket", sock).Output()
	if ee, ok := err.(*exec.ExitError); ok {
		return floodStatus{}, fmt.Errorf("lbx status: %v: %s", err, ee.Stderr)
	} else if err != nil {
		return floodStatus{}, err
	}
	var st struct {
		Daemon   struct{ PID int }
		VRRP     []struct{ State string }
		Counters map[string]int
	}
	if err := json.Unmarshal(out, &st); err != nil || len(st.VRRP) != 1 {
		return floodStatus{}, fmt.Errorf("status: %v: %s", err, out)
	}
	return floodStatus{st.Daemon.PID, st.Counters["vrrp_transitions"], st.VRRP[0].State}, nil
}

// waitMaster waits (15 s) until `lbx status` answers with VI_1 MASTER and
// its transition to MASTER counted (counters reach status once a second).
func waitMaster(t *testing.T, ns *nstest.NS, bin, sock string) floodStatus {
	t.Helper()
	var st floodStatus
	var err error
	testkit.Eventually(t, "lbx status: VI_1 MASTER", settle, func() bool {
		st, err = status(ns, bin, sock)
		return err == nil && st.state == "MASTER" && st.transitions > 0
	})
	return st
}

// dialMany opens up to n connections to addr and returns them; dials that
// fail (the kernel's backlog is full) are counted, not fatal: a flood need
// not get every connection through.
func dialMany(t *testing.T, network, addr string, n int) []net.Conn {
	t.Helper()
	var conns []net.Conn
	failed := 0
	for range n {
		c, err := net.DialTimeout(network, addr, time.Second)
		if err != nil {
			if failed++; failed > 10 {
				break
			}
			continue
		}
		conns = append(conns, c)
	}
	t.Logf("%s %s: %d connections open, %d dials failed", network, addr, len(conns), failed)
	return conns
}
