package watchns

// The fault-injection suite of issue 26 (make test-faults; docs/hardening.md).
// Every fault is tried against real processes in network namespaces on the
// host, and each is followed by the invariants the issue asks for:
//
//   - exactly one VRRP master on the link (lbx status of both nodes, and
//     the VIP on that node only) within Master_Down_Interval of the fault's
//     end (plus a second for process start and polling);
//   - nothing deleted that lbx did not create (a hand-added canary address
//     and route);
//   - the kernel converges to the model;
//   - `lbx status` answers;
//   - SIGTERM stops the daemon within 5 s (once per row: the daemon is
//     stopped at the end of each).
//
// The host has no IPVS: the models hold addresses, routes and VRRP; kill
// points in the IPVS path, and the real-server scripts (notify_up/down,
// quorum, MISC_CHECK, which need virtual servers), are out of this tier
// (see watch.TestHangingEngineScripts and the VM tier).

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/net/ipv4"

	"github.com/lbx-dev/lbx/internal/nstest"
	"github.com/lbx-dev/lbx/internal/testkit"
	"github.com/lbx-dev/lbx/vrrpd/packet"
)

// faultPoints is how many kill points each kill row tries at least
// (LBX_FAULT_POINTS, default 50).
func faultPoints(t *testing.T) int {
	if v := os.Getenv("LBX_FAULT_POINTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("LBX_FAULT_POINTS=%q: want a positive number", v)
		}
		return n
	}
	return 50
}

// tally counts the faults tried and the invariants checked after them.
type tally struct {
	mu                    sync.Mutex
	tried, held, broken   int
	applyPoints, hupKills map[string]bool
	slowestMaster         time.Duration // fault's end to one master, the longest seen
}

// fault counts one fault tried.
func (c *tally) fault() { c.mu.Lock(); c.tried++; c.mu.Unlock() }

// hold records one invariant after fault: a broken one fails the test.
func (c *tally) hold(t *testing.T, fault, invariant string, ok bool, detail string) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if ok {
		c.held++
		return
	}
	c.broken++
	t.Errorf("fault %q: invariant %q broken: %s", fault, invariant, detail)
}

// The link: the victim (node 0, priority 200) and its peer (node 1,
// priority 100) run VRRP instance VI_1 for VIP 192.0.2.50.
const (
	advertInt = 100 * time.Millisecond
	vip       = "192.0.2.50/24"
	canaryIP  = "192.0.2.77/24"
	canaryRt  = "198.51.100.0/24"
)

// masterDown is RFC 5798's Master_Down_Interval of the backup that takes
// over (priority p): 3 adverts and the skew.
func masterDown(p int) time.Duration { return 3*advertInt + time.Duration(256-p)*advertInt/256 }

// victimModel is the victim's model: extra goes under the instance (track
// scripts, notify), scripts is the scripts: section, statics the extra
// static addresses (the kernel must converge to them).
func victimModel(scripts, extra string, statics []string) string {
	var b strings.Builder
	b.WriteString("version: 1\nglobal: {resync_interval: 300ms}\n")
	if scripts != "" {
		b.WriteString("scripts:\n" + scripts)
	}
	b.WriteString("addresses:\n  - {address: 192.0.2.10/24, interface: eth0}\n")
	for _, a := range statics {
		fmt.Fprintf(&b, "  - {address: %s, interface: eth0}\n", a)
	}
	b.WriteString("routes:\n  - {to: 203.0.113.0/24, interface: eth0}\n")
	b.WriteString("vrrp_instances:\n  - name: VI_1\n    interface: eth0\n    virtual_router_id: 9\n    priority: 200\n" +
		"    version: 3\n    advert_int: 0.1\n    virtual_addresses: [{address: " + vip + "}]\n" + extra)
	return b.String()
}

const peerModel = `version: 1
vrrp_instances:
  - {name: VI_1, interface: eth0, virtual_router_id: 9, priority: 100, version: 3, advert_int: 0.1,
     virtual_addresses: [{address: ` + vip + `}]}
`

// pair is the link with its two daemons.
type pair struct {
	bin          string
	lan          *nstest.LAN
	victim, peer *nstest.NS
	vdir, pdir   string
	vsock, psock string
	file         string // the victim's model
	w            *daemon
	starts       int
	c            *tally
}

