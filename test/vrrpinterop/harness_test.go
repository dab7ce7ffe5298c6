package vrrpinterop

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/lbx-dev/lbx/internal/nstest"
	"github.com/lbx-dev/lbx/internal/statusd"
	"github.com/lbx-dev/lbx/internal/testkit"
)

var lbxBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lbx-interop")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lbxBin = filepath.Join(dir, "lbx")
	// Other packages may be mid-edit: retry the build for a while.
	var out []byte
	for try := 0; try < 10; try++ {
		// lbx-vrrp beside lbx: lbx watch runs a model of VRRP alone in
		// it (package vrrponly), as an installed lbx does.
		args := []string{"build", "-o", dir + "/"}
		if os.Getenv("LBX_RACE") == "1" {
			args = append(args, "-race") // run the routers under the race detector
		}
		cmd := exec.Command("go", append(args, "./cmd/lbx", "./cmd/lbx-vrrp")...)
		cmd.Dir = "../.."
		if out, err = cmd.CombinedOutput(); err == nil {
			break
		}
		time.Sleep(5 * time.Second)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "go build ./cmd/lbx ./cmd/lbx-vrrp: %v\n%s", err, out)
		os.Exit(1)
	}
	code := testkit.Main(func() int { return nstest.MainGuardingHostDirs(m) })
	os.RemoveAll(dir)
	os.Exit(code)
}

// vr describes one virtual router as both implementations configure it.
type vr struct {
	version  int
	advert   time.Duration
	vrid     int
	vip      string // with prefix length; "" for an instance without one
	pass     string
	unicast  bool
	v6       bool
	garpWait bool
}

func (v vr) vipAddr() netip.Addr { return netip.MustParsePrefix(v.vip).Addr() }

// skew and mdi for a priority (RFC 3768 / 5798).
func (v vr) skew(prio int) time.Duration {
	if v.version == 2 {
		return time.Duration(256-prio) * time.Second / 256
	}
	return time.Duration(256-prio) * v.advert / 256
}
func (v vr) mdi(prio int) time.Duration { return 3*v.advert + v.skew(prio) }

// peer is one router: lbx or keepalived in its namespace.
type peer struct {
	t       testing.TB
	kind    string // "lbx" or "keepalived"
	ns      *nstest.NS
	ip      string // eth0 address
	others  []string
	dir     string
	prio    int
	state   string // initial state
	nopre   bool
	cmd     *exec.Cmd
	out     *syncBuf
	nl      *netlink.Handle
	vr      vr
	vridOvr int
	passOvr string
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuf) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// lan builds n nodes on one bridge with 10.77.0.(i+1)/24 on eth0 (and
// IPv6 link-local addresses), and returns peers of the given kinds.
func lan(t testing.TB, kinds ...string) ([]*peer, *nstest.LAN) {
	nstest.Require(t)
	l := nstest.NewLAN(t, "vr", len(kinds))
	var ps []*peer
	for i, k := range kinds {
		if k == "keepalived" {
			if _, err := exec.LookPath("keepalived"); err != nil {
				if os.Getenv("CI") == "true" {
					t.Fatal("keepalived not installed (CI=true: not skipping)")
				}
				t.Skip("keepalived not installed")
			}
		}
		ns := l.Nodes[i]
		ip := fmt.Sprintf("10.77.0.%d", i+1)
		ns.Run(t, "ip", "addr", "add", ip+"/24", "dev", "eth0")
		// No DAD delay for link-local addresses: VRRPv3 over IPv6 starts at once.
		ns.Run(t, "sysctl", "-qw", "net.ipv6.conf.eth0.accept_dad=0")
		ns.Run(t, "ip", "link", "set", "eth0", "down")
		ns.Run(t, "ip", "link", "set", "eth0", "up")
		h, err := netns.GetFromName(ns.Name)
		if err != nil {
			t.Fatal(err)
		}
		nh, err := netlink.NewHandleAt(h)
		h.Close()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nh.Close)
		p := &peer{t: t, kind: k, ns: ns, ip: ip, dir: t.TempDir(), nl: nh, state: "BACKUP"}
		ps = append(ps, p)
	}
	for _, p := range ps {
		for _, q := range ps {
			if q != p {
				p.others = append(p.others, q.ip)
			}
		}
	}
	return ps, l
}

