// Package nstest builds throw-away network topologies for tests that need a
// real kernel: named network namespaces, veth pairs and bridges, all removed
// by t.Cleanup even when the test fails. It drives iproute2 (`ip`), so what
// a test does can be replayed by hand. Root only: Require skips (or, with
// CI=true, fails) elsewhere.
//
//	nstest.Require(t)
//	lan := nstest.NewLAN(t, "vr", 2)        // two nodes on one bridge
//	lan.Nodes[0].Run(t, "ip", "addr", "add", "10.9.0.1/24", "dev", "eth0")
//	out := lan.Nodes[1].Run(t, "ip", "-br", "addr")
package nstest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/testkit"
	"github.com/vishvananda/netns"
)

// Require skips the test (testkit.Skip: counted in the package's summary)
// unless it runs as root with iproute2; when CI=true a missing
// prerequisite fails the test instead.
func Require(t testing.TB, tools ...string) {
	t.Helper()
	miss := ""
	if os.Geteuid() != 0 {
		miss = "needs root"
	}
	for _, tool := range append([]string{"ip"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil && miss == "" {
			miss = "needs " + tool
		}
	}
	if miss == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("namespace test %s (CI=true: not skipping)", miss)
	}
	testkit.Skip(t, "namespace test "+miss)
}

// NS is a named network namespace (/run/netns/Name).
type NS struct{ Name string }

var seq atomic.Int64

// Unique returns a short name unique to this process and call (namespace
// and interface names must stay short: interfaces allow 15 bytes).
func Unique(prefix string) string {
	return fmt.Sprintf("%s%d%d", prefix, os.Getpid()%10000, seq.Add(1))
}

// New creates a namespace with loopback up and removes it at cleanup.
func New(t testing.TB, name string) *NS {
	t.Helper()
	run(t, "ip", "netns", "add", name)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	n := &NS{Name: name}
	n.Run(t, "ip", "link", "set", "lo", "up")
	return n
}

// Cmd returns a command that runs inside the namespace.
func (n *NS) Cmd(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", n.Name, name}, args...)...)
}

