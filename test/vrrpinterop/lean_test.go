package vrrpinterop

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/statusd"
	"github.com/lbx-dev/lbx/internal/testkit"
)

// exe is the program an lbx peer's process runs now: lbx watch executes
// lbx-vrrp in its place for a model of VRRP alone, and lbx-vrrp executes
// lbx back for one that needs more.
func (p *peer) exe() string {
	l, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", p.cmd.Process.Pid))
	return filepath.Base(l)
}

// daemonStatus is `lbx status -o json` of an lbx peer, whole.
func (p *peer) daemonStatus() statusd.Status {
	p.t.Helper()
	out, err := p.ns.Cmd(lbxBin, "status", "-o", "json", "--run-dir", p.dir).Output()
	var st statusd.Status
	if err == nil {
		err = json.Unmarshal(out, &st)
	}
	if err != nil {
		p.t.Fatalf("%s: lbx status: %v", p.name(), err)
	}
	return st
}

// TestLeanProcessHandsBack: a model of VRRP alone runs in lbx-vrrp, master
// over keepalived. A reload that adds a static address hands the daemon
// to lbx watch's whole engine in the same process, and through the hand-
// over lbx stays master: its VIP never leaves it, keepalived never takes
// over, the static address comes, and the status shows the reload.
func TestLeanProcessHandsBack(t *testing.T) {
	a, b := setup(t, v3fast, [2]string{"lbx", "keepalived"}, 150, 100)
	b.start()
	b.waitVIP(true, v3fast.mdi(100)+5*time.Second, time.Now())
	a.start()
	converged(a, b, v3fast)
	if got := a.exe(); got != "lbx-vrrp" {
		t.Fatalf("lbx watch of a VRRP-only model runs %s, want lbx-vrrp", got)
	}
	before := len(b.out.String())
	f := filepath.Join(a.dir, "model.yaml")
	model := a.lbxModel() + "addresses:\n  - {interface: eth0, address: 10.77.9.1/32}\n"
	if err := os.WriteFile(f, []byte(model), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(a.cmd.Process.Pid, syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	static := func() bool { return strings.Contains(a.ns.Run(t, "ip", "-br", "addr", "show", "eth0"), "10.77.9.1/32") }
	end := time.Now().Add(10 * time.Second)
	for a.exe() != "lbx" || !static() {
		if time.Now().After(end) {
			t.Fatalf("after the reload lbx runs %s, static address present=%v; want lbx with it", a.exe(), static())
		}
		if !a.hasVIP() || b.hasVIP() {
			t.Fatalf("during the hand-over: lbx holds the VIP=%v, keepalived=%v", a.hasVIP(), b.hasVIP())
		}
		time.Sleep(2 * time.Millisecond)
	}
	stable(t, a, []*peer{a, b}, 10*v3fast.advert)
	if after := b.out.String()[before:]; strings.Contains(after, "Entering MASTER STATE") {
		t.Errorf("keepalived took over during the hand-over:\n%s", after)
	}
	st := a.daemonStatus()
	if len(st.VRRP) != 1 || st.VRRP[0].State != "MASTER" || st.Daemon.LastReload.IsZero() || st.Daemon.LastReloadError != "" || st.Daemon.Process != "lbx" {
		t.Errorf("status after the hand-over: %+v, daemon %+v", st.VRRP, st.Daemon)
	}
	// The hand-over is the reload `lbx apply` waits for.
	if !strings.Contains(a.out.String(), "handing the daemon over") {
		t.Errorf("no log line of the hand-over")
	}
}

// TestLeanProcessStatusAndStop: lbx-vrrp serves the status lbx watch
// serves (the daemon model that lbx plan compares included), repairs its
// VIP when it is deleted behind its back, and at a stop resigns with
// priority 0 (keepalived takes over at once, not after Master_Down) and
// removes the VIP.
func TestLeanProcessStatusAndStop(t *testing.T) {
	a, b := setup(t, v3fast, [2]string{"lbx", "keepalived"}, 150, 100)
	a.start()
	b.start()
	converged(a, b, v3fast)
	if got := a.exe(); got != "lbx-vrrp" {
		t.Fatalf("lbx watch of a VRRP-only model runs %s, want lbx-vrrp", got)
	}
	if p := a.daemonStatus().Daemon.Process; p != "lbx-vrrp" {
		t.Errorf("status says process %q, want lbx-vrrp", p)
	}
	out, err := a.ns.Cmd(lbxBin, "plan", "-f", filepath.Join(a.dir, "model.yaml"), "--run-dir", a.dir, "--state-dir", a.dir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "No changes") {
		t.Errorf("lbx plan against lbx-vrrp: %v\n%s", err, out)
	}
	a.ns.Run(t, "ip", "addr", "del", v3fast.vip, "dev", "eth0")
	a.waitVIP(true, 2*time.Second, time.Now())
	testkit.Eventually(t, "the repair in the status", 2*time.Second, func() bool {
		r := a.daemonStatus().LastReconcile
		return r != nil && r.Result == "noop"
	})
	from := time.Now()
	if err := a.term(); err != nil {
		t.Fatalf("lbx-vrrp's stop: %v", err)
	}
	if a.hasVIP() {
		t.Error("lbx-vrrp left its VIP at the stop")
	}
	// Priority 0: the backup takes over after its skew, not Master_Down.
	if took := b.waitVIP(true, v3fast.mdi(100), from); took > 2*v3fast.advert {
		t.Errorf("keepalived took over %s after the stop; priority 0 should make it at once", took)
	}
}

// TestLeanProcessLeavesLBXRoutesToTheEngine: routes an earlier model had
// lbx make (its protocol, 229) are the whole engine's to remove, so a
// VRRP-only model with one in the kernel runs in lbx watch's engine,
// which says why and removes it; without it, lbx-vrrp runs.
func TestLeanProcessLeavesLBXRoutesToTheEngine(t *testing.T) {
	a, b := setup(t, v3fast, [2]string{"lbx", "keepalived"}, 150, 100)
	a.ns.Run(t, "ip", "route", "add", "10.88.0.0/24", "via", "10.77.0.254", "proto", "229")
	a.start()
	b.start()
	converged(a, b, v3fast)
	if got := a.exe(); got != "lbx" {
		t.Errorf("with a route of lbx's in the kernel lbx watch runs %s, want its whole engine", got)
	}
	if !strings.Contains(a.out.String(), "routes of lbx's") {
		t.Errorf("lbx watch does not say why it runs its whole engine")
	}
	testkit.Eventually(t, "the engine removes the route", 5*time.Second, func() bool {
		return !strings.Contains(a.ns.Run(t, "ip", "route", "show", "proto", "229"), "10.88.0.0/24")
	})
	if err := a.term(); err != nil {
		t.Fatal(err)
	}
	a.start()
	testkit.Eventually(t, "lbx-vrrp once the route is gone", 5*time.Second, func() bool { return a.exe() == "lbx-vrrp" })
}