func newPair(t *testing.T, bin string, c *tally) *pair {
	lan := nstest.NewLAN(t, "fl", 2)
	p := &pair{bin: bin, lan: lan, victim: lan.Nodes[0], peer: lan.Nodes[1], vdir: t.TempDir(), pdir: t.TempDir(), c: c}
	p.vsock, p.psock = filepath.Join(p.vdir, "s.sock"), filepath.Join(p.pdir, "s.sock")
	p.file = filepath.Join(p.vdir, "lbx.yaml")
	p.victim.Run(t, "ip", "addr", "add", "192.0.2.1/24", "dev", "eth0")
	p.peer.Run(t, "ip", "addr", "add", "192.0.2.2/24", "dev", "eth0")
	// The canaries: a hand-added address and route that match nothing
	// lbx made.
	p.victim.Run(t, "ip", "addr", "add", canaryIP, "dev", "eth0")
	p.victim.Run(t, "ip", "route", "add", canaryRt, "dev", "eth0")
	pfile := filepath.Join(p.pdir, "lbx.yaml")
	os.WriteFile(pfile, []byte(peerModel), 0o644)
	startDaemon(t, p.peer, p.pdir, "peer", bin, "watch", "-f", pfile, "--state-dir", p.pdir, "--run-dir", p.pdir, "--status-socket", p.psock)
	return p
}

// start starts the victim on model y (written to p.file unless empty)
// with extra flags.
func (p *pair) start(t *testing.T, y string, extra ...string) {
	t.Helper()
	if y != "" {
		os.WriteFile(p.file, []byte(y), 0o644)
	}
	p.startCmd(t, p.bin, append([]string{"watch", "-f", p.file, "--state-dir", p.vdir, "--run-dir", p.vdir, "--status-socket", p.vsock}, extra...)...)
}

// startCmd starts the victim as name args (lbx, or a wrapper that execs
// it: its pid is the daemon's).
func (p *pair) startCmd(t *testing.T, name string, args ...string) {
	t.Helper()
	p.starts++
	p.w = startDaemon(t, p.victim, p.vdir, fmt.Sprintf("victim%d", p.starts), name, args...)
}

// masterNow: which node is master, per lbx status and the VIP; "" and why
// when not exactly one.
// The four reads run side by side, so that they see one moment as
// nearly as a busy machine allows.
func (p *pair) masterNow() (string, string) {
	var vs, ps floodStatus
	var verr, perr error
	var vvip, pvip bool
	var wg sync.WaitGroup
	wg.Add(4)
	go func() { defer wg.Done(); vs, verr = status(p.victim, p.bin, p.vsock) }()
	go func() { defer wg.Done(); ps, perr = status(p.peer, p.bin, p.psock) }()
	go func() { defer wg.Done(); vvip = hasAddr(p.victim, vip) }()
	go func() { defer wg.Done(); pvip = hasAddr(p.peer, vip) }()
	wg.Wait()
	switch {
	case verr == nil && vs.state == "MASTER" && ps.state != "MASTER" && vvip && !pvip:
		return "victim", ""
	case perr == nil && ps.state == "MASTER" && vs.state != "MASTER" && pvip && !vvip:
		return "peer", ""
	}
	return "", fmt.Sprintf("victim %q (VIP %v, %v), peer %q (VIP %v, %v)", vs.state, vvip, verr, ps.state, pvip, perr)
}

// grepLines keeps the lines of out that contain sub.
func grepLines(out, sub string) string {
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, sub) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

func hasAddr(ns *nstest.NS, a string) bool {
	out := ns.Addrs("eth0")
	return strings.Contains(out, " "+a+" ")
}

