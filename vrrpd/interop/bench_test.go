package interop

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/nstest"
)

// arpWatch reports, from an observer namespace, the time of each
// gratuitous ARP for vip and the sender's MAC.
type garpSeen struct {
	at  time.Time
	mac net.HardwareAddr
}

func arpWatch(b testing.TB, ns *nstest.NS, vip netip.Addr) <-chan garpSeen {
	var fd int
	var err error
	ns.In(b, func() {
		fd, err = syscall.Socket(syscall.AF_PACKET, syscall.SOCK_RAW, int(htons(syscall.ETH_P_ARP)))
	})
	if err != nil {
		b.Fatal(err)
	}
	ch := make(chan garpSeen, 1024)
	b.Cleanup(func() { syscall.Close(fd) })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, _, err := syscall.Recvfrom(fd, buf, 0)
			if err != nil {
				return
			}
			if n < 42 {
				continue
			}
			spa, _ := netip.AddrFromSlice(buf[28:32])
			tpa, _ := netip.AddrFromSlice(buf[38:42])
			if spa == vip && tpa == vip {
				select {
				case ch <- garpSeen{at: time.Now(), mac: append(net.HardwareAddr(nil), buf[22:28]...)}:
				default:
				}
			}
		}
	}()
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

// BenchmarkFailover: master SIGKILLed (just after one of its adverts: the
// worst phase, as the test's settle time is a whole number of intervals) → backup owns the VIP and sent its
// first GARP, lbx vs keepalived with the same settings (VRRPv3, 0.1 s
// adverts, priorities 150/100), run side by side. Prints one line with the
// ratio (lbx / keepalived; < 1 means lbx is faster).
func BenchmarkFailover(b *testing.B) {
	v := v3fast
	var sum = map[string]time.Duration{}
	for i := 0; i < b.N; i++ {
		for _, kind := range []string{"lbx", "keepalived"} {
			sum[kind] += failoverOnce(b, kind, v)
		}
	}
	l := sum["lbx"] / time.Duration(b.N)
	k := sum["keepalived"] / time.Duration(b.N)
	b.ReportMetric(float64(l.Milliseconds()), "lbx-ms")
	b.ReportMetric(float64(k.Milliseconds()), "keepalived-ms")
	fmt.Printf("failover v3 advert=%s prio=150/100 runs=%d: lbx=%.1fms keepalived=%.1fms Master_Down_Interval=%s ratio=%.2f\n",
		v.advert, b.N, float64(l.Microseconds())/1000, float64(k.Microseconds())/1000, v.mdi(100), float64(l)/float64(k))
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

// manyModel / manyConf: n instances (VRIDs 1..n) on eth0, 1 s adverts.
func manyModel(n int) string {
	var s strings.Builder
	s.WriteString("version: 1\nvrrp_instances:\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&s, "  - {name: VI_%d, interface: eth0, state: MASTER, virtual_router_id: %d, priority: 100, version: 3, advert_int: 1s, virtual_addresses: [{address: 10.78.%d.%d/32}]}\n", i, i, i/250, i%250+1)
	}
	return s.String()
}

func manyConf(n int) string {
	var s strings.Builder
	s.WriteString("global_defs {\n  enable_script_security\n  script_user root\n}\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&s, "vrrp_instance VI_%d {\n  state MASTER\n  interface eth0\n  virtual_router_id %d\n  priority 100\n  version 3\n  advert_int 1\n  virtual_ipaddress {\n    10.78.%d.%d/32 dev eth0\n  }\n}\n", i, i, i/250, i%250+1)
	}
	return s.String()
}

// BenchmarkRSS: peak RSS (VmHWM) of lbx watch and of keepalived's VRRP
// process, for 1 and 100 instances, after 3 s of running as masters.
func BenchmarkRSS(b *testing.B) {
	for _, n := range []int{1, 100} {
		b.Run(fmt.Sprintf("instances=%d", n), func(b *testing.B) {
			ps, _ := lan(b, "lbx", "keepalived")
			l, k := ps[0], ps[1]
			lf := filepath.Join(l.dir, "model.yaml")
			os.WriteFile(lf, []byte(manyModel(n)), 0o644)
			kf := filepath.Join(k.dir, "keepalived.conf")
			os.WriteFile(kf, []byte(manyConf(n)), 0o644)
			l.out, k.out = &syncBuf{}, &syncBuf{}
			l.cmd = l.ns.Cmd(lbxBin, "watch", "-f", lf, "--state-dir", l.dir, "--run-dir", l.dir)
			k.cmd = k.ns.Cmd("keepalived", "--vrrp", "-n", "-l", "-f", kf, "-p", filepath.Join(k.dir, "k.pid"), "-r", filepath.Join(k.dir, "v.pid"))
			for _, p := range []*peer{l, k} {
				p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
				p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
				if err := p.cmd.Start(); err != nil {
					b.Fatal(err)
				}
				defer p.kill()
			}
			time.Sleep(4 * time.Second)
			pidb, err := os.ReadFile(filepath.Join(k.dir, "v.pid"))
			if err != nil {
				b.Fatalf("keepalived VRRP pid: %v\n%s", err, k.out.String())
			}
			kpid, _ := strconv.Atoi(strings.TrimSpace(string(pidb)))
			lr, kr := vmHWM(b, l.cmd.Process.Pid), vmHWM(b, kpid)
			b.ReportMetric(float64(lr), "lbx-KiB")
			b.ReportMetric(float64(kr), "keepalived-KiB")
			fmt.Printf("peak RSS instances=%d: lbx=%dKiB keepalived(vrrp)=%dKiB ratio=%.2f\n", n, lr, kr, float64(lr)/float64(kr))
		})
	}
}
