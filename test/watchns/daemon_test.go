// Package watchns runs `lbx watch` as a process in a network namespace on
// the host (which has no IPVS: the model holds addresses and VRRP only) and
// checks the daemon's contract from outside: addresses applied, `lbx
// status`, `lbx apply` handed to the daemon as a reload, drift repaired,
// SIGTERM. IPVS-side behaviour is tested in the VM tier.
package watchns

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/nstest"
	"github.com/lbx-dev/lbx/internal/testkit"
	"github.com/lbx-dev/lbx/metrics"
)

// daemon is an lbx (or keepalived) process started by a test in a
// namespace (nstest.Start): killed at cleanup, its log (dir/NAME.log)
// shown when the test failed.
type daemon = nstest.Proc

func startDaemon(t *testing.T, ns *nstest.NS, dir, logName string, name string, args ...string) *daemon {
	t.Helper()
	return nstest.Start(t, ns.Cmd(name, args...), filepath.Join(dir, logName+".log"))
}

// startWatch starts `lbx watch -f file` (bin) with extra flags. Its state
// and run directories are dir, the test's own: nothing lands in the
// host's /var/lib/lbx or /run/lbx (MainGuardingHostDirs checks).
func startWatch(t *testing.T, ns *nstest.NS, dir, bin, file string, extra ...string) *daemon {
	t.Helper()
	args := append([]string{"watch", "-f", file, "--state-dir", dir, "--run-dir", dir}, extra...)
	return startDaemon(t, ns, dir, "watch", bin, args...)
}

// linkedNamespace is a namespace with link d0 up at 192.0.2.1/24 (the
// host kernel has no dummy links: a veth pair inside the namespace).
func linkedNamespace(t *testing.T, prefix string) *nstest.NS {
	ns := nstest.New(t, nstest.Unique(prefix))
	ns.Link(t, "d0", "192.0.2.1/24")
	return ns
}

const model1 = `version: 1
global: {resync_interval: 300ms}
addresses:
  - {address: 192.0.2.10/24, interface: d0, label: d0:one}
vrrp_instances:
  - name: VI_1
    interface: d0
    virtual_router_id: 9
    priority: 255
    state: MASTER
    version: 3
    advert_int: 0.1
    virtual_addresses: [{address: 192.0.2.50/24}]
`

func TestDaemonInNamespace(t *testing.T) {
	r := newWatchRig(t, "lw", model1)
	bin, ns, dir, file, w := r.bin, r.ns, r.dir, r.file, r.w
	addrs := func() string { out, _ := ns.Try("ip", "-o", "addr", "show", "dev", "d0"); return out }

	testkit.Eventually(t, "static and VRRP addresses", settle, func() bool {
		a := addrs()
		return strings.Contains(a, "192.0.2.10/24") && strings.Contains(a, "d0:one") && strings.Contains(a, "192.0.2.50/24")
	})

	// lbx status reads the daemon of this namespace.
	var st struct {
		Daemon      struct{ PID int } `json:"daemon"`
		VRRP        []struct{ Name, State string }
		DaemonModel json.RawMessage `json:"daemon_model"`
	}
	testkit.Eventually(t, "lbx status", settle, func() bool {
		out, err := ns.Try(bin, "status", "-o", "json", "--run-dir", dir)
		return err == nil && json.Unmarshal([]byte(out), &st) == nil && len(st.VRRP) == 1 && st.VRRP[0].State == "MASTER"
	})
	if st.Daemon.PID == 0 {
		t.Fatal("status without pid")
	}
	// The daemon's model is plan's and apply's to ask for (it is large):
	// lbx status leaves it out.
	if st.DaemonModel != nil {
		t.Fatalf("lbx status -o json carries daemon_model: %s", st.DaemonModel)
	}

	// lbx apply while the daemon runs: handed to it as a reload.
	os.WriteFile(file, []byte(strings.Replace(model1, "  - {address: 192.0.2.10/24, interface: d0, label: d0:one}\n",
		"  - {address: 192.0.2.10/24, interface: d0, label: d0:one}\n  - {address: 192.0.2.11/24, interface: d0}\n", 1)), 0o644)
	out, err := ns.Try(bin, "apply", "-f", file, "--auto-approve", "--run-dir", dir)
	if err != nil || !strings.Contains(out, "reloaded") {
		t.Fatalf("apply while watch runs: %v\n%s", err, out)
	}
	testkit.Eventually(t, "reloaded address", settle, func() bool { return strings.Contains(addrs(), "192.0.2.11/24") })

	// A VRRP setting changed by a delegated apply takes effect in the
	// running instance (no restart): the priority changes, the instance
	// stays MASTER with its address, and it makes no transition.
	transitions := func() string {
		out, _ := ns.Try(bin, "status", "-o", "json", "--run-dir", dir)
		var c struct{ Counters map[string]uint64 }
		json.Unmarshal([]byte(out), &c)
		return fmt.Sprint(c.Counters["vrrp_transitions"])
	}
	testkit.Eventually(t, "vrrp counters in status", settle, func() bool { return transitions() != "0" })
	before := transitions()
	cur, _ := os.ReadFile(file)
	os.WriteFile(file, []byte(strings.Replace(string(cur), "priority: 255", "priority: 200", 1)), 0o644)
	if out, err := ns.Try(bin, "apply", "-f", file, "--auto-approve", "--run-dir", dir); err != nil {
		t.Fatalf("apply of a VRRP priority change: %v\n%s", err, out)
	}
	var st2 struct {
		VRRP []struct {
			State    string
			Priority int
		}
	}
	testkit.Eventually(t, "priority 200 in the running instance", settle, func() bool {
		out, err := ns.Try(bin, "status", "-o", "json", "--run-dir", dir)
		return err == nil && json.Unmarshal([]byte(out), &st2) == nil && len(st2.VRRP) == 1 && st2.VRRP[0].Priority == 200
	})
	time.Sleep(1200 * time.Millisecond) // counters reach status once a second
	if st2.VRRP[0].State != "MASTER" || !strings.Contains(addrs(), "192.0.2.50/24") || transitions() != before {
		t.Fatalf("after a live priority change: state %s, transitions %s -> %s, addresses %s", st2.VRRP[0].State, before, transitions(), addrs())
	}

	// A different model file is refused: one writer.
	other := filepath.Join(dir, "other.yaml")
	os.WriteFile(other, []byte("version: 1\n"), 0o644)
	if out, err := ns.Try(bin, "apply", "-f", other, "--auto-approve", "--run-dir", dir); err == nil || !strings.Contains(out, "lbx watch (pid") {
		t.Fatalf("apply of another model while watch runs: %v\n%s", err, out)
	}

	// Drift: an address deleted by hand comes back.
	ns.Run(t, "ip", "addr", "del", "192.0.2.10/24", "dev", "d0")
	testkit.Eventually(t, "hand-deleted address restored", settle, func() bool { return strings.Contains(addrs(), "192.0.2.10/24") })

	// SIGTERM: clean exit, VRRP address released, static ones kept.
	w.Stop(t, stopWithin)
	a := addrs()
	if strings.Contains(a, "192.0.2.50/24") || !strings.Contains(a, "192.0.2.10/24") {
		t.Fatalf("after stop: %s", a)
	}
}