// invariants checks, after fault, the invariants but the stop
// (stop checks that): one master within Master_Down_Interval (+1 s),
// the canaries, the kernel at the model (statics), status answering.
func (p *pair) invariants(t *testing.T, fault string, statics []string) {
	t.Helper()
	p.c.fault()
	// The fault has ended once the victim answers again. A daemon
	// restarted after a kill -9 removes the VIP it left behind before
	// anything else: while it reconciles the rest of its model (seconds
	// for a large one on a busy machine, in INIT), the peer is the one
	// master.
	_, err := status(p.victim, p.bin, p.vsock)
	back := waitUntil(15*time.Second, func() bool { _, err = status(p.victim, p.bin, p.vsock); return err == nil })
	p.c.hold(t, fault, "lbx status answers", back, fmt.Sprint(err))
	// took is when the poll that saw one master began: the reads of a
	// poll take a while on a busy machine.
	within := masterDown(100) + time.Second
	start := time.Now()
	var who, why string
	var took time.Duration
	for {
		took = time.Since(start)
		if who, why = p.masterNow(); who != "" || took > within {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.c.hold(t, fault, "one master within Master_Down_Interval", who != "" && took <= within, fmt.Sprintf("after %s (bound %s): %s", took, within, why))
	p.c.mu.Lock()
	p.c.slowestMaster = max(p.c.slowestMaster, took)
	p.c.mu.Unlock()
	canary := hasAddr(p.victim, canaryIP)
	rt := p.victim.Dump("ip", "route", "show", canaryRt)
	kept := fmt.Sprintf("canary address %v, route %q", canary, rt)
	if !canary {
		// What eth0 holds then says who took it.
		kept += "; eth0 holds (192.0.2.x):\n" + grepLines(p.victim.Addrs("eth0"), " 192.0.2.")
	}
	p.c.hold(t, fault, "hand-added objects kept", canary && strings.Contains(rt, canaryRt), kept)
	want := append([]string{"192.0.2.10/24"}, statics...)
	var missing []string
	converged := waitUntil(5*time.Second, func() bool {
		missing = missing[:0]
		out := p.victim.Addrs("eth0")
		for _, a := range want {
			if !strings.Contains(out, " "+a+" ") {
				missing = append(missing, a)
			}
		}
		r := p.victim.Dump("ip", "route", "show", "203.0.113.0/24")
		return len(missing) == 0 && strings.Contains(r, "203.0.113.0/24")
	})
	p.c.hold(t, fault, "kernel converges to the model", converged, fmt.Sprintf("missing %v", missing))
	p.c.hold(t, fault, "ownership record spares the canary", !claims(p.vdir, canaryIP), "the record claims "+canaryIP)
}

// stop is the last invariant of a row: SIGTERM ends the victim within 5 s.
func (p *pair) stop(t *testing.T, fault string) {
	t.Helper()
	at := time.Now()
	p.w.Cmd.Process.Signal(syscall.SIGTERM)
	var err error
	ok := false
	select {
	case err = <-p.w.Done:
		p.w.Done <- err
		ok = err == nil
	case <-time.After(5 * time.Second):
		err = fmt.Errorf("still running 5 s after SIGTERM")
	}
	p.c.hold(t, fault, "SIGTERM stops within 5 s", ok, fmt.Sprint(err))
	t.Logf("%s: stopped %v after SIGTERM", fault, time.Since(at).Round(time.Millisecond))
}

// kill9 kills the victim at once (no priority 0 advert, no cleanup).
func (p *pair) kill9() {
	p.w.Cmd.Process.Kill()
	err := <-p.w.Done
	p.w.Done <- err
}

// claims reports whether an ownership record under dir claims address a.
func claims(dir, a string) bool {
	ip := strings.Split(a, "/")[0]
	return slices.Contains(recordAddrs(dir), ip)
}

// recordAddrs are the addresses the ownership records under dir claim.
func recordAddrs(dir string) []string {
	files, _ := filepath.Glob(filepath.Join(dir, "owned*.json"))
	var out []string
	for _, f := range files {
		var doc struct{ Addresses []string }
		json.Unmarshal([]byte(readFile(f)), &doc)
		for _, k := range doc.Addresses {
			out = append(out, k[strings.LastIndexByte(k, '/')+1:])
		}
	}
	return out
}

func waitUntil(d time.Duration, cond func() bool) bool {
	for end := time.Now().Add(d); ; time.Sleep(50 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(end) {
			return false
		}
	}
}

// TestFaults runs the suite and prints its one summary line.
func TestFaults(t *testing.T) {
	nstest.Require(t, "strace", "unshare", "nsenter", "mount")
	bin := lbxBinary(t)
	c := &tally{applyPoints: map[string]bool{}, hupKills: map[string]bool{}}
	points := faultPoints(t)
	start := time.Now()
	t.Run("apply-kill", func(t *testing.T) { faultApplyKill(t, bin, c, points) })
	p := newPair(t, bin, c)
	for _, row := range []struct {
		name string
		run  func(*testing.T, *pair)
	}{
		{"reload-kill", func(t *testing.T, p *pair) { faultReloadKill(t, p, points) }},
		{"state-full", func(t *testing.T, p *pair) { faultStateDir(t, p, "full") }},
		{"state-readonly", func(t *testing.T, p *pair) { faultStateDir(t, p, "readonly") }},
		{"reload-hostile-models", faultHostileModels},
		{"hung-track-script", faultHungTrack},
		{"hung-notify-scripts", faultHungNotify},
		{"flood-status-and-metrics", faultFloodSockets},
		{"flood-vrrp-hostile", faultFloodVRRP},
	} {
		t.Run(row.name, func(t *testing.T) { row.run(t, p) })
	}
	summary := fmt.Sprintf("faults: tried=%d invariants_held=%d broken=%d apply_kill_points=%d reload_kill_points=%d slowest_one_master=%s (%s)",
		c.tried, c.held, c.broken, len(c.applyPoints), len(c.hupKills), c.slowestMaster.Round(time.Millisecond), time.Since(start).Round(time.Second))
	fmt.Println(summary)
	t.Log(summary)
}

// reloadStatics are the static addresses of the reload models: set 0 and
// set 1 (swapped by each reload), n each.
func reloadStatics(set, n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("10.%d.%d.%d/32", 10+set, i/250, i%250+1))
	}
	return out
}