// Run runs a command in the namespace and fails the test on error; it
// returns the combined output.
func (n *NS) Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := n.Cmd(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("in netns %s: %s %s: %v\n%s", n.Name, name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Try runs a command in the namespace and returns its output and error.
func (n *NS) Try(name string, args ...string) (string, error) {
	out, err := n.Cmd(name, args...).CombinedOutput()
	return string(out), err
}

// Dump runs a read-only command in the namespace (an `ip ... show`) and
// returns its output once it is whole: the kernel flags a dump that a
// concurrent change interrupted (a daemon still converging makes that
// likely), and iproute2 then warns "Dump was interrupted and may be
// inconsistent" (6.1 still exits 0, with what it got; later versions exit
// 1): Dump runs it again. It gives up after 5 s and returns the last
// output, error text included.
//
// A dump of ONE interface's addresses (`ip addr show dev X`) is never
// flagged, and may miss addresses that never left: read those with Addrs.
func (n *NS) Dump(name string, args ...string) string {
	out, _ := n.dump(append([]string{name}, args...))
	return out
}

// interrupted is iproute2's warning for a dump flagged NLM_F_DUMP_INTR.
const interrupted = "Dump was interrupted"

// dump is Dump of the command argv; it also returns how many runs were
// interrupted.
func (n *NS) dump(argv []string) (string, int) {
	var out string
	intr := 0
	for end := time.Now().Add(5 * time.Second); ; {
		o, err := n.Try(argv[0], argv[1:]...)
		out = o
		whole := err == nil && !strings.Contains(out, interrupted)
		if whole || time.Now().After(end) {
			return out, intr
		}
		if strings.Contains(out, interrupted) {
			intr++
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Addrs is the lines of `ip -o addr show` for interface dev, none missing.
// The kernel resumes a dump of one interface's addresses (what
// `ip addr show dev X` asks for) by position, without flagging it when
// the list changed in between: addresses deleted before that position
// between two parts of the dump (a daemon converging) make it skip as
// many that are still there. The dump of every interface's addresses is
// flagged then, and Dump reads it again.
func (n *NS) Addrs(dev string) string {
	out, _ := n.addrsVia(dev, "ip")
	return out
}

// addrsVia is Addrs with `ip` run as the command prefix (a test slows it
// down under strace); it also returns how many reads were interrupted.
func (n *NS) addrsVia(dev string, prefix ...string) (string, int) {
	out, intr := n.dump(append(prefix, "-o", "addr", "show"))
	var keep []string
	for _, l := range strings.SplitAfter(out, "\n") {
		// "3: eth0    inet 192.0.2.1/24 scope global eth0\ ..."
		if f := strings.Fields(l); len(f) > 1 && f[1] == dev || strings.Contains(l, interrupted) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, ""), intr
}

// Do runs f on an OS thread switched into the namespace. A socket f makes
// belongs to the namespace for good, wherever it is used afterwards.
func (n *NS) Do(f func() error) error {
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer orig.Close()
	target, err := netns.GetFromName(n.Name)
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("netns %s: %w", n.Name, err)
	}
	defer target.Close()
	if err := netns.Set(target); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("enter netns %s: %w", n.Name, err)
	}
	ferr := f()
	if err := netns.Set(orig); err != nil {
		// The thread stays locked: the runtime ends it with this goroutine
		// rather than reuse it in the wrong namespace.
		return fmt.Errorf("leave netns %s: %w", n.Name, err)
	}
	runtime.UnlockOSThread()
	return ferr
}

// In is Do for a test: f runs in the namespace, and a failure to enter or
// leave it fails the test.
func (n *NS) In(t testing.TB, f func()) {
	t.Helper()
	if err := n.Do(func() error { f(); return nil }); err != nil {
		t.Fatal(err)
	}
}

// HTTPGet fetches url from inside the namespace (no curl needed) and
// returns the body; a status other than 200 is an error.
func (n *NS) HTTPGet(url string) (string, error) {
	dial := func(ctx context.Context, network, addr string) (c net.Conn, err error) {
		// A literal address: the dialer makes the socket on this thread.
		if derr := n.Do(func() error { c, err = (&net.Dialer{}).DialContext(ctx, network, addr); return nil }); derr != nil {
			return nil, derr
		}
		return c, err
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true}}
	resp, err := client.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return string(body), err
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// Link makes an up link called name inside the namespace with the given
// addresses (IPv6 ones without duplicate address detection): one end of
// a veth pair whose other end, "p"+name, is up too (the host's kernel has
// no dummy driver).
func (n *NS) Link(t testing.TB, name string, addrs ...string) {
	t.Helper()
	n.Run(t, "ip", "link", "add", name, "type", "veth", "peer", "name", "p"+name)
	n.Run(t, "ip", "link", "set", "p"+name, "up")
	n.Run(t, "ip", "link", "set", name, "up")
	for _, a := range addrs {
		args := []string{"addr", "add", a, "dev", name}
		if strings.Contains(a, ":") {
			args = append(args, "nodad")
		}
		n.Run(t, "ip", args...)
	}
}

// Bridge creates a bridge inside ns and brings it up (a bridge made in the
// root namespace cannot be moved).
func Bridge(t testing.TB, ns *NS, name string) {
	t.Helper()
	ns.Run(t, "ip", "link", "add", name, "type", "bridge")
	ns.Run(t, "ip", "link", "set", name, "up")
}

// Veth creates a veth pair with one end (aName) in a and the other (bName)
// in b, both up.
func Veth(t testing.TB, a *NS, aName string, b *NS, bName string) {
	t.Helper()
	tmp := Unique("vt")
	run(t, "ip", "link", "add", tmp, "type", "veth", "peer", "name", tmp+"p")
	run(t, "ip", "link", "set", tmp, "netns", a.Name, "name", aName)
	run(t, "ip", "link", "set", tmp+"p", "netns", b.Name, "name", bName)
	a.Run(t, "ip", "link", "set", aName, "up")
	b.Run(t, "ip", "link", "set", bName, "up")
}

// LAN is a set of namespaces on one Ethernet segment: each node has eth0,
// plugged into bridge br0 in the Switch namespace as port pN.
type LAN struct {
	Switch *NS
	Nodes  []*NS
}

// NewLAN builds a switch and n nodes named from prefix.
func NewLAN(t testing.TB, prefix string, n int) *LAN {
	t.Helper()
	base := Unique(prefix)
	l := &LAN{Switch: New(t, base+"sw")}
	Bridge(t, l.Switch, "br0")
	for i := range n {
		node := New(t, fmt.Sprintf("%sn%d", base, i))
		port := fmt.Sprintf("p%d", i)
		Veth(t, node, "eth0", l.Switch, port)
		l.Switch.Run(t, "ip", "link", "set", port, "master", "br0")
		l.Nodes = append(l.Nodes, node)
	}
	return l
}

// Port is the switch port of node i (down it to partition the node).
func (l *LAN) Port(i int) string { return fmt.Sprintf("p%d", i) }
