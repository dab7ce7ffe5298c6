package addrns_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/apply"
	"github.com/lbx-dev/lbx/internal/nstest"
	"github.com/lbx-dev/lbx/internal/testkit"
	"github.com/lbx-dev/lbx/kernel"
	"github.com/lbx-dev/lbx/plan"
	"github.com/lbx-dev/lbx/state"
)

// handAdded is the operator's address, in the subnet of lbx's.
const handAdded = "192.0.2.99/24"

// promoteNS is a namespace with link d0 up, its own address in another
// subnet (the source of VRRP adverts), so that lbx's first address in
// 192.0.2.0/24 is that subnet's primary.
func promoteNS(t *testing.T) *nstest.NS {
	nstest.Require(t)
	ns := nstest.New(t, nstest.Unique("pr"))
	ns.Link(t, "d0", "198.51.100.1/24")
	ns.Link(t, "d1") // tracked by the VRRP instance
	return ns
}

// addrs is d0's IPv4 addresses as `ip` (not lbx) reports them.
func addrs(ns *nstest.NS) string { return ns.Addrs("d0") }

// promoteSetting is d0's promote_secondaries in the namespace.
func promoteSetting(t *testing.T, ns *nstest.NS) string {
	return strings.TrimSpace(ns.Run(t, "cat", kernel.PromoteSecondariesPath("d0")))
}

// addHand adds the operator's address and checks that the kernel made it
// a secondary of lbx's (else the test would prove nothing).
func addHand(t *testing.T, ns *nstest.NS) {
	ns.Run(t, "ip", "addr", "add", handAdded, "dev", "d0")
	if out := ns.Run(t, "ip", "-4", "-o", "addr", "show", "dev", "d0", "secondary"); !strings.Contains(out, handAdded) {
		t.Fatalf("%s is not a secondary on d0:\n%s", handAdded, addrs(ns))
	}
}

// TestApplyDeleteKeepsHandAddedSecondary: lbx apply deletes its own
// address, the primary of its subnet, and the operator's address behind
// it stays; promote_secondaries is as lbx found it, whichever it was.
func TestApplyDeleteKeepsHandAddedSecondary(t *testing.T) {
	for _, setting := range []string{"0", "1"} {
		t.Run("promote_secondaries="+setting, func(t *testing.T) {
			ns := promoteNS(t)
			ns.Run(t, "sysctl", "-qw", "net.ipv4.conf.d0.promote_secondaries="+setting)
			k, err := kernel.OpenKernel(kernel.KernelOptions{Netns: ns.Name, AddressesOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { k.Close() })
			ctx := context.Background()
			d := testkit.Desired(t, "version: 1\naddresses:\n  - {address: 192.0.2.10/24, interface: d0}\n")
			if _, _, err := apply.Reconcile(ctx, k, d, plan.Options{}, apply.Options{}); err != nil {
				t.Fatalf("apply: %v", err)
			}
			addHand(t, ns)

			owned := plan.Owned{Addresses: map[state.AddressKey]bool{}}
			for key := range d.State.Addresses {
				owned.Addresses[key] = true
			}
			p, _, err := apply.Reconcile(ctx, k, testkit.Desired(t, "version: 1\n"), plan.Options{Owned: owned}, apply.Options{})
			if err != nil {
				t.Fatalf("apply of the model without the address: %v", err)
			}
			a := addrs(ns)
			if strings.Contains(a, "192.0.2.10/") || !strings.Contains(a, handAdded) {
				t.Fatalf("after lbx's delete, want 192.0.2.10 gone and %s kept; d0 has:\n%s", handAdded, a)
			}
			// The plan says what the delete keeps (promote_secondaries
			// already set or not: the plan does not read it).
			if len(p.Changes) != 1 || len(p.Changes[0].Keeps) != 1 || !strings.Contains(p.Changes[0].Reason, "promote_secondaries") {
				t.Fatalf("want one delete keeping %s, got %+v", handAdded, p.Changes)
			}
			if got := promoteSetting(t, ns); got != setting {
				t.Fatalf("promote_secondaries is %s after the delete, was %s", got, setting)
			}
		})
	}
}

const vrrpModel = `version: 1
global: {resync_interval: 300ms}
vrrp_instances:
  - name: VI_1
    interface: d0
    virtual_router_id: 9
    priority: 255
    state: MASTER
    version: 3
    advert_int: 0.1
    virtual_addresses: [{address: 192.0.2.50/24}]
    track_interfaces: [{name: d1}]
`

// TestVRRPReleaseKeepsHandAddedSecondary: lbx watch's VIP is the primary
// of its subnet; the operator's address behind it survives each way the
// daemon releases the VIP: SIGTERM, a transition out of MASTER (to FAULT:
// its tracked link goes down), and a reload that removes the instance.
func TestVRRPReleaseKeepsHandAddedSecondary(t *testing.T) {
	cases := []struct {
		name    string
		release func(t *testing.T, w *watchProc, ns *nstest.NS)
	}{
		{"stop", func(t *testing.T, w *watchProc, ns *nstest.NS) { w.stop(t) }},
		{"transition to FAULT", func(t *testing.T, w *watchProc, ns *nstest.NS) {
			ns.Run(t, "ip", "link", "set", "d1", "down")
			testkit.Eventually(t, "the VIP released", 15*time.Second, func() bool { return !strings.Contains(addrs(ns), "192.0.2.50/") })
		}},
		{"reload without the instance", func(t *testing.T, w *watchProc, ns *nstest.NS) {
			os.WriteFile(w.file, []byte("version: 1\n"), 0o644)
			w.Cmd.Process.Signal(syscall.SIGHUP)
			testkit.Eventually(t, "the VIP released", 15*time.Second, func() bool { return !strings.Contains(addrs(ns), "192.0.2.50/") })
		}},
	}
	bin := buildLBX(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ns := promoteNS(t)
			w := startWatch(t, ns, bin, vrrpModel)
			testkit.Eventually(t, "the VIP", 15*time.Second, func() bool { return strings.Contains(addrs(ns), "192.0.2.50/24") })
			addHand(t, ns)
			tc.release(t, w, ns)
			a := addrs(ns)
			if strings.Contains(a, "192.0.2.50/") || !strings.Contains(a, handAdded) {
				t.Fatalf("after the release, want 192.0.2.50 gone and %s kept; d0 has:\n%s", handAdded, a)
			}
			if got := promoteSetting(t, ns); got != "0" {
				t.Fatalf("promote_secondaries is %s after the release, was 0", got)
			}
		})
	}
}