// faultReloadKill: lbx watch is sent SIGHUP with a changed model (its
// 800 static addresses swapped for 800 others) and killed -9 during the
// reload, then started again; after each restart the invariants hold.
// A quarter of the kills come at a random time of the load and claim
// (before the first kernel change); the rest right after the k-th of the
// reconcile's 1,600 address changes, k drawn at random, as the test sees
// them on an address subscription in the victim's namespace. The progress
// point of a kill is the new and old addresses in the kernel after it;
// kills go on until `points` distinct ones were reached (at most
// 3 x points kills).
func faultReloadKill(t *testing.T, p *pair, points int) {
	const n = 800
	set := 0
	p.start(t, victimModel("", "", reloadStatics(set, n)))
	p.invariants(t, "reload-kill: the first start", reloadStatics(set, n))
	changes := addressChanges(t, p.victim)
	swap := func() {
		set = 1 - set
		os.WriteFile(p.file+".new", []byte(victimModel("", "", reloadStatics(set, n))), 0o644)
		os.Rename(p.file+".new", p.file)
	}
	// How long the load and claim take here: SIGHUP to the first change.
	swap()
	base, at := changes.Load(), time.Now()
	p.w.Cmd.Process.Signal(syscall.SIGHUP)
	waitUntil(10*time.Second, func() bool { return changes.Load() > base })
	load := time.Since(at)
	waitUntil(10*time.Second, func() bool { return changes.Load()-base >= 2*n })
	t.Logf("a reload of %d addresses out and %d in: %v to the first change, %v to the last", n, n, load, time.Since(at))
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 26))
	kills := 0
	for ; len(p.c.hupKills) < points && kills < 3*points; kills++ {
		swap()
		base := changes.Load()
		p.w.Cmd.Process.Signal(syscall.SIGHUP)
		when := ""
		if rng.IntN(4) == 0 {
			delay := time.Duration(rng.Int64N(int64(load)))
			time.Sleep(delay)
			when = fmt.Sprintf("%v after SIGHUP", delay.Round(time.Millisecond))
		} else {
			k := 1 + rng.Int64N(2*n-1)
			for end := time.Now().Add(10 * time.Second); changes.Load()-base < k && time.Now().Before(end); {
				time.Sleep(50 * time.Microsecond)
			}
			when = fmt.Sprintf("after address change #%d of the reload", k)
		}
		p.kill9()
		out := p.victim.Addrs("eth0")
		newIn, oldIn := strings.Count(out, fmt.Sprintf(" 10.%d.", 10+set)), strings.Count(out, fmt.Sprintf(" 10.%d.", 11-set))
		p.c.hupKills[fmt.Sprintf("new %d, old %d", newIn, oldIn)] = true
		p.start(t, "")
		p.invariants(t, fmt.Sprintf("reload-kill #%d: kill -9 %s (new %d/%d, old %d/%d in the kernel)", kills+1, when, newIn, n, oldIn, n), reloadStatics(set, n))
	}
	t.Logf("lbx watch killed during a reload %d times, at %d distinct progress points", kills, len(p.c.hupKills))
	if len(p.c.hupKills) < points {
		t.Errorf("lbx watch was killed during a reload at %d distinct points in %d kills, want at least %d", len(p.c.hupKills), kills, points)
	}
	p.stop(t, "reload-kill")
}

