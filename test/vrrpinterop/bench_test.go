package vrrpinterop

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/nstest"
	"github.com/lbx-dev/lbx/internal/testkit"
	"github.com/vishvananda/netlink"
)

// arpWatch reports, from an observer namespace, the time of each
// gratuitous ARP for vip and the sender's MAC.
type garpSeen struct {
	at  time.Time
	mac net.HardwareAddr
}

func arpWatch(b testing.TB, ns *nstest.NS, vip netip.Addr) <-chan garpSeen {
	ch := make(chan garpSeen, 1024)
	capture(b, socketIn(b, ns, syscall.AF_PACKET, syscall.SOCK_RAW, int(htons(syscall.ETH_P_ARP))), func(f []byte) {
		if len(f) < 42 {
			return
		}
		spa, _ := netip.AddrFromSlice(f[28:32])
		tpa, _ := netip.AddrFromSlice(f[38:42])
		if spa == vip && tpa == vip {
			select {
			case ch <- garpSeen{at: time.Now(), mac: append(net.HardwareAddr(nil), f[22:28]...)}:
			default:
			}
		}
	})
	return ch
}

// advertWatch reports, from an observer namespace, the time of each VRRP
// advertisement sent from mac.
func advertWatch(b testing.TB, ns *nstest.NS, mac net.HardwareAddr) <-chan time.Time {
	ch := make(chan time.Time, 1024)
	capture(b, socketIn(b, ns, syscall.AF_PACKET, syscall.SOCK_RAW, int(htons(syscall.ETH_P_IP))), func(f []byte) {
		// Ethernet (14 bytes), then IPv4: protocol at byte 9.
		if len(f) < 14+20 || f[14+9] != 112 || !bytes.Equal(f[6:12], mac) {
			return
		}
		select {
		case ch <- time.Now():
		default:
		}
	})
	return ch
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func macOf(b testing.TB, p *peer) net.HardwareAddr {
	l, err := p.nl.LinkByName("eth0")
	if err != nil {
		b.Fatal(err)
	}
	return l.Attrs().HardwareAddr
}

// failoverOnce kills the master and returns the time until the backup owns
// the address and has sent its first gratuitous ARP.
func failoverOnce(b *testing.B, kind string, v vr) time.Duration {
	ps, _ := lan(b, kind, kind, "lbx")
	hi, lo, obs := ps[0], ps[1], ps[2]
	hi.vr, lo.vr = v, v
	hi.prio, lo.prio = 150, 100
	garps := arpWatch(b, obs.ns, v.vipAddr())
	adverts := advertWatch(b, obs.ns, macOf(b, hi))
	hi.start()
	lo.start()
	converged(hi, lo, v)
	stable(b, hi, []*peer{hi, lo}, 10*v.advert)
	// Stop the new master when done: iterations must not pile up
	// running routers (namespaces go at the end of the benchmark).
	defer lo.kill()
	loMAC := macOf(b, lo)
	for len(garps) > 0 {
		<-garps
	}
	// The kill comes just after one of the master's adverts, the worst
	// phase: the backup then waits a whole Master_Down_Interval. Without
	// it the phase was wherever the settle time fell, the same for most
	// runs of one tool and not of the other (issue 27's failover ratio
	// read 0.77 for a takeover no faster).
	for len(adverts) > 0 {
		<-adverts
	}
	select {
	case <-adverts:
	case <-time.After(5 * v.advert):
		b.Fatalf("%s: no advert from the master", kind)
	}
	t0 := time.Now()
	hi.kill()
	addrAt := lo.waitVIP(true, 5*v.mdi(100), t0)
	deadline := time.After(5 * time.Second)
	for {
		select {
		case g := <-garps:
			if g.mac.String() != loMAC.String() {
				continue
			}
			return max(addrAt, g.at.Sub(t0))
		case <-deadline:
			b.Fatalf("%s: no gratuitous ARP from the new master", kind)
		}
	}
}

// BenchmarkFailover: master SIGKILLed (just after one of its adverts, seen
// on the wire: the worst phase) → backup owns the VIP and sent its
// first GARP, lbx vs keepalived with the same settings (VRRPv3, 0.1 s
// adverts, priorities 150/100), run side by side. Prints an @@BENCH line
// with the ratio of the means (lbx / keepalived; issue 27's target: ≤ 1).
func BenchmarkFailover(b *testing.B) {
	v := v3fast
	took := map[string][]time.Duration{}
	for i := 0; i < b.N; i++ {
		for _, kind := range []string{"lbx", "keepalived"} {
			took[kind] = append(took[kind], failoverOnce(b, kind, v))
		}
	}
	l, k := mean(took["lbx"]), mean(took["keepalived"])
	b.ReportMetric(ms(l), "lbx-ms")
	b.ReportMetric(ms(k), "keepalived-ms")
	benchLine(b, "vrrp-failover", ms(l), ms(k), "ms", failoverTarget,
		fmt.Sprintf("VRRPv3 advert %s, priorities 150/100, master SIGKILLed → backup owns the VIP and sent its GARP; mean of %d; lbx %s, keepalived %s; Master_Down_Interval %s",
			v.advert, b.N, spread(took["lbx"]), spread(took["keepalived"]), v.mdi(100)))
}

// Issue 27's targets, as ratios lbx / keepalived.
const (
	failoverTarget = 1.0 // failover at advert 0.1 s no slower than keepalived's
	rssTarget      = 2.0 // peak RSS of the VRRP-only daemon at most twice keepalived's VRRP process
)

// benchLine prints the comparison as `make bench` reads it: an @@BENCH
// line with the ratio and its target, and an @@BENCH FAIL line when the
// ratio misses the target (a measurement, not a broken build). Lines come
// only from a run of at least 3 iterations: the framework's first call
// (b.N = 1) is a warm-up, not a figure.
func benchLine(b *testing.B, name string, lbx, anchor float64, unit string, target float64, note string) {
	if b.N < 3 {
		b.Logf("%s: %d run(s); the @@BENCH line needs -benchtime 3x or more", name, b.N)
		return
	}
	ratio := lbx / anchor
	fmt.Printf("\n@@BENCH %s lbx=%.1f%s keepalived=%.1f%s ratio=%.2f target=<=%.2f (%s)\n", name, lbx, unit, anchor, unit, ratio, target, note)
	if ratio > target {
		fmt.Printf("@@BENCH FAIL %s ratio=%.2f target=<=%.2f\n", name, ratio, target)
	}
}

func mean(ds []time.Duration) time.Duration {
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return sum / time.Duration(len(ds))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// spread is "min–max" of ds in milliseconds.
func spread(ds []time.Duration) string {
	return fmt.Sprintf("%.1f–%.1f ms", ms(slices.Min(ds)), ms(slices.Max(ds)))
}

func vmHWM(b testing.TB, pid int) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	b.Fatal("no VmHWM")
	return 0
}

// many is n instances (VRIDs 1..n) on eth0, VRRPv3, at one priority and
// advert interval; master: they start as MASTER (state MASTER).
type many struct {
	n      int
	prio   int
	advert time.Duration
	master bool
}

// manyVIP is instance i's virtual address.
func manyVIP(i int) string { return fmt.Sprintf("10.78.%d.%d", i/250, i%250+1) }

func (m many) model() string {
	var s strings.Builder
	s.WriteString("version: 1\nvrrp_instances:\n")
	state := ""
	if m.master {
		state = "state: MASTER, "
	}
	for i := 1; i <= m.n; i++ {
		fmt.Fprintf(&s, "  - {name: VI_%d, interface: eth0, %svirtual_router_id: %d, priority: %d, version: 3, advert_int: %s, virtual_addresses: [{address: %s/32}]}\n", i, state, i, m.prio, m.advert, manyVIP(i))
	}
	return s.String()
}

func (m many) conf() string {
	var s strings.Builder
	s.WriteString("global_defs {\n  enable_script_security\n  script_user root\n}\n")
	state := "BACKUP"
	if m.master {
		state = "MASTER"
	}
	for i := 1; i <= m.n; i++ {
		fmt.Fprintf(&s, "vrrp_instance VI_%d {\n  state %s\n  interface eth0\n  virtual_router_id %d\n  priority %d\n  version 3\n  advert_int %g\n  virtual_ipaddress {\n    %s/32 dev eth0\n  }\n}\n", i, state, i, m.prio, m.advert.Seconds(), manyVIP(i))
	}
	return s.String()
}

// write puts text in p's directory as name and returns its path.
func write(b testing.TB, p *peer, name, text string) string {
	f := filepath.Join(p.dir, name)
	if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
		b.Fatal(err)
	}
	return f
}

