package bgp

// make bench-bgp: lbx's BGP announcer beside the classic pattern it
// replaces, and its memory. Root; bird2, keepalived and gobgpd from
// scripts/deps.sh. Results are printed as lines with ratio= (lbx over the
// classic pattern, or with BGP over without).

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/lbx-dev/lbx/internal/nstest"
)

// classicVIP is the classic director's VIP: another prefix than lbx's, so
// each pattern's withdraw is a route of its own leaving the router.
const classicVIP = "192.0.2.30"

// noHoldDown is a director's model with the announcement's hold-downs at
// zero: the benchmark times the reaction itself, as the classic pattern
// has none.
func noHoldDown(t testing.TB, m string) string {
	const holds = "withdraw_after: 2s, announce_after: 1s"
	if !strings.Contains(m, holds) {
		t.Fatalf("the model has no %q to replace:\n%s", holds, m)
	}
	return strings.Replace(m, holds, "withdraw_after: 0s, announce_after: 0s", 1)
}

// startClassic is director i done the classic way: the VIP on lo, gobgpd
// peering with the router (bird's timers) and keepalived running the same
// VRRP instance as lbx's directors, whose notify scripts announce the VIP
// on MASTER and withdraw it otherwise with the gobgp CLI.
func startClassic(t testing.TB, r *router, lbx string, i int) *director {
	t.Helper()
	d := newDirector(t, r.ns, lbx, i)
	d.ns.Run(t, "ip", "addr", "add", classicVIP+"/32", "dev", "lo")
	file := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(d.dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	gobgpConf := file("gobgpd.toml", fmt.Sprintf(`[global.config]
  as = 65001
  router-id = "10.99.0.%d"
  port = -1
[[neighbors]]
  [neighbors.config]
    neighbor-address = "%s"
    peer-as = 65000
  [neighbors.timers.config]
    hold-time = %d
    keepalive-interval = %d
    connect-retry = 1
`, i, routerIP, holdTime, keepalive), 0o644)
	rib := "gobgp -u 127.0.0.1 -p 50051 global rib %s -a ipv4 " + classicVIP + "/32\n"
	up := file("up.sh", "#!/bin/sh\nexec "+fmt.Sprintf(rib, "add"), 0o755)
	down := file("down.sh", "#!/bin/sh\nexec "+fmt.Sprintf(rib, "del"), 0o755)
	kaConf := file("keepalived.conf", fmt.Sprintf(`global_defs {
  enable_script_security
  script_user root
}
vrrp_instance VI_1 {
  interface vr0
  virtual_router_id 51
  priority 100
  advert_int 1
  virtual_ipaddress {
    10.77.0.100/24
  }
  notify_master %s
  notify_backup %s
  notify_fault %s
}
`, up, down, down), 0o644)
	nstest.Background(t, d.ns.Cmd("gobgpd", "-f", gobgpConf, "-p", "--api-hosts", "127.0.0.1:50051", "--pprof-disable"), "gobgpd")
	eventually(t, "gobgpd's API", 10*time.Second, func() bool {
		_, err := d.ns.Try("gobgp", "-u", "127.0.0.1", "-p", "50051", "global")
		return err == nil
	})
	nstest.Background(t, d.ns.Cmd("keepalived", "--vrrp", "-n", "-l", "-D", "-f", kaConf,
		"-p", filepath.Join(d.dir, "keepalived.pid"), "-r", filepath.Join(d.dir, "vrrp.pid")), "keepalived")
	return d
}

// routeDeletions reports each route the kernel of namespace ns deletes
// (its destination, when it was seen), until cleanup.
func routeDeletions(t testing.TB, ns *nstest.NS) <-chan string {
	t.Helper()
	h, err := netns.GetFromName(ns.Name)
	if err != nil {
		t.Fatal(err)
	}
	updates, done := make(chan netlink.RouteUpdate, 64), make(chan struct{})
	err = netlink.RouteSubscribeWithOptions(updates, done, netlink.RouteSubscribeOptions{Namespace: &h})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { close(done); h.Close() })
	deleted := make(chan string, 64)
	go func() {
		for u := range updates {
			if u.Type == unix.RTM_DELROUTE && u.Dst != nil {
				deleted <- u.Dst.String()
			}
		}
	}()
	return deleted
}