// addressChanges counts the address additions and removals in ns, as an
// address subscription reports them, until the test ends.
func addressChanges(t *testing.T, ns *nstest.NS) *atomic.Int64 {
	h, err := netns.GetFromName(ns.Name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	ch, done := make(chan netlink.AddrUpdate, 8192), make(chan struct{})
	if err := netlink.AddrSubscribeWithOptions(ch, done, netlink.AddrSubscribeOptions{Namespace: &h, ReceiveBufferSize: 8 << 20, ReceiveBufferForceSize: true}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { close(done) })
	var n atomic.Int64
	go func() {
		for range ch {
			n.Add(1)
		}
	}()
	return &n
}

// faultStateDir: the victim's state directory is a tiny tmpfs of its own
// (in a private mount namespace: nothing to clean up on the host) that is
// then filled, or made read-only (spoilState). A reload that adds
// addresses must be refused (the claim cannot be written) and create none
// of them; the daemon goes on. Then lbx apply, with a full or read-only
// state directory of its own, must refuse the same (faultApplyStateDir).
func faultStateDir(t *testing.T, p *pair, how string) {
	sdir := filepath.Join(p.vdir, "state-"+how)
	os.MkdirAll(sdir, 0o755)
	y := victimModel("", "", nil)
	os.WriteFile(p.file, []byte(y), 0o644)
	// unshare execs sh, which execs lbx: the daemon's pid is the wrapper's.
	p.startCmd(t, "unshare", "-m", "--propagation", "private", "sh", "-c",
		`mount -t tmpfs -o size=64k lbxstate "$1" && exec "$2" watch -f "$3" --state-dir "$1" --run-dir "$4" --status-socket "$5"`,
		"sh", sdir, p.bin, p.file, p.vdir, p.vsock)
	fault := "reload with a " + how + " state directory"
	p.invariants(t, how+": the start", nil)
	pid := strconv.Itoa(p.w.Cmd.Process.Pid)
	if out, err := exec.Command("nsenter", "-t", pid, "-m", "sh", "-c", `dir="$1"; `+spoilState(how), "sh", sdir).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", how, err, out)
	}
	more := []string{"192.0.2.31/24", "192.0.2.32/24"}
	os.WriteFile(p.file+".new", []byte(victimModel("", "", more)), 0o644)
	os.Rename(p.file+".new", p.file)
	p.w.Cmd.Process.Signal(syscall.SIGHUP)
	var reloadErr string
	refused := waitUntil(5*time.Second, func() bool { reloadErr = reloadError(p); return reloadErr != "" })
	p.c.hold(t, fault, "the reload is refused with a clear error", refused && strings.Contains(reloadErr, "owner"), "last_reload_error: "+reloadErr)
	time.Sleep(time.Second) // a resync or two
	made := hasAddr(p.victim, more[0]) || hasAddr(p.victim, more[1])
	p.c.hold(t, fault, "nothing created unrecorded", !made, "a new address of the refused reload is on eth0")
	os.WriteFile(p.file, []byte(y), 0o644) // the model in force, for the check
	p.invariants(t, fault, nil)
	p.stop(t, fault)
	faultApplyStateDir(t, p.bin, p.c, how)
}

// spoilState is the shell command that fills ("full") or remounts
// read-only ("readonly") the state directory "$dir".
func spoilState(how string) string {
	if how == "readonly" {
		return `mount -o remount,ro "$dir"`
	}
	return `head -c 1M /dev/zero > "$dir/fill" 2>/dev/null || true`
}

