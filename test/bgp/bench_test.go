package bgp

// make bench-bgp: lbx's BGP announcer beside the classic pattern it
// replaces, and its memory. Root; bird2, keepalived and gobgpd from
// scripts/deps.sh. Results are printed as lines with ratio= (lbx over the
// classic pattern, or with BGP over without).

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/lbx-dev/lbx/internal/nstest"
	"github.com/lbx-dev/lbx/internal/testkit"
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

// classic is director i done the classic way: the VIP on lo, gobgpd
// peering with the router (bird's timers) and keepalived running the same
// VRRP instance as lbx's directors, whose notify scripts announce the VIP
// on MASTER and withdraw it otherwise, and at keepalived's stop, with the
// gobgp CLI.
type classic struct {
	*director
	kaConf string
	ka     *exec.Cmd // keepalived, while it runs
}

func startClassic(t testing.TB, r *router, lbx string, i int) *classic {
	t.Helper()
	c := &classic{director: newDirector(t, r.ns, lbx, i)}
	c.ns.Run(t, "ip", "addr", "add", classicVIP+"/32", "dev", "lo")
	file := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(c.dir, name)
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
	c.kaConf = file("keepalived.conf", fmt.Sprintf(`global_defs {
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
  notify_stop %s
}
`, up, down, down, down), 0o644)
	nstest.Background(t, c.ns.Cmd("gobgpd", "-f", gobgpConf, "-p", "--api-hosts", "127.0.0.1:50051", "--pprof-disable"), "gobgpd")
	testkit.Eventually(t, "gobgpd's API", 10*time.Second, func() bool {
		_, err := c.ns.Try("gobgp", "-u", "127.0.0.1", "-p", "50051", "global")
		return err == nil
	})
	c.startKeepalived(t)
	return c
}

// startKeepalived starts keepalived's VRRP process (again).
func (c *classic) startKeepalived(t testing.TB) {
	t.Helper()
	c.ka = c.ns.Cmd("keepalived", "--vrrp", "-n", "-l", "-D", "-f", c.kaConf,
		"-p", filepath.Join(c.dir, "keepalived.pid"), "-r", filepath.Join(c.dir, "vrrp.pid"))
	nstest.Background(t, c.ka, "keepalived")
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

// timeWithdraw waits for dst at the router, runs cause and returns how
// long the router's kernel then kept its route to dst (bird2, the deletion
// seen on netlink); then it runs the undo cause returned, so that the next
// run finds dst announced again.
func timeWithdraw(t testing.TB, r *router, deleted <-chan string, dst string, cause func() (undo func())) time.Duration {
	t.Helper()
	testkit.Eventually(t, dst+" at the router", 30*time.Second, func() bool { return len(r.nexthops(t, dst)) > 0 })
	for len(deleted) > 0 {
		<-deleted
	}
	start := time.Now()
	undo := cause()
	defer undo()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case got := <-deleted:
			if got == dst+"/32" {
				return time.Since(start)
			}
		case <-timeout:
			t.Fatalf("%s still at the router 15s after its director's withdraw began", dst)
		}
	}
}

// failCondition fails director d's condition: its VRRP link loses its
// carrier, so the instance leaves MASTER; undo brings the link back up.
func failCondition(t testing.TB, d *director) (undo func()) {
	t.Helper()
	nsh, err := netns.GetFromName(d.ns.Name)
	if err != nil {
		t.Fatal(err)
	}
	h, err := netlink.NewHandleAt(nsh)
	if err != nil {
		nsh.Close()
		t.Fatal(err)
	}
	link, err := h.LinkByName("pvr0")
	if err == nil {
		err = h.LinkSetDown(link)
	}
	if err != nil {
		h.Close()
		nsh.Close()
		t.Fatal(err)
	}
	return func() {
		defer nsh.Close()
		defer h.Close()
		if err := h.LinkSetUp(link); err != nil {
			t.Fatal(err)
		}
	}
}

// sigtermLBX sends SIGTERM to d's lbx watch; undo waits for it to exit
// (it must exit 0) and starts it again.
func sigtermLBX(t testing.TB, d *director) (undo func()) {
	d.signal(t, syscall.SIGTERM)
	return func() {
		if err := d.wait(); err != nil {
			t.Fatalf("lbx watch of director %d after SIGTERM: %v", d.i, err)
		}
		d.start(t)
	}
}

