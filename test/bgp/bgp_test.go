// Package bgp tests lbx's BGP scale-out against a real router: a router
// namespace running Debian's bird2 (ECMP with `merge paths`) and three
// director namespaces each running `lbx watch` (built by the test). Root
// only; bird2 comes from scripts/deps.sh.
//
// The host kernel has no IPVS, so the directors' models have no virtual
// servers: each announces a VIP on lo under a VRRP instance condition
// (the instance runs alone on a link of its own, MASTER until that link
// goes down). The IPVS-gated case (min healthy real servers) belongs to
// the VM tier.
package bgp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/nstest"
	"github.com/lbx-dev/lbx/internal/testkit"
)

func TestMain(m *testing.M) {
	os.Exit(testkit.Main(func() int { return nstest.MainGuardingHostDirs(m) }))
}

const (
	vip      = "192.0.2.10"
	vip2     = "192.0.2.20"
	routerIP = "10.99.0.254"
	// holdTime and keepalive (seconds) as operators set them for fast
	// failover (9/3); 3/1 flaps on a loaded 2-core test machine.
	holdTime  = 9
	keepalive = 3
)

// buildLBX returns lbx, built with lbx-check and lbx-bgp next to it.
func buildLBX(t testing.TB) string {
	t.Helper()
	return filepath.Join(testkit.Binaries(t, "./cmd/lbx", "./cmd/lbx-check", "./cmd/lbx-bgp"), "lbx")
}

// router is bird2 in its namespace, on a bridge the directors plug into.
type router struct {
	ns   *nstest.NS
	sock string
	log  string
}

func birdConf(dir string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `log "%s/bird.log" all;
router id %s;
debug protocols { states, routes };
protocol device { scan time 1; }
protocol kernel {
	ipv4 { import none; export all; };
	merge paths on;
}
template bgp director {
	local %s as 65000;
	hold time %d;
	keepalive time %d;
	connect retry time 1;
	passive on;
	ipv4 { import all; export none; };
}
`, dir, routerIP, routerIP, holdTime, keepalive)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "protocol bgp d%d from director { neighbor 10.99.0.%d as 65001; }\n", i, i)
	}
	return b.String()
}

func startRouter(t testing.TB, dir string, n int) *router {
	t.Helper()
	r := &router{ns: nstest.New(t, nstest.Unique("bgpr")), sock: filepath.Join(dir, "bird.ctl"), log: filepath.Join(dir, "bird.log")}
	nstest.Bridge(t, r.ns, "br0")
	r.ns.Run(t, "ip", "addr", "add", routerIP+"/24", "dev", "br0")
	conf := filepath.Join(dir, "bird.conf")
	if err := os.WriteFile(conf, []byte(birdConf(dir, n)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := r.ns.Cmd("bird", "-f", "-c", conf, "-s", r.sock, "-P", filepath.Join(dir, "bird.pid"))
	out, _ := os.Create(filepath.Join(dir, "bird.out"))
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		out.Close()
		if t.Failed() {
			b, _ := os.ReadFile(r.log)
			t.Logf("bird.log:\n%s", tail(b, 60))
		}
	})
	testkit.Eventually(t, "bird's control socket", 10*time.Second, func() bool { _, err := r.birdc("show status"); return err == nil })
	return r
}

func (r *router) birdc(cmd string) (string, error) {
	out, err := exec.Command("birdc", append([]string{"-s", r.sock}, strings.Fields(cmd)...)...).CombinedOutput()
	return string(out), err
}

func (r *router) nexthops(t testing.TB, dst string) []string { return nexthops(t, r.ns, dst) }

// nexthops are the gateways of the kernel route to dst in the router's
// namespace ns (one "via" for a single path, one per "nexthop" for ECMP,
// whichever daemon put it there); nil: no route.
func nexthops(t testing.TB, ns *nstest.NS, dst string) []string {
	out, err := ns.Try("ip", "route", "show", dst+"/32")
	if err != nil {
		t.Fatalf("ip route: %v\n%s", err, out)
	}
	var gws []string
	for _, m := range regexp.MustCompile(`via (\S+)`).FindAllStringSubmatch(out, -1) {
		gws = append(gws, m[1])
	}
	return gws
}