func (p *peer) name() string { return fmt.Sprintf("%s(%s,prio %d)", p.kind, p.ns.Name, p.prio) }

func (p *peer) vrid() int {
	if p.vridOvr != 0 {
		return p.vridOvr
	}
	return p.vr.vrid
}

func (p *peer) pass() string {
	if p.passOvr != "" {
		return p.passOvr
	}
	return p.vr.pass
}

func (p *peer) lbxModel() string {
	v := p.vr
	var b strings.Builder
	fmt.Fprintf(&b, "version: 1\nvrrp_instances:\n  - name: VI_1\n    interface: eth0\n")
	fmt.Fprintf(&b, "    state: %s\n    virtual_router_id: %d\n    priority: %d\n    version: %d\n    advert_int: %s\n", p.state, p.vrid(), p.prio, v.version, v.advert)
	if p.nopre {
		b.WriteString("    nopreempt: true\n")
	}
	if p.pass() != "" {
		fmt.Fprintf(&b, "    authentication:\n      type: PASS\n      pass: %s\n", p.pass())
	}
	if v.unicast {
		fmt.Fprintf(&b, "    unicast_src_ip: %s\n    unicast_peers: [%s]\n", p.ip, strings.Join(p.others, ", "))
	}
	if v.vip != "" {
		fmt.Fprintf(&b, "    virtual_addresses:\n      - address: %s\n", v.vip)
	}
	return b.String()
}

func (p *peer) keepalivedConf() string {
	v := p.vr
	var b strings.Builder
	fmt.Fprintf(&b, "global_defs {\n  router_id %s\n  enable_script_security\n  script_user root\n}\n", p.ns.Name)
	fmt.Fprintf(&b, "vrrp_instance VI_1 {\n  state %s\n  interface eth0\n  virtual_router_id %d\n  priority %d\n  version %d\n  advert_int %g\n", p.state, p.vrid(), p.prio, v.version, v.advert.Seconds())
	if p.nopre {
		b.WriteString("  nopreempt\n")
	}
	if p.pass() != "" {
		fmt.Fprintf(&b, "  authentication {\n    auth_type PASS\n    auth_pass %s\n  }\n", p.pass())
	}
	if v.unicast {
		fmt.Fprintf(&b, "  unicast_src_ip %s\n  unicast_peer {\n    %s\n  }\n", p.ip, strings.Join(p.others, "\n    "))
	}
	if v.vip != "" {
		fmt.Fprintf(&b, "  virtual_ipaddress {\n    %s dev eth0\n  }\n", v.vip)
	}
	b.WriteString("}\n")
	return b.String()
}