// withdrawOnce fails director d's condition (its VRRP link loses its
// carrier: the instance leaves MASTER) and returns how long the router's
// kernel then kept its route to dst; the link comes back up after.
func withdrawOnce(t testing.TB, r *router, deleted <-chan string, d *director, dst string) time.Duration {
	t.Helper()
	eventually(t, dst+" at the router", 30*time.Second, func() bool { return len(r.nexthops(t, dst)) > 0 })
	for len(deleted) > 0 {
		<-deleted
	}
	nsh, err := netns.GetFromName(d.ns.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer nsh.Close()
	h, err := netlink.NewHandleAt(nsh)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	link, err := h.LinkByName("pvr0")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := h.LinkSetDown(link); err != nil {
		t.Fatal(err)
	}
	defer h.LinkSetUp(link)
	timeout := time.After(15 * time.Second)
	for {
		select {
		case got := <-deleted:
			if got == dst+"/32" {
				return time.Since(start)
			}
		case <-timeout:
			t.Fatalf("%s still at the router 15s after director %d's condition failed", dst, d.i)
		}
	}
}

// probe says whether this is the run of b.N = 1 that go test makes before
// the one -benchtime Nx asks for: a topology takes seconds to build and
// each run prints its figures, so the benchmarks skip that one.
func probe(b *testing.B) bool {
	f := flag.Lookup("test.benchtime")
	if f == nil || !strings.HasSuffix(f.Value.String(), "x") {
		return false
	}
	n, err := strconv.Atoi(strings.TrimSuffix(f.Value.String(), "x"))
	return err == nil && b.N < n
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// BenchmarkWithdraw: from a director's condition failing (its VRRP
// instance leaving MASTER) to its route leaving the router's kernel table
// (bird2, the route deletion seen on netlink). lbx watch (the prefix under
// a vrrp_instance condition, no hold-down) beside keepalived with a notify
// script driving gobgpd by the gobgp CLI: the same router, BGP timers and
// VRRP instance; the two alternate; median of b.N runs (make: 10).
func BenchmarkWithdraw(b *testing.B) {
	nstest.Require(b, "bird", "birdc", "keepalived", "gobgpd", "gobgp")
	if probe(b) {
		return
	}
	dir := b.TempDir()
	lbx := buildLBX(b, dir)
	r := startRouter(b, dir, 2)
	deleted := routeDeletions(b, r.ns)
	l := newDirector(b, r.ns, lbx, 1)
	if err := os.WriteFile(filepath.Join(l.dir, "lbx.yaml"), []byte(noHoldDown(b, model(1, false))), 0o644); err != nil {
		b.Fatal(err)
	}
	l.start(b)
	c := startClassic(b, r, lbx, 2)
	var lt, ct []time.Duration
	for i := 0; i < b.N; i++ {
		lt = append(lt, withdrawOnce(b, r, deleted, l, vip))
		ct = append(ct, withdrawOnce(b, r, deleted, c, classicVIP))
	}
	lm, cm := median(lt), median(ct)
	b.ReportMetric(ms(lm), "lbx-ms")
	b.ReportMetric(ms(cm), "classic-ms")
	fmt.Printf("withdraw VRRP-condition->router-kernel runs=%d: lbx=%.1fms (%.1f-%.1f) keepalived+notify+gobgp=%.1fms (%.1f-%.1f) ratio=%.2f\n",
		b.N, ms(lm), ms(slices.Min(lt)), ms(slices.Max(lt)), ms(cm), ms(slices.Min(ct)), ms(slices.Max(ct)), float64(lm)/float64(cm))
}

// BenchmarkRSS: peak RSS (VmHWM) of lbx watch announcing a VIP over BGP
// (lbx watch and its lbx-bgp) beside lbx watch with the same model but no
// bgp section, after both ran 5 s (the session established).
func BenchmarkRSS(b *testing.B) {
	nstest.Require(b, "bird", "birdc")
	if probe(b) {
		return
	}
	dir := b.TempDir()
	lbx := buildLBX(b, dir)
	r := startRouter(b, dir, 2)
	m := model(1, false)
	noBGP, _, ok := strings.Cut(m, "bgp:\n")
	if !ok {
		b.Fatalf("no bgp section in:\n%s", m)
	}
	with, without := newDirector(b, r.ns, lbx, 1), newDirector(b, r.ns, lbx, 2)
	for d, m := range map[*director]string{with: m, without: noBGP} {
		if err := os.WriteFile(filepath.Join(d.dir, "lbx.yaml"), []byte(m), 0o644); err != nil {
			b.Fatal(err)
		}
		d.start(b)
	}
	eventually(b, vip+" at the router", 30*time.Second, func() bool { return has(r.nexthops(b, vip), "10.99.0.1") })
	time.Sleep(5 * time.Second)
	lbxWith, speaker := vmHWM(b, with.cmd.Process.Pid), vmHWM(b, with.children(b)[0])
	alone := vmHWM(b, without.cmd.Process.Pid)
	b.ReportMetric(float64(lbxWith+speaker), "bgp-KiB")
	b.ReportMetric(float64(alone), "nobgp-KiB")
	fmt.Printf("peak RSS lbx watch with BGP=%dKiB (lbx=%dKiB lbx-bgp=%dKiB) without=%dKiB ratio=%.2f\n",
		lbxWith+speaker, lbxWith, speaker, alone, float64(lbxWith+speaker)/float64(alone))
}

// vmHWM is process pid's peak resident set (KiB).
func vmHWM(t testing.TB, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			n, err := strconv.Atoi(f[1])
			if err != nil {
				t.Fatalf("/proc/%d/status: %q", pid, l)
			}
			return n
		}
	}
	t.Fatalf("/proc/%d/status has no VmHWM", pid)
	return 0
}