// since is when bird's session with director i came up ("Established"
// with its time), to tell a session reset.
func (r *router) session(t testing.TB, i int) string {
	out, err := r.birdc(fmt.Sprintf("show protocols d%d", i))
	if err != nil {
		t.Fatalf("birdc: %v\n%s", err, out)
	}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) >= 6 && f[0] == fmt.Sprintf("d%d", i) {
			return strings.Join(f[3:], " ") // state, since, info
		}
	}
	return ""
}

// importUpdates is bird's count of UPDATEs received from director i
// ("Import updates: received").
func (r *router) importUpdates(t testing.TB, i int) int {
	out, err := r.birdc(fmt.Sprintf("show protocols all d%d", i))
	if err != nil {
		t.Fatalf("birdc: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Import updates:\s+(\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no import updates in:\n%s", out)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// director is one namespace running lbx watch.
type director struct {
	i    int
	ns   *nstest.NS
	dir  string
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited, with err set
	err  error
	lbx  string
}

func model(i int, extraVIP bool) string { return modelWith(i, extraVIP, "") }

// modelWith is director i's model; announcer, if set, replaces the
// speaker's settings (local_as to peers) with its own lines.
func modelWith(i int, extraVIP bool, announcer string) string {
	addrs := "  - {address: " + vip + "/32, interface: lo}\n"
	anns := "    - {prefix: " + vip + "/32, when: {vrrp_instance: VI_1}, withdraw_after: 2s, announce_after: 1s, communities: [\"65001:10\"]}\n"
	if extraVIP {
		addrs += "  - {address: " + vip2 + "/32, interface: lo}\n"
		anns += "    - {prefix: " + vip2 + "/32}\n"
	}
	speaker := speakerLines(i, "")
	if announcer != "" {
		speaker = announcer
	}
	return fmt.Sprintf(`version: 1
addresses:
%svrrp_instances:
  - name: VI_1
    interface: vr0
    virtual_router_id: 51
    priority: 100
    advert_int: 1
    virtual_addresses: [{address: 10.77.0.100/24}]
bgp:
%s  announcements:
%s`, addrs, speaker, anns)
}

// speakerLines are director i's bgp: settings for GoBGP, peering with the
// router; peerExtra adds fields to the peer (", graceful_restart: true").
func speakerLines(i int, peerExtra string) string {
	return fmt.Sprintf(`  local_as: 65001
  router_id: 10.99.0.%d
  graceful_shutdown: 1s
  peers:
    - {address: %s, as: 65000, hold_time: %ds, keepalive: %ds%s}
`, i, routerIP, holdTime, keepalive, peerExtra)
}

func startDirector(t testing.TB, r *router, lbx string, i int) *director {
	t.Helper()
	d := newDirector(t, r.ns, lbx, i)
	d.writeModel(t, false)
	d.start(t)
	return d
}

func (d *director) writeModel(t testing.TB, extra bool) {
	if err := os.WriteFile(filepath.Join(d.dir, "lbx.yaml"), []byte(model(d.i, extra)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// newDirector is a director namespace, not yet running lbx watch: eth0
// on the bridge br0 of the router's namespace rns (nil: none) and vr0, its
// VRRP instance's link.
func newDirector(t testing.TB, rns *nstest.NS, lbx string, i int) *director {
	t.Helper()
	d := &director{i: i, ns: nstest.New(t, nstest.Unique("bgpd")), dir: t.TempDir(), lbx: lbx}
	if rns != nil {
		nstest.Veth(t, d.ns, "eth0", rns, fmt.Sprintf("d%d", i))
		rns.Run(t, "ip", "link", "set", fmt.Sprintf("d%d", i), "master", "br0")
		d.ns.Run(t, "ip", "addr", "add", fmt.Sprintf("10.99.0.%d/24", i), "dev", "eth0")
	}
	// The VRRP instance's own link: alone on it, the instance is MASTER
	// until the far end goes down.
	d.ns.Link(t, "vr0", fmt.Sprintf("10.77.0.%d/24", i))
	t.Cleanup(func() { d.kill() })
	return d
}

func (d *director) start(t testing.TB) {
	t.Helper()
	d.cmd = d.ns.Cmd(d.lbx, "watch", "-f", filepath.Join(d.dir, "lbx.yaml"), "--state-dir", d.dir, "--run-dir", d.dir, "--checker", "inline")
	logf, err := os.OpenFile(filepath.Join(d.dir, "lbx.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	d.done = done
	go func() { d.err = d.cmd.Wait(); logf.Close(); close(done) }()
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(d.dir, "lbx.log"))
			t.Logf("director %d's lbx.log:\n%s", d.i, tail(b, 40))
		}
	})
}

// kill ends the director's lbx watch; the process is ip netns exec's child
// (exec replaces ip by lbx: the pid is lbx's).
func (d *director) kill() {
	if d.cmd == nil || d.cmd.Process == nil {
		return
	}
	d.cmd.Process.Signal(syscall.SIGCONT)
	d.cmd.Process.Kill()
	d.wait()
}

// wait waits for lbx watch to exit and returns how it ended.
func (d *director) wait() error {
	<-d.done
	d.cmd = nil
	return d.err
}

const sigtermMark = "test: SIGTERM of director 2"

func appendLog(t testing.TB, file, line string) {
	f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fmt.Fprintln(f, line)
}

func (d *director) signal(t testing.TB, s syscall.Signal) {
	if err := d.cmd.Process.Signal(s); err != nil {
		t.Fatal(err)
	}
}

// children are lbx watch's child processes (lbx-bgp: the checks run
// inline); the test fails without one.
func (d *director) children(t testing.TB) []int {
	var pids []int
	// Each thread lists the children it started.
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", d.cmd.Process.Pid))
	for _, task := range tasks {
		b, _ := os.ReadFile(task)
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	if len(pids) == 0 {
		t.Fatalf("lbx watch (pid %d) has no lbx-bgp child", d.cmd.Process.Pid)
	}
	return pids
}

// freeze stops (or, with SIGCONT, resumes) lbx watch and its children
// (lbx-bgp, the speaker): a director that hangs whole, sending nothing.
func (d *director) freeze(t testing.TB, s syscall.Signal) {
	pids := append([]int{d.cmd.Process.Pid}, d.children(t)...)
	for _, pid := range pids {
		if err := syscall.Kill(pid, s); err != nil {
			t.Fatal(err)
		}
	}
}

// status is `lbx status -o json` of the director, its BGP part.
func (d *director) status(t testing.TB) bgpStatus {
	t.Helper()
	out, err := d.ns.Cmd(d.lbx, "status", "--run-dir", d.dir, "-o", "json").Output()
	if err != nil {
		t.Fatalf("lbx status: %v\n%s", err, out)
	}
	var st struct {
		BGP bgpStatus `json:"bgp"`
	}
	if err := json.Unmarshal(out, &st); err != nil {
		t.Fatalf("lbx status: %v\n%s", err, out)
	}
	return st.BGP
}

type bgpStatus struct {
	SpeakerRestarts int `json:"speaker_restarts"`
	Peers           []struct {
		Address      string     `json:"address"`
		State        string     `json:"state"`
		Up           *time.Time `json:"up"`
		PrefixesSent uint64     `json:"prefixes_sent"`
	} `json:"peers"`
	Prefixes []struct {
		Prefix    string `json:"prefix"`
		Announced bool   `json:"announced"`
		Reason    string `json:"reason"`
	} `json:"prefixes"`
}

// sameSince says whether two of bird's "up HH:MM:SS.mmm Established"
// describe one session: established both, up since times 50ms apart at most.
func sameSince(a, b string) bool {
	fa, fb := strings.Fields(a), strings.Fields(b)
	if len(fa) < 3 || len(fb) < 3 || fa[0] != "up" || fb[0] != "up" || fa[2] != "Established" || fb[2] != "Established" {
		return false
	}
	ta, erra := time.Parse("15:04:05.000", fa[1])
	tb, errb := time.Parse("15:04:05.000", fb[1])
	d := ta.Sub(tb)
	return erra == nil && errb == nil && d < 50*time.Millisecond && d > -50*time.Millisecond
}

func has(gws []string, gw string) bool {
	for _, g := range gws {
		if g == gw {
			return true
		}
	}
	return false
}

func tail(b []byte, n int) []byte {
	lines := bytes.Split(b, []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return bytes.Join(lines, []byte("\n"))
}

// TestBGPScaleOut is one topology, its steps in order: each leaves the
// three directors announcing, as the next expects.
func TestBGPScaleOut(t *testing.T) {
	nstest.Require(t, "bird", "birdc")
	dir := t.TempDir()
	lbx := buildLBX(t)
	r := startRouter(t, dir, 3)
	var ds []*director
	for i := 1; i <= 3; i++ {
		ds = append(ds, startDirector(t, r, lbx, i))
	}
	gw := func(d *director) string { return fmt.Sprintf("10.99.0.%d", d.i) }

	t.Run("three nexthops", func(t *testing.T) {
		took := testkit.Eventually(t, "three nexthops at the router", 30*time.Second, func() bool { return len(r.nexthops(t, vip)) == 3 })
		t.Logf("ECMP route with 3 nexthops after %s", took.Round(time.Millisecond))
		// lbx status reads the sessions once a second.
		var st bgpStatus
		testkit.Eventually(t, "lbx status: one established peer sent 1 prefix", 5*time.Second, func() bool {
			st = ds[0].status(t)
			return len(st.Peers) == 1 && st.Peers[0].State == "established" && st.Peers[0].PrefixesSent == 1
		})
		if len(st.Prefixes) != 1 || !st.Prefixes[0].Announced || !strings.Contains(st.Prefixes[0].Reason, "on lo") {
			t.Errorf("lbx status prefixes: %+v", st.Prefixes)
		}
		out, _ := r.birdc("show route all " + vip + "/32")
		if !strings.Contains(out, "(65001,10)") {
			t.Errorf("the route at bird has no community 65001:10:\n%s", out)
		}
	})

	t.Run("condition failing withdraws after the hold-down", func(t *testing.T) {
		d := ds[2]
		d.ns.Run(t, "ip", "link", "set", "pvr0", "down") // VI_1 goes to FAULT
		start := time.Now()
		testkit.Eventually(t, "director 3 to leave the route", 15*time.Second, func() bool { return !has(r.nexthops(t, vip), gw(d)) })
		took := time.Since(start)
		if took < 2*time.Second {
			t.Errorf("withdrawn %s after the condition failed; the hold-down is 2s", took)
		}
		t.Logf("withdrawn %s after the link went down (hold-down 2s)", took.Round(time.Millisecond))
		st := d.status(t)
		if len(st.Prefixes) != 1 || st.Prefixes[0].Announced || !strings.Contains(st.Prefixes[0].Reason, "VI_1 is FAULT") {
			t.Errorf("lbx status prefixes: %+v; want withdrawn because VI_1 is FAULT", st.Prefixes)
		}
		if n := len(r.nexthops(t, vip)); n != 2 {
			t.Errorf("%d nexthops left, want 2", n)
		}
		d.ns.Run(t, "ip", "link", "set", "pvr0", "up")
		testkit.Eventually(t, "director 3 back", 20*time.Second, func() bool { return len(r.nexthops(t, vip)) == 3 })
	})

	t.Run("reload adding a VIP sends one update and resets no session", func(t *testing.T) {
		d := ds[0]
		before, updates := r.session(t, d.i), r.importUpdates(t, d.i)
		up := d.status(t).Peers[0].Up
		d.writeModel(t, true)
		d.signal(t, syscall.SIGHUP)
		testkit.Eventually(t, vip2+" at the router", 15*time.Second, func() bool { return has(r.nexthops(t, vip2), gw(d)) })
		time.Sleep(time.Second) // a reset, or a second update, would show by now
		// bird prints the time the session came up from its monotonic
		// clock: it may move by a millisecond between two queries; a reset
		// would move it by the seconds since the start.
		if after := r.session(t, d.i); !sameSince(before, after) {
			t.Errorf("bird's session with director 1 changed across the reload: %q, was %q", after, before)
		}
		if got := r.importUpdates(t, d.i); got != updates+1 {
			t.Errorf("bird received %d updates from director 1 for the reload, want 1", got-updates)
		}
		if st := d.status(t); st.Peers[0].Up == nil || up == nil || !st.Peers[0].Up.Equal(*up) {
			t.Errorf("lbx status: session up since %v, was %v", st.Peers[0].Up, up)
		}
		if n := len(r.nexthops(t, vip)); n != 3 {
			t.Errorf("%s has %d nexthops after the reload, want 3", vip, n)
		}
	})

	t.Run("reload removing a VIP withdraws it before the address leaves lo", func(t *testing.T) {
		d := ds[0]
		d.writeModel(t, false)
		d.signal(t, syscall.SIGHUP)
		testkit.Eventually(t, vip2+" gone from the router", 15*time.Second, func() bool { return len(r.nexthops(t, vip2)) == 0 })
		testkit.Eventually(t, vip2+" gone from lo", 15*time.Second, func() bool {
			return !strings.Contains(d.ns.Run(t, "ip", "-br", "addr", "show", "dev", "lo"), vip2)
		})
		// lbx's log: the withdraw, then the apply that removed the address.
		log, _ := os.ReadFile(filepath.Join(d.dir, "lbx.log"))
		w := bytes.Index(log, []byte("msg=withdrawing component=bgp prefix="+vip2))
		a := bytes.Index(log, []byte("address.lo/"+vip2))
		if a2 := bytes.LastIndex(log, []byte("address.lo/"+vip2)); a2 > a {
			a = a2 // the first was the reload that added it
		}
		if w < 0 || a < 0 || a < w {
			t.Errorf("lbx's log does not show the withdraw (at %d) before the address's removal (at %d):\n%s", w, a, tail(log, 15))
		}
		if n := len(r.nexthops(t, vip)); n != 3 {
			t.Errorf("%s has %d nexthops after the reload, want 3", vip, n)
		}
	})

	t.Run("a crashed speaker process is started again", func(t *testing.T) {
		d := ds[2]
		child := d.children(t)[0]
		if err := syscall.Kill(child, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		testkit.Eventually(t, "director 3 to leave the route", 5*time.Second, func() bool { return !has(r.nexthops(t, vip), gw(d)) })
		took := testkit.Eventually(t, "director 3 back", 30*time.Second, func() bool { return has(r.nexthops(t, vip), gw(d)) })
		t.Logf("back %s after the speaker was killed", took.Round(time.Millisecond))
		if st := d.status(t); st.SpeakerRestarts != 1 {
			t.Errorf("lbx status: speaker_restarts %d, want 1", st.SpeakerRestarts)
		}
	})

	t.Run("SIGTERM withdraws before the session closes and the VIP leaves", func(t *testing.T) {
		d := ds[1]
		// A mark in bird's log: what follows is this step's.
		appendLog(t, r.log, sigtermMark)
		d.signal(t, syscall.SIGTERM)
		// graceful_shutdown 1s: first the route carries GRACEFUL_SHUTDOWN.
		testkit.Eventually(t, "GRACEFUL_SHUTDOWN on director 2's route", 5*time.Second, func() bool {
			out, _ := r.birdc("show route all " + vip + "/32 protocol d2")
			return strings.Contains(out, "(65535,0)")
		})
		testkit.Eventually(t, "director 2 to leave the route", 10*time.Second, func() bool { return !has(r.nexthops(t, vip), gw(d)) })
		onLo := d.ns.Run(t, "ip", "-br", "addr", "show", "dev", "lo")
		if !strings.Contains(onLo, vip) {
			t.Errorf("the VIP left lo before the route left the router: %s", onLo)
		}
		if err := d.wait(); err != nil {
			t.Errorf("lbx watch exited with %v after SIGTERM", err)
		}
		// The route went by a withdraw while the session was up: bird
		// logs the removal before the session's stop.
		log, _ := os.ReadFile(r.log)
		mark := bytes.Index(log, []byte(sigtermMark))
		after := log[mark+1:]
		i, j := bytes.Index(after, []byte("d2.ipv4 > removed "+vip)), bytes.Index(after, []byte("d2: State changed to stop"))
		if i < 0 || j < 0 || j < i {
			t.Errorf("bird's log does not show director 2's withdraw before its session stopped (withdraw at %d, stop at %d):\n%s", i, j, tail(after, 20))
		}
		d.start(t)
		testkit.Eventually(t, "director 2 back", 30*time.Second, func() bool { return len(r.nexthops(t, vip)) == 3 })
	})

	t.Run("a frozen director is dropped at the hold timer", func(t *testing.T) {
		d := ds[2]
		d.freeze(t, syscall.SIGSTOP)
		start := time.Now()
		testkit.Eventually(t, "director 3 to leave the route", 3*holdTime*time.Second, func() bool { return !has(r.nexthops(t, vip), gw(d)) })
		took := time.Since(start)
		// Its last keepalive went out up to a keepalive interval before
		// the freeze (and timers jitter); a closed session would be gone
		// in milliseconds.
		if took < holdTime*time.Second/2 {
			t.Errorf("dropped after %s; a silent director lasts until the hold timer (%ds)", took, holdTime)
		}
		t.Logf("frozen director dropped after %s (hold time %ds)", took.Round(time.Millisecond), holdTime)
		if took > holdTime*time.Second+2*time.Second {
			log, _ := os.ReadFile(r.log)
			t.Errorf("dropped after %s, later than the hold timer (%ds):\n%s", took, holdTime, tail(log, 30))
		}
		d.freeze(t, syscall.SIGCONT)
	})

	t.Run("kill -9 is noticed at once (the kernel closes the session)", func(t *testing.T) {
		d := ds[0]
		d.cmd.Process.Kill()
		start := time.Now()
		d.wait()
		testkit.Eventually(t, "director 1 to leave the route", 2*holdTime*time.Second, func() bool { return !has(r.nexthops(t, vip), gw(d)) })
		t.Logf("killed director dropped after %s (hold time %ds)", time.Since(start).Round(time.Millisecond), holdTime)
	})
}

// TestKernelAnnouncer: with announcer kernel, lbx watch announces by a
// route of its own (table 100, proto 229) for the host's router daemon to
// redistribute; the route follows the condition, with its hold-down, and
// leaves at SIGTERM while the VIP stays on lo.
func TestKernelAnnouncer(t *testing.T) {
	nstest.Require(t)
	lbx := buildLBX(t)
	d := newDirector(t, nil, lbx, 1)
	m := modelWith(1, false, "  announcer: kernel\n  kernel: {table: 100}\n")
	if err := os.WriteFile(filepath.Join(d.dir, "lbx.yaml"), []byte(m), 0o644); err != nil {
		t.Fatal(err)
	}
	route := func() string { // "" also while the table does not exist
		out, _ := d.ns.Try("ip", "route", "show", "table", "100", vip+"/32")
		if strings.Contains(out, "does not exist") {
			return ""
		}
		return strings.TrimSpace(out)
	}
	d.start(t)
	testkit.Eventually(t, "the route in table 100", 20*time.Second, func() bool { return route() != "" })
	if got, want := route(), vip+" dev lo proto 229 scope link"; got != want {
		t.Errorf("route %q, want %q", got, want)
	}
	d.ns.Run(t, "ip", "link", "set", "pvr0", "down")
	start := time.Now()
	testkit.Eventually(t, "the route gone", 15*time.Second, func() bool { return route() == "" })
	if took := time.Since(start); took < 2*time.Second {
		t.Errorf("route removed %s after the condition failed; the hold-down is 2s", took)
	}
	d.ns.Run(t, "ip", "link", "set", "pvr0", "up")
	testkit.Eventually(t, "the route back", 20*time.Second, func() bool { return route() != "" })
	d.signal(t, syscall.SIGTERM)
	if err := d.wait(); err != nil {
		t.Errorf("lbx watch exited with %v after SIGTERM", err)
	}
	if r := route(); r != "" {
		t.Errorf("the route outlived lbx watch: %s", r)
	}
	if lo := d.ns.Run(t, "ip", "-br", "addr", "show", "dev", "lo"); !strings.Contains(lo, vip) {
		t.Errorf("the VIP left lo at stop: %s", lo)
	}
}