// BenchmarkRSS: peak RSS (VmHWM) of lbx watch and of keepalived's VRRP
// process, for 1 and 100 instances, after 4 s of running as masters, and
// for 100 once settled: 5 s after lbx-vrrp's first garbage collection
// after the one it forces at the end of its start (GODEBUG=gctrace=1
// tells when). The forced one (footprint.SettleStart) maps the runtime's
// own metadata for every size class in use, some 0.7 MB that stays; the
// next is the first that the running daemon's own allocations bring, or
// the one the runtime makes 2 minutes after the last: what a long run
// holds.
// b.N runs of each side by side (the settled row at most settledRuns),
// median and spread. lbx is the shipped build (shippedBin: static,
// -trimpath, as make build and the packages make it), not the test
// harness's, whose cgo-linked libc adds about 2 MiB of pages.
func BenchmarkRSS(b *testing.B) {
	bin := shippedBin(b)
	for _, c := range []struct {
		n       int
		wait    time.Duration
		settled bool
		name    string
	}{{1, 4 * time.Second, false, "vrrp-rss-1"}, {100, 4 * time.Second, false, "vrrp-rss-100"}, {100, 0, true, "vrrp-rss-100-settled"}} {
		n := c.n
		name := fmt.Sprintf("instances=%d/after=%s", n, c.wait)
		if c.settled {
			name = fmt.Sprintf("instances=%d/after=collection", n)
		}
		b.Run(name, func(b *testing.B) {
			ps, _ := lan(b, "lbx", "keepalived")
			l, k := ps[0], ps[1]
			vrs := many{n: n, prio: 100, advert: time.Second, master: true}
			lf, kf := write(b, l, "model.yaml", vrs.model()), write(b, k, "keepalived.conf", vrs.conf())
			runs := b.N
			if c.settled {
				runs = min(b.N, settledRuns)
			}
			var lr, kr []int
			var waited []time.Duration
			for i := 0; i < runs; i++ {
				l.cmd = l.ns.Cmd(bin, "watch", "-f", lf, "--state-dir", l.dir, "--run-dir", l.dir)
				k.cmd = k.ns.Cmd("keepalived", "--vrrp", "-n", "-l", "-f", kf, "-p", filepath.Join(k.dir, "k.pid"), "-r", filepath.Join(k.dir, "v.pid"))
				var lk, kk int
				if c.settled {
					l.cmd.Env = append(os.Environ(), "GODEBUG=gctrace=1")
					var at time.Duration
					if lk, kk, at = settledRSS(b, l, k); at >= 0 {
						waited = append(waited, at)
					}
				} else {
					lk, kk = peakRSS(b, l, k, c.wait)
				}
				lr, kr = append(lr, lk), append(kr, kk)
			}
			lm, km := median(lr), median(kr)
			b.ReportMetric(float64(lm), "lbx-KiB")
			b.ReportMetric(float64(km), "keepalived-KiB")
			when := "after " + c.wait.String()
			if c.settled {
				when = "5 s after lbx-vrrp's first garbage collection after its start's"
				if len(waited) > 0 {
					when += fmt.Sprintf(", which came %s–%s after its start", slices.Min(waited).Round(time.Second), slices.Max(waited).Round(time.Second))
				}
				if none := len(lr) - len(waited); none > 0 {
					when += fmt.Sprintf(" (in %d run(s) none came within %s: read then)", none, collectionTimeout)
				}
			}
			benchLine(b, c.name, mib(lm), mib(km), "MiB", rssTarget,
				fmt.Sprintf("VmHWM %s, %d instance(s), VRRPv3 advert 1 s; median of %d; lbx %.1f–%.1f MiB, keepalived's VRRP process %.1f–%.1f MiB",
					when, n, len(lr), mib(slices.Min(lr)), mib(slices.Max(lr)), mib(slices.Min(kr)), mib(slices.Max(kr))))
		})
	}
}

