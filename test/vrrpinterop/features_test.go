package vrrpinterop

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/nstest"
	"github.com/lbx-dev/lbx/internal/testkit"
)

// startModel starts lbx watch with a model written by the test.
func (p *peer) startModel(m string) {
	p.t.Helper()
	p.kind = "lbx"
	p.out = &syncBuf{}
	f := filepath.Join(p.dir, "model.yaml")
	if err := os.WriteFile(f, []byte(m), 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.cmd = p.ns.Cmd(lbxBin, "watch", "-f", f, "--state-dir", p.dir, "--run-dir", p.dir, "--stats-file", filepath.Join(p.dir, "stats.json"))
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	cmd := p.cmd
	p.t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		if strings.Contains(p.out.String(), "WARNING: DATA RACE") {
			p.t.Errorf("%s: data race (LBX_RACE=1)", p.name())
		}
		if p.t.Failed() {
			p.t.Logf("--- %s output:\n%s", p.name(), p.out.String())
		}
	})
}

func hasAddr(p *peer, vip string) bool {
	out, _ := p.ns.Try("ip", "-o", "addr", "show", "dev", "eth0")
	return strings.Contains(out, " "+vip+"/")
}

func writeScript(t *testing.T, dir, name, body string) string {
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func instanceYAML(name string, vrid, prio int, vip string, extra string) string {
	return fmt.Sprintf(`  - name: %s
    interface: eth0
    virtual_router_id: %d
    priority: %d
    version: 3
    advert_int: 0.1
    virtual_addresses: [{address: %s/24}]
%s`, name, vrid, prio, vip, extra)
}

// notify_master and the generic notify run with keepalived's arguments
// (INSTANCE name state priority), including STOP on SIGTERM.
func TestNotifyScripts(t *testing.T) {
	ps, _ := lan(t, "lbx")
	p := ps[0]
	p.vr = v3fast
	p.prio = 150
	log := filepath.Join(p.dir, "notify.log")
	any := writeScript(t, p.dir, "any.sh", `echo "any $*" >> `+log)
	master := writeScript(t, p.dir, "master.sh", `echo "master" >> `+log)
	p.startModel("version: 1\nglobal: {enable_script_security: true, script_user: root}\nvrrp_instances:\n" +
		instanceYAML("VI_1", 51, 150, "10.77.0.100", fmt.Sprintf("    notify: {master: %s, any: %s}\n", master, any)))
	read := func() string { b, _ := os.ReadFile(log); return string(b) }
	testkit.Eventually(t, "notify MASTER", 5*time.Second, func() bool { return strings.Contains(read(), "any INSTANCE VI_1 MASTER 150") })
	for _, want := range []string{"any INSTANCE VI_1 BACKUP 150", "master"} {
		if !strings.Contains(read(), want) {
			t.Fatalf("notify log lacks %q:\n%s", want, read())
		}
	}
	if err := p.term(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	if !strings.Contains(read(), "any INSTANCE VI_1 STOP 150") {
		t.Fatalf("no STOP notification:\n%s", read())
	}
}

// enable_script_security refuses a script others can write, at start,
// with a message naming it.
func TestScriptSecurityRefuses(t *testing.T) {
	ps, _ := lan(t, "lbx")
	p := ps[0]
	s := writeScript(t, p.dir, "open.sh", "exit 0")
	os.Chmod(s, 0o777)
	p.startModel("version: 1\nglobal: {enable_script_security: true}\nvrrp_instances:\n" +
		instanceYAML("VI_1", 51, 150, "10.77.0.100", "    notify: {master: "+s+"}\n"))
	err := p.cmd.Wait()
	if err == nil || !strings.Contains(p.out.String(), "refused") || !strings.Contains(p.out.String(), s) {
		t.Fatalf("exit %v, output:\n%s", err, p.out.String())
	}
}

func twoLBX(t *testing.T) (a, b *peer) {
	ps, _ := lan(t, "lbx", "lbx")
	for _, p := range ps {
		p.ns.Run(t, "ip", "link", "add", "trk0", "type", "veth", "peer", "name", "trk0p") // no dummy module on the host
		p.ns.Run(t, "ip", "link", "set", "trk0p", "up")
		p.ns.Run(t, "ip", "link", "set", "trk0", "up")
	}
	return ps[0], ps[1]
}

// track_interface with weight 0: link down → FAULT (address released, the
// peer takes over); link up → back, and preempts.
func TestTrackInterfaceFault(t *testing.T) {
	a, b := twoLBX(t)
	a.startModel("version: 1\nvrrp_instances:\n" + instanceYAML("VI_1", 51, 150, "10.77.0.100", "    track_interfaces: [{name: trk0}]\n"))
	b.startModel("version: 1\nvrrp_instances:\n" + instanceYAML("VI_1", 51, 100, "10.77.0.100", ""))
	testkit.Eventually(t, "a master", 5*time.Second, func() bool { return hasAddr(a, "10.77.0.100") && !hasAddr(b, "10.77.0.100") })
	a.ns.Run(t, "ip", "link", "set", "trk0", "down")
	// FAULT sends priority 0: b takes over after Skew_Time.
	testkit.Eventually(t, "b master after a's FAULT", time.Second, func() bool { return hasAddr(b, "10.77.0.100") && !hasAddr(a, "10.77.0.100") })
	if !strings.Contains(a.out.String(), "to=FAULT") {
		t.Fatalf("no FAULT transition logged:\n%s", a.out.String())
	}
	a.ns.Run(t, "ip", "link", "set", "trk0", "up")
	testkit.Eventually(t, "a preempts back", 2*time.Second, func() bool { return hasAddr(a, "10.77.0.100") && !hasAddr(b, "10.77.0.100") })
}

// track_script with a negative weight: the failing script lowers the
// master's priority below the backup's, which preempts.
func TestTrackScriptWeight(t *testing.T) {
	a, b := twoLBX(t)
	flag := filepath.Join(a.dir, "healthy")
	os.WriteFile(flag, nil, 0o644)
	a.startModel(fmt.Sprintf("version: 1\nscripts:\n  chk: {script: \"test -e %s\", interval: 0.1s, weight: -60, fall: 2, rise: 2}\nvrrp_instances:\n", flag) +
		instanceYAML("VI_1", 51, 150, "10.77.0.100", "    track_scripts: [{name: chk}]\n"))
	b.startModel("version: 1\nvrrp_instances:\n" + instanceYAML("VI_1", 51, 100, "10.77.0.100", ""))
	testkit.Eventually(t, "a master", 5*time.Second, func() bool { return hasAddr(a, "10.77.0.100") && !hasAddr(b, "10.77.0.100") })
	os.Remove(flag)
	testkit.Eventually(t, "b preempts a at priority 90", 3*time.Second, func() bool { return hasAddr(b, "10.77.0.100") && !hasAddr(a, "10.77.0.100") })
	os.WriteFile(flag, nil, 0o644)
	testkit.Eventually(t, "a back at 150", 3*time.Second, func() bool { return hasAddr(a, "10.77.0.100") && !hasAddr(b, "10.77.0.100") })
}

// A sync group moves together: one member's fault moves both addresses.
func TestSyncGroup(t *testing.T) {
	a, b := twoLBX(t)
	group := "sync_groups: [{name: G, members: [VI_1, VI_2]}]\n"
	a.startModel("version: 1\n" + group + "vrrp_instances:\n" +
		instanceYAML("VI_1", 61, 150, "10.77.0.101", "    track_interfaces: [{name: trk0}]\n") +
		instanceYAML("VI_2", 62, 150, "10.77.0.102", ""))
	b.startModel("version: 1\n" + group + "vrrp_instances:\n" +
		instanceYAML("VI_1", 61, 100, "10.77.0.101", "") +
		instanceYAML("VI_2", 62, 100, "10.77.0.102", ""))
	both := func(p *peer) bool { return hasAddr(p, "10.77.0.101") && hasAddr(p, "10.77.0.102") }
	none := func(p *peer) bool { return !hasAddr(p, "10.77.0.101") && !hasAddr(p, "10.77.0.102") }
	testkit.Eventually(t, "a holds both", 5*time.Second, func() bool { return both(a) && none(b) })
	a.ns.Run(t, "ip", "link", "set", "trk0", "down")
	testkit.Eventually(t, "both move to b", 2*time.Second, func() bool { return both(b) && none(a) })
	a.ns.Run(t, "ip", "link", "set", "trk0", "up")
	testkit.Eventually(t, "both back to a", 3*time.Second, func() bool { return both(a) && none(b) })
}

var _ = nstest.Unique

// An instance whose interface has no IPv4 address to send from starts in
// FAULT instead of stopping lbx watch (keepalived waits the same way), the
// keepalived peer holds the address meanwhile, and the higher priority
// preempts once an address is added; flushing the addresses again is a
// FAULT, and the peer takes over.
func TestNoSourceAddressFault(t *testing.T) {
	a, b := setup(t, v3fast, [2]string{"lbx", "keepalived"}, 150, 100)
	a.ns.Run(t, "ip", "addr", "del", a.ip+"/24", "dev", "eth0")
	b.start()
	b.waitVIP(true, v3fast.mdi(100)+5*time.Second, time.Now())
	a.start()
	testkit.Eventually(t, "lbx in FAULT without an address", 5*time.Second, func() bool {
		return strings.Contains(a.out.String(), "to=FAULT")
	})
	if in := a.status(); in.State != "FAULT" {
		t.Fatalf("lbx without an address: %+v, want FAULT", in)
	}
	stable(t, b, []*peer{a, b}, 5*v3fast.advert)
	a.ns.Run(t, "ip", "addr", "add", a.ip+"/24", "dev", "eth0")
	converged(a, b, v3fast)
	if in := a.status(); in.State != "MASTER" {
		t.Fatalf("lbx after the address came: %+v", in)
	}
	// The address replaced by another (deleting the primary takes the VIP,
	// a secondary of its subnet, with it; lbx puts the VIP back): adverts
	// go out from the new one, never from the VIP, and the master holds.
	a.ns.Run(t, "ip", "addr", "add", "10.78.0.1/24", "dev", "eth0")
	a.ns.Run(t, "ip", "addr", "del", a.ip+"/24", "dev", "eth0")
	testkit.Eventually(t, "lbx sends from 10.78.0.1", 2*time.Second, func() bool {
		return strings.Contains(a.out.String(), `msg="vrrp source address" instance=VI_1 address=10.78.0.1`)
	})
	a.waitVIP(true, 2*time.Second, time.Now())
	stable(t, a, []*peer{a, b}, 5*v3fast.advert)
	if strings.Contains(a.out.String(), "address=10.77.0.100") {
		t.Error("lbx took its VIP as the source address")
	}
	a.ns.Run(t, "ip", "addr", "flush", "dev", "eth0")
	b.waitVIP(true, v3fast.mdi(100)+2*time.Second, time.Now())
	testkit.Eventually(t, "lbx in FAULT after the flush", 2*time.Second, func() bool { return a.status().State == "FAULT" })
}
