package watchns

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/internal/nstest"
)

// applyModel: addresses 10.0.0.lo..hi-1 (/32) and routes 10.rlo..rhi-1.0.0/16 on d0.
func applyModel(lo, hi, rlo, rhi int) string {
	var b strings.Builder
	b.WriteString("version: 1\naddresses:\n")
	for _, ip := range applyIPs(lo, hi) {
		fmt.Fprintf(&b, "  - {address: %s/32, interface: d0}\n", ip)
	}
	b.WriteString("routes:\n")
	for i := rlo; i < rhi; i++ {
		fmt.Fprintf(&b, "  - {to: 10.%d.0.0/16, interface: d0}\n", i)
	}
	return b.String()
}

func applyIPs(lo, hi int) []string {
	var out []string
	for i := lo; i < hi; i++ {
		out = append(out, fmt.Sprintf("10.0.%d.%d", i/250, i%250+1))
	}
	return out
}

// applySide is one of the two models lbx apply goes between: its file,
// the addresses it wants and those of the other one, its routes
// 10.rlo..rhi-1.0.0/16.
type applySide struct {
	name, file string
	want, gone []string
	rlo, rhi   int
}

// applyRig is lbx apply in a namespace of its own (link d0, a hand-added
// canary address 10.0.9.9 and route 10.99.0.0/16), with its own state and
// run directory, going between models A and B: 40 addresses added, 40
// deleted, 2 routes added and 2 deleted each way.
type applyRig struct {
	t     *testing.T
	c     *tally
	bin   string
	dir   string
	ns    *nstest.NS
	sides [2]applySide
}

func newApplyRig(t *testing.T, bin string, c *tally) *applyRig {
	r := &applyRig{t: t, c: c, bin: bin, dir: t.TempDir(), ns: linkedNamespace(t, "fa")}
	r.ns.Run(t, "ip", "addr", "add", "10.0.9.9/32", "dev", "d0")
	r.ns.Run(t, "ip", "route", "add", "10.99.0.0/16", "dev", "d0")
	a, b := filepath.Join(r.dir, "a.yaml"), filepath.Join(r.dir, "b.yaml")
	os.WriteFile(a, []byte(applyModel(0, 80, 10, 14)), 0o644)
	os.WriteFile(b, []byte(applyModel(40, 120, 12, 16)), 0o644)
	aOnly, both, bOnly := applyIPs(0, 40), applyIPs(40, 80), applyIPs(80, 120)
	r.sides = [2]applySide{
		{"A", a, append(slices.Clone(aOnly), both...), bOnly, 10, 14},
		{"B", b, append(slices.Clone(both), bOnly...), aOnly, 12, 16},
	}
	return r
}

// apply runs lbx apply of file, under the wrapper command wrap if any.
func (r *applyRig) apply(file string, wrap ...string) (string, error) {
	args := append(wrap, r.bin, "apply", "-f", file, "--auto-approve", "--state-dir", r.dir, "--run-dir", r.dir)
	return r.ns.Try(args[0], args[1:]...)
}

// present: the /32 addresses on d0, and its routes as ip shows them.
func (r *applyRig) present() (addrs map[string]bool, routes string) {
	out := r.ns.Addrs("d0")
	addrs = map[string]bool{}
	for _, f := range strings.Fields(out) {
		if ip, _, ok := strings.Cut(f, "/32"); ok {
			addrs[ip] = true
		}
	}
	routes = r.ns.Dump("ip", "route", "show", "dev", "d0")
	return addrs, routes
}

func count(m map[string]bool, ips []string) (n int) {
	for _, ip := range ips {
		if m[ip] {
			n++
		}
	}
	return n
}

// check holds the invariants after a full apply to s: the canaries kept,
// the kernel exactly at s, the ownership record claiming s's addresses.
func (r *applyRig) check(fault string, s applySide) {
	addrs, routes := r.present()
	r.c.hold(r.t, fault, "hand-added objects kept", addrs["10.0.9.9"] && strings.Contains(routes, "10.99.0.0/16"), "canaries: "+routes)
	rtOK := true
	for i := 10; i < 16; i++ {
		if strings.Contains(routes, fmt.Sprintf("10.%d.0.0/16", i)) != (i >= s.rlo && i < s.rhi) {
			rtOK = false
		}
	}
	r.c.hold(r.t, fault, "kernel converges to "+s.name, count(addrs, s.want) == len(s.want) && count(addrs, s.gone) == 0 && rtOK,
		fmt.Sprintf("%d of %d wanted, %d of %d unwanted addresses; routes %q", count(addrs, s.want), len(s.want), count(addrs, s.gone), len(s.gone), routes))
	rec, want := recordAddrs(r.dir), slices.Clone(s.want)
	slices.Sort(rec)
	slices.Sort(want)
	r.c.hold(r.t, fault, "ownership record consistent", slices.Equal(rec, want), fmt.Sprintf("record claims %d addresses, model %d: %v", len(rec), len(want), rec))
}