// faultHostileModels: SIGHUP with a hostile model file in place of the
// victim's: a YAML alias bomb (under 1 KiB that expand to 9^9 nodes), a FIFO nobody writes to, /dev/zero behind a link. Each reload
// must be refused within seconds (the previous model stays in force), the
// daemon answering all along; then the good file reloads again.
func faultHostileModels(t *testing.T, p *pair) {
	good := victimModel("", "", nil)
	p.start(t, good)
	p.invariants(t, "hostile models: the start", nil)
	// Under a field the model has, so that the decoder walks into it.
	var bomb strings.Builder
	bomb.WriteString("version: 1\naddresses:\n  - &a0 {address: 10.0.0.1/32, interface: eth0}\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&bomb, "  - &a%d [*a%[2]d, *a%[2]d, *a%[2]d, *a%[2]d, *a%[2]d, *a%[2]d, *a%[2]d, *a%[2]d, *a%[2]d]\n", i, i-1)
	}
	for _, tc := range []struct {
		name string
		put  func(path string) error
	}{
		{"a YAML alias bomb", func(path string) error { return os.WriteFile(path, []byte(bomb.String()), 0o644) }},
		{"a FIFO", func(path string) error { return syscall.Mkfifo(path, 0o644) }},
		{"a link to /dev/zero", func(path string) error { return os.Symlink("/dev/zero", path) }},
	} {
		fault := "reload of " + tc.name
		tmp := p.file + ".hostile"
		os.Remove(tmp)
		if err := tc.put(tmp); err != nil {
			t.Fatal(err)
		}
		os.Rename(tmp, p.file)
		before := reloadError(p)
		p.w.Cmd.Process.Signal(syscall.SIGHUP)
		var got string
		refused := waitUntil(10*time.Second, func() bool { got = reloadError(p); return got != "" && got != before })
		p.c.hold(t, fault, "refused with an error", refused, "last_reload_error: "+got)
		t.Logf("%s: %s", fault, got)
		os.Remove(p.file)
		os.WriteFile(p.file, []byte(good), 0o644)
		p.invariants(t, fault, nil)
	}
	p.w.Cmd.Process.Signal(syscall.SIGHUP)
	p.c.hold(t, "reload of the good model after the hostile ones", "accepted", waitUntil(10*time.Second, func() bool { return reloadError(p) == "" }), reloadError(p))
	p.stop(t, "hostile models")
}

// reloadError is the victim's last_reload_error ("" when the last reload
// was good, or status did not answer).
func reloadError(p *pair) string {
	out, _ := p.victim.Try(p.bin, "status", "-o", "json", "--socket", p.vsock)
	var st struct {
		Daemon struct {
			LastReloadError string `json:"last_reload_error"`
		}
	}
	json.Unmarshal([]byte(out), &st)
	return st.Daemon.LastReloadError
}

// faultHungTrack: the victim's track script hangs (its timeout kills
// each run, which counts as a failure: weight -10 keeps the victim
// master at 190). VRRP goes on, status answers, SIGTERM within 5 s.
func faultHungTrack(t *testing.T, p *pair) {
	hang := filepath.Join(p.vdir, "hang.sh")
	os.WriteFile(hang, []byte("#!/bin/sh\nexec sleep 1000000\n"), 0o755)
	p.start(t, victimModel("  hung: {script: \""+hang+"\", interval: 100ms, timeout: 200ms, weight: -10, fall: 1, rise: 1}\n",
		"    track_scripts: [{name: hung}]\n", nil))
	time.Sleep(2 * time.Second) // ten hung runs
	fault := "a hanging track script"
	p.invariants(t, fault, nil)
	tx := txPackets(p.victim)
	time.Sleep(time.Second)
	p.c.hold(t, fault, "VRRP keeps advertising", txPackets(p.victim)-tx >= 5, fmt.Sprintf("%d packets in 1 s", txPackets(p.victim)-tx))
	p.stop(t, fault)
}

// faultHungNotify: every notify script of the victim (master, backup,
// fault, any) hangs; a tracked link taken down and up 10 times makes 30
// transitions (MASTER -> FAULT -> BACKUP -> MASTER). VRRP goes on, one
// master, status answers, SIGTERM within 5 s with scripts hanging.
func faultHungNotify(t *testing.T, p *pair) {
	hang := filepath.Join(p.vdir, "hangn.sh")
	os.WriteFile(hang, []byte("#!/bin/sh\nexec sleep 1000000\n"), 0o755)
	p.victim.Try("ip", "link", "add", "t0", "type", "veth", "peer", "name", "t0p")
	p.victim.Run(t, "ip", "link", "set", "t0", "up")
	p.victim.Run(t, "ip", "link", "set", "t0p", "up")
	p.start(t, victimModel("", "    track_interfaces: [{name: t0p}]\n    notify: {master: "+hang+", backup: "+hang+", fault: "+hang+", any: "+hang+"}\n", nil))
	p.invariants(t, "hung notify: the start", nil)
	for range 10 {
		p.victim.Run(t, "ip", "link", "set", "t0p", "down")
		time.Sleep(200 * time.Millisecond)
		p.victim.Run(t, "ip", "link", "set", "t0p", "up")
		time.Sleep(500 * time.Millisecond)
	}
	fault := "hanging notify master/backup/fault scripts over 30 transitions"
	p.invariants(t, fault, nil)
	st, _ := status(p.victim, p.bin, p.vsock)
	p.c.hold(t, fault, "the victim made its transitions", st.transitions >= 20, fmt.Sprintf("%d transitions", st.transitions))
	p.stop(t, fault)
}