// settledRuns bounds the settled row's runs: each waits for a collection.
const settledRuns = 5

// collectionTimeout is how long the settled row waits for lbx-vrrp's
// collection after its start's (the runtime makes one 2 minutes after the
// last).
const collectionTimeout = 4 * time.Minute

// settledRSS is peakRSS measured 5 s after lbx-vrrp's first garbage
// collection after its start's, with when it came (lbx-vrrp's uptime), or
// -1 when none came within collectionTimeout (then it measures all the
// same). lbx watch runs lbx-vrrp in its place, same PID: the output after
// lbx-vrrp's "lbx-vrrp started" line is lbx-vrrp's, and the start's
// collection, forced, comes after it.
func settledRSS(b *testing.B, l, k *peer) (lbx, keepalived int, at time.Duration) {
	defer startAll(b, l, k)()
	from := -1
	for start := time.Now(); from < 0; time.Sleep(10 * time.Millisecond) {
		if from = strings.Index(l.out.String(), "lbx-vrrp started"); from < 0 && time.Since(start) > 30*time.Second {
			b.Fatalf("lbx watch did not run lbx-vrrp within 30 s; its output:\n%s", l.out.String())
		}
	}
	at = -1
	for start := time.Now(); at < 0 && time.Since(start) < collectionTimeout; time.Sleep(100 * time.Millisecond) {
		if t, ok := collectionAfterForced(l.out.String()[from:]); ok {
			at = t
		}
	}
	time.Sleep(5 * time.Second)
	return vmHWM(b, l.cmd.Process.Pid), vmHWM(b, vrrpPid(b, k)), at
}