// point is the progress a kill left on the way to s: its addresses and
// the other model's present, lbx's routes, the record's claims.
func (r *applyRig) point(s applySide) string {
	addrs, routes := r.present()
	return fmt.Sprintf("to %s: new %d/%d, old %d/%d, routes %d, claims %d", s.name, count(addrs, s.want), len(s.want),
		count(addrs, s.gone), len(s.gone), strings.Count(routes, "proto"), len(recordAddrs(r.dir)))
}

// faultApplyKill: lbx apply from one model to the other, killed (SIGKILL
// injected by strace) at the k-th netlink request, the k-th netlink reply
// read, or the k-th fsync (of the ownership record), for k = 1, 2...
// until an apply runs to its end; each kill is of the apply to the other
// model than the last. After each kill a second apply converges, the
// hand-added address and route are still there, and the record claims
// exactly the model's addresses. At least `points` distinct progress
// points (what each kill left) are wanted.
func faultApplyKill(t *testing.T, bin string, c *tally, points int) {
	r := newApplyRig(t, bin, c)
	if out, err := r.apply(r.sides[0].file); err != nil {
		t.Fatalf("apply A: %v\n%s", err, out)
	}
	cur := 0
	for _, row := range []struct {
		name, syscall string
		step          int
	}{
		{"netlink request", "sendto", 1},
		{"netlink reply", "recvfrom", 4},
		{"ownership record fsync", "fsync", 3},
	} {
		for k := 1; ; k += row.step {
			to := r.sides[1-cur]
			fault := fmt.Sprintf("kill -9 of lbx apply %s->%s at the %s (%s #%d)", r.sides[cur].name, to.name, row.name, row.syscall, k)
			cur = 1 - cur
			out, err := r.apply(to.file, "strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace="+row.syscall,
				"-e", fmt.Sprintf("inject=%s:signal=KILL:when=%d", row.syscall, k))
			if err == nil {
				// It ran to its end: every point of this row was tried.
				r.check(fault+" (not reached)", to)
				t.Logf("%s: the apply ends before %s #%d", row.name, row.syscall, k)
				break
			}
			if !strings.Contains(err.Error(), "signal: killed") && !strings.Contains(err.Error(), "exit status 137") {
				t.Fatalf("%s: %v\n%s", fault, err, out)
			}
			c.fault()
			c.applyPoints[r.point(to)] = true
			if out, err := r.apply(to.file); err != nil {
				c.hold(t, fault, "the next apply succeeds", false, fmt.Sprintf("%v\n%s", err, out))
			}
			r.check(fault, to)
			if k > 400 {
				t.Fatalf("%s: the apply never ran to its end", row.name)
			}
		}
	}
	t.Logf("lbx apply killed at %d distinct progress points", len(c.applyPoints))
	if len(c.applyPoints) < points {
		t.Errorf("lbx apply was killed at %d distinct points, want at least %d", len(c.applyPoints), points)
	}
}

// faultApplyStateDir: lbx apply with a state directory that is a tiny
// tmpfs of its own mount namespace, full or read-only (spoilState) after
// a first apply, must refuse a model that adds addresses and a route,
// naming the ownership record, and create none of them.
func faultApplyStateDir(t *testing.T, bin string, c *tally, how string) {
	ns := linkedNamespace(t, "fs")
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")
	os.WriteFile(a, []byte(applyModel(0, 5, 10, 11)), 0o644)
	os.WriteFile(b, []byte(applyModel(0, 10, 10, 12)), 0o644)
	ns.Run(t, "ip", "addr", "add", "10.0.9.9/32", "dev", "d0")
	state := filepath.Join(dir, "st")
	os.MkdirAll(state, 0o755)
	script := `set -e; dir="$2"; mount -t tmpfs -o size=64k lbxstate "$dir"
"$1" apply -f "$3" --auto-approve --state-dir "$dir" --run-dir "$5" >/dev/null
` + spoilState(how) + `
exec "$1" apply -f "$4" --auto-approve --state-dir "$dir" --run-dir "$5"`
	fault := "apply with a " + how + " state directory"
	c.fault()
	out, err := ns.Try("unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", bin, state, a, b, dir)
	c.hold(t, fault, "apply refuses with a clear error", err != nil && strings.Contains(out, "ownership record"), fmt.Sprintf("%v: %s", err, out))
	addrs := ns.Addrs("d0")
	routes := ns.Dump("ip", "route", "show", "dev", "d0")
	c.hold(t, fault, "nothing created unrecorded", !strings.Contains(addrs, "10.0.0.6/32") && !strings.Contains(routes, "10.11.0.0/16"), addrs+routes)
	c.hold(t, fault, "hand-added objects kept", strings.Contains(addrs, "10.0.9.9/32"), addrs)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	t.Logf("%s: %s", fault, lines[len(lines)-1])
}