// start launches the router and waits until it runs.
func (p *peer) start() {
	p.t.Helper()
	p.out = &syncBuf{}
	switch p.kind {
	case "lbx":
		f := filepath.Join(p.dir, "model.yaml")
		if err := os.WriteFile(f, []byte(p.lbxModel()), 0o644); err != nil {
			p.t.Fatal(err)
		}
		p.cmd = p.ns.Cmd(lbxBin, "watch", "-f", f, "--state-dir", p.dir, "--run-dir", p.dir, "--stats-file", filepath.Join(p.dir, "stats.json"), "--log-level", "debug")
	case "keepalived":
		f := filepath.Join(p.dir, "keepalived.conf")
		if err := os.WriteFile(f, []byte(p.keepalivedConf()), 0o644); err != nil {
			p.t.Fatal(err)
		}
		// A SIGKILLed keepalived leaves its pid files, and then refuses to
		// start ("daemon is already running").
		os.Remove(filepath.Join(p.dir, "k.pid"))
		os.Remove(filepath.Join(p.dir, "v.pid"))
		p.cmd = p.ns.Cmd("keepalived", "--vrrp", "-n", "-l", "-D", "-f", f, "-p", filepath.Join(p.dir, "k.pid"), "-r", filepath.Join(p.dir, "v.pid"))
	}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	cmd := p.cmd
	p.t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
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

// kill sends SIGKILL to the whole process group (keepalived's parent and
// VRRP child together, so that the parent cannot respawn the child).
func (p *peer) kill() {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	_ = p.cmd.Wait()
}

// term sends SIGTERM to the router (for keepalived, to its parent, which
// stops the VRRP child cleanly) and waits for it to exit.
func (p *peer) term() error {
	// ip netns exec execs the router, so the pid is the router's.
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	return p.cmd.Wait()
}

// status is `lbx status -o json` of an lbx peer (in its namespace, so on
// its socket), its one VRRP instance.
func (p *peer) status() statusd.Instance {
	p.t.Helper()
	out, err := p.ns.Cmd(lbxBin, "status", "-o", "json", "--run-dir", p.dir).Output()
	if err != nil {
		p.t.Fatalf("%s: lbx status: %v", p.name(), err)
	}
	var st statusd.Status
	if err := json.Unmarshal(out, &st); err != nil || len(st.VRRP) != 1 {
		p.t.Fatalf("%s: lbx status: %v, %d instances in %s", p.name(), err, len(st.VRRP), out)
	}
	return st.VRRP[0]
}

func (p *peer) hasVIP() bool {
	link, err := p.nl.LinkByName("eth0")
	if err != nil {
		return false
	}
	addrs, err := p.nl.AddrList(link, netlink.FAMILY_ALL)
	if err != nil {
		return false
	}
	want := p.vr.vipAddr()
	for _, a := range addrs {
		if ip, ok := netip.AddrFromSlice(a.IP); ok && ip.Unmap() == want {
			return true
		}
	}
	return false
}

// waitVIP polls (every 2 ms) until the VIP is present (or absent) and
// returns how long it took; it fails the test after within.
func (p *peer) waitVIP(want bool, within time.Duration, from time.Time) time.Duration {
	p.t.Helper()
	for {
		has := p.hasVIP()
		took := time.Since(from)
		if has == want && took <= within {
			return took
		}
		if took > within {
			p.t.Fatalf("%s: VIP present=%v not reached within %s", p.name(), want, within)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// stable asserts that only `master` holds the VIP for d.
func stable(t testing.TB, master *peer, all []*peer, d time.Duration) {
	t.Helper()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		for _, p := range all {
			if got := p.hasVIP(); got != (p == master) {
				t.Fatalf("%s holds VIP=%v; want only %s to hold it", p.name(), got, master.name())
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *peer) stats() map[string]uint64 {
	b, err := os.ReadFile(filepath.Join(p.dir, "stats.json"))
	m := map[string]uint64{}
	if err == nil {
		_ = json.Unmarshal(b, &m)
	}
	return m
}

// waitStat waits until counter k of an lbx peer reaches at least n.
func (p *peer) waitStat(k string, n uint64, within time.Duration) {
	p.t.Helper()
	end := time.Now().Add(within)
	for time.Now().Before(end) {
		if p.stats()[k] >= n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.t.Fatalf("%s: counter %s did not reach %d within %s (have %v)", p.name(), k, n, within, p.stats())
}

// rawSender is an IP_HDRINCL socket in a namespace: it sends IPv4 packets
// whose header (TTL, source) the test writes itself.
type rawSender struct{ fd int }

func newRawSender(t testing.TB, ns *nstest.NS) *rawSender {
	var fd int
	var err error
	ns.In(t, func() { fd, err = syscall.Socket(syscall.AF_INET, syscall.SOCK_RAW, syscall.IPPROTO_RAW) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	return &rawSender{fd: fd}
}

func ipChecksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

func (r *rawSender) send(t testing.TB, src, dst netip.Addr, ttl int, payload []byte) {
	h := make([]byte, 20)
	h[0] = 0x45
	total := 20 + len(payload)
	h[2], h[3] = byte(total>>8), byte(total)
	h[8] = byte(ttl)
	h[9] = 112
	copy(h[12:16], src.AsSlice())
	copy(h[16:20], dst.AsSlice())
	c := ipChecksum(h)
	h[10], h[11] = byte(c>>8), byte(c)
	var sa syscall.SockaddrInet4
	sa.Addr = dst.As4()
	if err := syscall.Sendto(r.fd, append(h, payload...), 0, &sa); err != nil {
		t.Fatalf("raw send: %v", err)
	}
}

var _ = net.IPv4len
var _ = strconv.Itoa