// buildLBX is lbx built once for the package (static, as make build).
func buildLBX(t *testing.T) string {
	t.Helper()
	return filepath.Join(testkit.Binaries(t, "./cmd/lbx"), "lbx")
}

// watchProc is lbx watch in a namespace (nstest.Start: killed at
// cleanup, its log shown when the test failed) and its model file.
type watchProc struct {
	*nstest.Proc
	file string
}

func startWatch(t *testing.T, ns *nstest.NS, bin, model string) *watchProc {
	t.Helper()
	// Short: the status socket's path must fit a sockaddr_un.
	dir, err := os.MkdirTemp("", "lbxpr")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	w := &watchProc{file: filepath.Join(dir, "lbx.yaml")}
	if err := os.WriteFile(w.file, []byte(model), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := ns.Cmd(bin, "watch", "-f", w.file, "--state-dir", dir, "--run-dir", dir, "--checker", "inline")
	w.Proc = nstest.Start(t, cmd, filepath.Join(t.TempDir(), "watch.log"))
	return w
}

// stop sends SIGTERM and wants a clean exit within 15 s.
func (w *watchProc) stop(t *testing.T) { t.Helper(); w.Stop(t, 15*time.Second) }

// TestVRRPPromoteSecondariesSetting: an instance with promote_secondaries
// has the setting on its interface before its VIP is added, and lbx
// watch puts back the value it found at stop.
func TestVRRPPromoteSecondariesSetting(t *testing.T) {
	bin := buildLBX(t)
	ns := promoteNS(t)
	w := startWatch(t, ns, bin, strings.Replace(vrrpModel, "    version: 3\n", "    version: 3\n    promote_secondaries: true\n", 1))
	testkit.Eventually(t, "the VIP", 15*time.Second, func() bool { return strings.Contains(addrs(ns), "192.0.2.50/24") })
	if got := promoteSetting(t, ns); got != "1" {
		t.Fatalf("promote_secondaries is %s while the instance runs, want 1", got)
	}
	addHand(t, ns)
	w.stop(t)
	if a := addrs(ns); strings.Contains(a, "192.0.2.50/") || !strings.Contains(a, handAdded) {
		t.Fatalf("after the stop, want 192.0.2.50 gone and %s kept; d0 has:\n%s", handAdded, a)
	}
	if got := promoteSetting(t, ns); got != "0" {
		t.Fatalf("promote_secondaries is %s after the stop, was 0", got)
	}
}

// TestStaleVIPReleaseKeepsHandAddedSecondary: lbx watch killed with -9
// leaves its VIP; the operator adds an address behind it; the next lbx
// watch removes the stale VIP at start, and the operator's address stays.
func TestStaleVIPReleaseKeepsHandAddedSecondary(t *testing.T) {
	bin := buildLBX(t)
	ns := promoteNS(t)
	w := startWatch(t, ns, bin, vrrpModel)
	testkit.Eventually(t, "the VIP", 15*time.Second, func() bool { return strings.Contains(addrs(ns), "192.0.2.50/24") })
	w.Cmd.Process.Kill()
	<-w.Done
	w.Done <- nil // for the cleanup
	addHand(t, ns)
	// Started as BACKUP: the stale VIP is released first, and the
	// instance becomes MASTER again after Master_Down_Interval (3.6 s).
	backup := strings.NewReplacer("state: MASTER", "state: BACKUP", "priority: 255", "priority: 100", "advert_int: 0.1", "advert_int: 1").Replace(vrrpModel)
	w = startWatch(t, ns, bin, backup)
	testkit.Eventually(t, "the stale VIP released", 15*time.Second, func() bool { return !strings.Contains(addrs(ns), "192.0.2.50/") })
	if a := addrs(ns); !strings.Contains(a, handAdded) {
		t.Fatalf("the stale VIP's release took %s down; d0 has:\n%s", handAdded, a)
	}
	testkit.Eventually(t, "the VIP back (MASTER)", 15*time.Second, func() bool { return strings.Contains(addrs(ns), "192.0.2.50/24") })
	w.stop(t)
	if a := addrs(ns); !strings.Contains(a, handAdded) {
		t.Fatalf("after the stop, %s is gone; d0 has:\n%s", handAdded, a)
	}
}