// faultFloodSockets: 2,000 idle connections on the metrics port and 1,000
// on the status socket, held 3 s (as in TestFloodKeepsVIP, here with the
// peer and the invariants).
func faultFloodSockets(t *testing.T, p *pair) {
	p.start(t, victimModel("", "", nil), "--metrics-addr", "127.0.0.1:9651")
	p.invariants(t, "flood: the start", nil)
	testkit.Eventually(t, "the metrics port", settle, func() bool { _, err := p.victim.HTTPGet("http://127.0.0.1:9651/metrics"); return err == nil })
	var held []net.Conn
	p.victim.In(t, func() { held = dialMany(t, "tcp", "127.0.0.1:9651", 2000) })
	held = append(held, dialMany(t, "unix", p.vsock, 1000)...)
	fault := fmt.Sprintf("a flood of %d idle connections on the metrics port and the status socket", len(held))
	_, err := status(p.victim, p.bin, p.vsock)
	p.c.hold(t, fault, "lbx status answers during the flood", err == nil, fmt.Sprint(err))
	time.Sleep(3 * time.Second)
	for _, c := range held {
		c.Close()
	}
	p.invariants(t, fault, nil)
	p.stop(t, fault)
}

// faultFloodVRRP: 20,000 hostile adverts for VI_1 from the peer's node
// (priority 254, each with one fault: TTL 64, a bad checksum, a wrong
// version, truncated) in 2 s, on the victim's VRRP socket. None may be
// taken: the victim stays master without a transition.
func faultFloodVRRP(t *testing.T, p *pair) {
	p.start(t, victimModel("", "", nil))
	p.invariants(t, "hostile VRRP: the start", nil)
	before := waitMaster(t, p.victim, p.bin, p.vsock)
	src := netip.MustParseAddr("192.0.2.2")
	good, err := packet.Marshal(&packet.Packet{Version: 3, VRID: 9, Priority: 254, Interval: advertInt, Addrs: []netip.Addr{netip.MustParsePrefix(vip).Addr()}}, src, packet.Group4)
	if err != nil {
		t.Fatal(err)
	}
	bad := [][]byte{
		good, // sent with TTL 64
		func() []byte { b := slices.Clone(good); b[6] ^= 0xff; return b }(),
		func() []byte { b := slices.Clone(good); b[0] = 0x21; return b }(),
		good[:6],
	}
	p.peer.In(t, func() {
		c, err := net.ListenPacket("ip4:112", "192.0.2.2")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		pc := ipv4.NewPacketConn(c)
		dst := &net.IPAddr{IP: net.IPv4(224, 0, 0, 18)}
		ifi, _ := net.InterfaceByName("eth0")
		pc.SetMulticastInterface(ifi)
		for i := range 20000 {
			ttl := 255
			if i%len(bad) == 0 {
				ttl = 64
			}
			pc.SetMulticastTTL(ttl)
			pc.WriteTo(bad[i%len(bad)], nil, dst)
			if i%100 == 99 {
				time.Sleep(10 * time.Millisecond)
			}
		}
	})
	fault := "20,000 hostile VRRP adverts"
	p.invariants(t, fault, nil)
	after, err := status(p.victim, p.bin, p.vsock)
	p.c.hold(t, fault, "no transition", err == nil && after.transitions == before.transitions && after.state == "MASTER",
		fmt.Sprintf("transitions %d -> %d, state %s, %v", before.transitions, after.transitions, after.state, err))
	p.stop(t, fault)
}

// txPackets is what eth0 of ns has sent.
func txPackets(ns *nstest.NS) int {
	out, _ := ns.Try("cat", "/sys/class/net/eth0/statistics/tx_packets")
	n, _ := strconv.Atoi(strings.TrimSpace(out))
	return n
}