// collectionAfterForced finds, in out (one process's lines), gctrace's
// line of the first collection after the first forced one ("gc 3
// @120.5s 0%: ..."; a forced one ends in "(forced)"), and returns its
// time since the process's start. A collection the start's allocations
// brought before the forced one does not count.
func collectionAfterForced(out string) (time.Duration, bool) {
	forced := false
	for line := range strings.Lines(out) {
		rest, ok := strings.CutPrefix(line, "gc ")
		if ok {
			_, rest, ok = strings.Cut(rest, " @")
		}
		switch {
		case !ok:
		case !forced:
			forced = strings.HasSuffix(strings.TrimSpace(line), "(forced)")
		default:
			secs, _, _ := strings.Cut(rest, "s ")
			f, err := strconv.ParseFloat(secs, 64)
			return time.Duration(f * float64(time.Second)), err == nil
		}
	}
	return 0, false
}

func TestCollectionAfterForced(t *testing.T) {
	const (
		started = "time=... msg=\"lbx-vrrp started\" at=x @1s \n"
		brought = "gc 1 @0.030s 0%: 0.011+0.32+0.004 ms clock, 2->2->1 MB, 2 MB goal, 0 MB stacks, 0 MB globals, 1 P\n"
		forced  = "gc 2 @0.041s 0%: 0.011+0.32+0.004 ms clock, 4->4->1 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 1 P (forced)\n"
		later   = "gc 3 @120.503s 0%: 0.012+0.25+0.003 ms clock, 1->1->1 MB, 2 MB goal, 0 MB stacks, 0 MB globals, 1 P\n"
	)
	for _, tc := range []struct {
		name, out string
		want      time.Duration
		ok        bool
	}{
		{"the one after the start's", started + forced + "time=... msg=applied\n" + later, 120503 * time.Millisecond, true},
		{"one the start brought comes first", started + brought + forced + later, 120503 * time.Millisecond, true},
		{"none after the start's yet", started + brought + forced, 0, false},
		{"none forced yet", started + brought + later, 0, false},
	} {
		if got, ok := collectionAfterForced(tc.out); ok != tc.ok || got.Round(time.Millisecond) != tc.want {
			t.Errorf("%s: %s, %v; want %s, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

// peakRSS starts l (lbx watch) and k (keepalived) with their commands set,
// lets them run for wait, reads each one's VmHWM (keepalived's VRRP
// child's, by its pid file) in KiB, and stops both.
func peakRSS(b *testing.B, l, k *peer, wait time.Duration) (lbx, keepalived int) {
	defer startAll(b, l, k)()
	time.Sleep(wait)
	return vmHWM(b, l.cmd.Process.Pid), vmHWM(b, vrrpPid(b, k))
}

// startAll starts the peers' commands (set by the caller), each in its own
// process group with its output kept, and returns what stops them.
func startAll(b *testing.B, ps ...*peer) (stop func()) {
	for _, p := range ps {
		os.Remove(filepath.Join(p.dir, "v.pid")) // the last run's
		p.out = &syncBuf{}
		p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
		p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := p.cmd.Start(); err != nil {
			b.Fatal(err)
		}
	}
	return func() {
		for _, p := range ps {
			p.kill()
		}
	}
}

func median(v []int) int {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func mib(kib int) float64 { return float64(kib) / 1024 }

// shippedBin is lbx as make build makes it (static, -trimpath), the
// build operators run; lbxBin may be a race or cgo build.
func shippedBin(b *testing.B) string {
	return filepath.Join(testkit.Binaries(b, "./cmd/lbx", "./cmd/lbx-vrrp"), "lbx")
}

// BenchmarkBackupCPU: the CPU a backup spends following a master of 100
// instances that advertises every 0.1 s (1,000 adverts a second): lbx
// watch next to keepalived's VRRP process, both backups of one keepalived
// master on one LAN, over 10 s after a 3 s settle; b.N runs, median and
// spread. Issue 27 sets no target for it: the line reports the ratio.
func BenchmarkBackupCPU(b *testing.B) {
	bin := shippedBin(b)
	const n = 100
	ps, _ := lan(b, "keepalived", "lbx", "keepalived")
	m, l, k := ps[0], ps[1], ps[2]
	mf := write(b, m, "keepalived.conf", many{n: n, prio: 150, advert: 100 * time.Millisecond, master: true}.conf())
	backup := many{n: n, prio: 100, advert: 100 * time.Millisecond}
	lf, kf := write(b, l, "model.yaml", backup.model()), write(b, k, "keepalived.conf", backup.conf())
	var lt, kt []int
	var ratios []float64
	for i := 0; i < b.N; i++ {
		m.cmd = keepalivedCmd(m, mf)
		l.cmd = l.ns.Cmd(bin, "watch", "-f", lf, "--state-dir", l.dir, "--run-dir", l.dir)
		k.cmd = keepalivedCmd(k, kf)
		lc, kc := backupTicks(b, m, l, k)
		lt, kt, ratios = append(lt, lc), append(kt, kc), append(ratios, float64(lc)/float64(max(kc, 1)))
	}
	b.ReportMetric(float64(median(lt)), "lbx-ticks")
	b.ReportMetric(float64(median(kt)), "keepalived-ticks")
	if b.N < 3 {
		return
	}
	// Both backups run at once, so a run's ratio is free of what else
	// the host did then; its median is the figure.
	slices.Sort(ratios)
	fmt.Printf("\n@@BENCH vrrp-backup-cpu lbx=%dticks keepalived=%dticks ratio=%.2f (CPU of a backup over 10 s, %d instances hearing a keepalived master's adverts every 0.1 s; medians of %d runs, the ratio the median of the runs' ratios, %.2f–%.2f; lbx %d–%d, keepalived's VRRP process %d–%d clock ticks; no target)\n",
		median(lt), median(kt), ratios[len(ratios)/2], n, b.N, ratios[0], ratios[len(ratios)-1], slices.Min(lt), slices.Max(lt), slices.Min(kt), slices.Max(kt))
}

// keepalivedCmd is keepalived running only VRRP on conf, in p's namespace,
// its pid files in p's directory (v.pid: the VRRP process).
func keepalivedCmd(p *peer, conf string) *exec.Cmd {
	return p.ns.Cmd("keepalived", "--vrrp", "-n", "-l", "-f", conf, "-p", filepath.Join(p.dir, "k.pid"), "-r", filepath.Join(p.dir, "v.pid"))
}

// backupTicks starts the master m, then the backups l (lbx watch) and k
// (keepalived), and returns the clock ticks (user + system) each backup
// used over 10 s once settled; neither may hold an address of the master.
func backupTicks(b *testing.B, m, l, k *peer) (lbx, keepalived int) {
	defer startAll(b, m)()
	time.Sleep(time.Second) // the master's adverts come first
	defer startAll(b, l, k)()
	time.Sleep(3 * time.Second)
	kpid := vrrpPid(b, k)
	l0, k0 := cpuTicks(b, l.cmd.Process.Pid), cpuTicks(b, kpid)
	time.Sleep(10 * time.Second)
	lbx, keepalived = cpuTicks(b, l.cmd.Process.Pid)-l0, cpuTicks(b, kpid)-k0
	for _, p := range []*peer{l, k} {
		if n := heldVIPs(b, p); n > 0 {
			b.Fatalf("%s holds %d of the master's addresses: not a backup\n%s", p.name(), n, p.out.String())
		}
	}
	return lbx, keepalived
}

// vrrpPid is the pid of keepalived's VRRP process in p, from its pid file.
func vrrpPid(b *testing.B, p *peer) int {
	data, err := os.ReadFile(filepath.Join(p.dir, "v.pid"))
	if err != nil {
		b.Fatalf("keepalived VRRP pid: %v\n%s", err, p.out.String())
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		b.Fatalf("keepalived VRRP pid file: %v", err)
	}
	return pid
}

// cpuTicks is the user and system time of pid, in clock ticks.
func cpuTicks(b *testing.B, pid int) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// The fields after the command's name, which ends at the last ')':
	// state is the first, utime the 12th, stime the 13th.
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	u, err1 := strconv.Atoi(f[11])
	s, err2 := strconv.Atoi(f[12])
	if err1 != nil || err2 != nil {
		b.Fatalf("/proc/%d/stat: %q", pid, data)
	}
	return u + s
}

// heldVIPs counts the addresses of 10.78.0.0/16 (manyVIP's) on p's eth0.
func heldVIPs(b *testing.B, p *peer) int {
	link, err := p.nl.LinkByName("eth0")
	if err != nil {
		b.Fatal(err)
	}
	addrs, err := p.nl.AddrList(link, netlink.FAMILY_V4)
	if err != nil {
		b.Fatal(err)
	}
	held := 0
	for _, a := range addrs {
		if ip, ok := netip.AddrFromSlice(a.IP); ok && netip.MustParsePrefix("10.78.0.0/16").Contains(ip.Unmap()) {
			held++
		}
	}
	return held
}