// sigtermKeepalived sends SIGTERM to c's keepalived (its notify_stop runs
// the withdraw); undo waits for it to exit and starts it again.
func sigtermKeepalived(t testing.TB, c *classic) (undo func()) {
	if err := c.ka.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	return func() {
		if err := c.ka.Wait(); err != nil {
			t.Fatalf("keepalived of director %d after SIGTERM: %v", c.i, err)
		}
		c.startKeepalived(t)
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

// withdrawBench is the withdraw benchmarks' rig: one bird2 router, lbx
// watch as director 1 (the prefix under a vrrp_instance condition, no
// hold-down, no graceful_shutdown: the model's default, withdraw at once)
// and the classic pattern as director 2, with the same BGP timers and VRRP
// instance.
type withdrawBench struct {
	r       *router
	deleted <-chan string
	lbx     *director
	classic *classic
}

func newWithdrawBench(b *testing.B) *withdrawBench {
	b.Helper()
	dir := b.TempDir()
	lbx := buildLBX(b)
	w := &withdrawBench{r: startRouter(b, dir, 2)}
	w.deleted = routeDeletions(b, w.r.ns)
	w.lbx = newDirector(b, w.r.ns, lbx, 1)
	m := noHoldDown(b, model(1, false))
	// Without graceful_shutdown, the model's default and what an operator
	// gets who does not ask for RFC 8326: withdraw at once.
	const gs = "  graceful_shutdown: 1s\n"
	if !strings.Contains(m, gs) {
		b.Fatalf("the model has no %q to remove:\n%s", gs, m)
	}
	m = strings.Replace(m, gs, "", 1)
	if err := os.WriteFile(filepath.Join(w.lbx.dir, "lbx.yaml"), []byte(m), 0o644); err != nil {
		b.Fatal(err)
	}
	w.lbx.start(b)
	w.classic = startClassic(b, w.r, lbx, 2)
	return w
}

// run times b.N withdraws of each pattern, alternating, and prints the
// medians as one line named what.
func (w *withdrawBench) run(b *testing.B, what, classicName string, lbxCause func() func(), classicCause func() func()) {
	var lt, ct []time.Duration
	for i := 0; i < b.N; i++ {
		lt = append(lt, timeWithdraw(b, w.r, w.deleted, vip, lbxCause))
		ct = append(ct, timeWithdraw(b, w.r, w.deleted, classicVIP, classicCause))
	}
	lm, cm := median(lt), median(ct)
	b.ReportMetric(ms(lm), "lbx-ms")
	b.ReportMetric(ms(cm), "classic-ms")
	fmt.Printf("withdraw %s runs=%d: lbx=%.1fms (%.1f-%.1f) %s=%.1fms (%.1f-%.1f) ratio=%.2f\n",
		what, b.N, ms(lm), ms(slices.Min(lt)), ms(slices.Max(lt)), classicName, ms(cm), ms(slices.Min(ct)), ms(slices.Max(ct)), float64(lm)/float64(cm))
}

// BenchmarkWithdraw: from a director's condition failing (its VRRP
// instance leaving MASTER) to its route leaving the router's kernel table.
// lbx watch beside keepalived whose notify_fault script drives gobgpd by
// the gobgp CLI; median of b.N runs (make: 10).
func BenchmarkWithdraw(b *testing.B) {
	nstest.Require(b, "bird", "birdc", "keepalived", "gobgpd", "gobgp")
	if probe(b) {
		return
	}
	w := newWithdrawBench(b)
	w.run(b, "VRRP-condition->router-kernel", "keepalived+notify+gobgp",
		func() func() { return failCondition(b, w.lbx) },
		func() func() { return failCondition(b, w.classic.director) })
}

// BenchmarkWithdrawSIGTERM: from a director's SIGTERM to its route leaving
// the router's kernel table. lbx watch (its stop withdraws first; no
// graceful_shutdown) beside keepalived whose notify_stop script runs
// `gobgp global rib del`, each started again after the run; median of b.N
// runs (make: 10).
func BenchmarkWithdrawSIGTERM(b *testing.B) {
	nstest.Require(b, "bird", "birdc", "keepalived", "gobgpd", "gobgp")
	if probe(b) {
		return
	}
	w := newWithdrawBench(b)
	w.run(b, "SIGTERM->router-kernel", "keepalived+notify_stop+gobgp",
		func() func() { return sigtermLBX(b, w.lbx) },
		func() func() { return sigtermKeepalived(b, w.classic) })
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
	lbx := buildLBX(b)
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
	testkit.Eventually(b, vip+" at the router", 30*time.Second, func() bool { return has(r.nexthops(b, vip), "10.99.0.1") })
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