// TestVRRPMetricsFollowEveryChange: lbx_vrrp_state and lbx_vrrp_priority
// follow changes that need no kernel change: an instance in FAULT from
// the start (its tracked link is down) and a master whose track script
// fails (priority 200 - 30, no transition).
func TestVRRPMetricsFollowEveryChange(t *testing.T) {
	nstest.Require(t)
	bin := lbxBinary(t)
	ns := linkedNamespace(t, "lm")
	ns.Run(t, "ip", "link", "add", "d1", "type", "veth", "peer", "name", "d1p") // stays down
	dir := t.TempDir()
	flag := filepath.Join(dir, "ok")
	os.WriteFile(flag, nil, 0o644)
	file := filepath.Join(dir, "lbx.yaml")
	os.WriteFile(file, []byte(`version: 1
scripts:
  flag: {script: "test -e `+flag+`", interval: 100ms, weight: -30, fall: 1, rise: 1}
vrrp_instances:
  - {name: VI_F, interface: d0, virtual_router_id: 9, priority: 100, version: 3, advert_int: 0.1,
     track_interfaces: [{name: d1}], virtual_addresses: [{address: 192.0.2.50/24}]}
  - {name: VI_T, interface: d0, virtual_router_id: 10, priority: 200, version: 3, advert_int: 0.1,
     track_scripts: [{name: flag}], virtual_addresses: [{address: 192.0.2.60/24}]}
`), 0o644)
	startWatch(t, ns, dir, bin, file, "--metrics-addr", "127.0.0.1:9650", "--status-socket", filepath.Join(dir, "s.sock"))
	// sample NAME INSTANCE: the value of that series, "" when missing.
	sample := func(name, inst string) string {
		out, _ := ns.HTTPGet("http://127.0.0.1:9650/metrics")
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, name+"{") && strings.Contains(l, `iname="`+inst+`"`) {
				return l[strings.LastIndexByte(l, ' ')+1:]
			}
		}
		return ""
	}
	fault := fmt.Sprint(metrics.StateValue("FAULT"))
	testkit.Eventually(t, "lbx_vrrp_state of VI_F = FAULT ("+fault+")", settle, func() bool { return sample("lbx_vrrp_state", "VI_F") == fault })
	master := fmt.Sprint(metrics.StateValue("MASTER"))
	testkit.Eventually(t, "VI_T MASTER at priority 200", settle, func() bool {
		return sample("lbx_vrrp_state", "VI_T") == master && sample("lbx_vrrp_priority", "VI_T") == "200"
	})
	os.Remove(flag)
	testkit.Eventually(t, "lbx_vrrp_priority of VI_T = 170 once its script fails", settle, func() bool { return sample("lbx_vrrp_priority", "VI_T") == "170" })
}
