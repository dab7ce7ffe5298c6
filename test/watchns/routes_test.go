package watchns

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/internal/nstest"
	"github.com/lbx-dev/lbx/internal/testkit"
)

// routesConf uses every route form keepalived 2.2.7 installs (its
// deprecated `or` fails there with EINVAL, so the two-path route is
// written with nexthop).
const routesConf = `global_defs {
  router_id lbxtest
}
static_routes {
  10.1.0.0/16 via 192.0.2.254 dev d0
  src 192.0.2.1 10.2.0.0/16 dev d0 scope link
  blackhole 10.3.0.0/16
}
vrrp_instance VI_1 {
  state MASTER
  interface d0
  virtual_router_id 9
  priority 255
  advert_int 1
  virtual_ipaddress {
    192.0.2.50/24
  }
  virtual_routes {
    10.4.0.0/16 via 192.0.2.254
    10.5.0.0/16 nexthop via 192.0.2.253 dev d0 weight 2 nexthop via 192.0.2.252 dev d0
    0.0.0.0/0 via 192.0.2.254 table 100
    10.6.0.0/16 via 192.0.2.254 metric 7
    unreachable 10.7.0.0/16
    src 192.0.2.50 10.8.0.0/16 via 192.0.2.254 dev d0
  }
}
`

// routesOf is `ip route` of every table for one protocol, a route a line,
// a multipath route's nexthops sorted (lbx writes them in a canonical
// order, keepalived in the file's; the kernel treats both alike).
func routesOf(ns *nstest.NS, proto string) []string {
	out, _ := ns.Try("ip", "-o", "route", "show", "table", "all", "proto", proto)
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		parts := strings.Split(l, "\\")
		for i := range parts {
			parts[i] = strings.Join(strings.Fields(parts[i]), " ")
		}
		sort.Strings(parts[1:])
		lines = append(lines, strings.Join(parts, " | "))
	}
	sort.Strings(lines)
	return lines
}

func waitRoutes(t *testing.T, ns *nstest.NS, proto string, n int) []string {
	t.Helper()
	var got []string
	testkit.Eventually(t, "routes of protocol "+proto, settle, func() bool { got = routesOf(ns, proto); return len(got) >= n })
	return got
}

// TestRoutesLikeKeepalived runs keepalived 2.2.7 on a keepalived.conf
// with static and virtual routes, then lbx watch on the model lbx convert
// makes of the same file, each in a namespace of the same shape, and
// compares the routes each puts in the kernel (as ip route reads them).
// At SIGTERM both take the virtual routes away with the instance;
// keepalived also removes its static routes, lbx keeps them (as it keeps
// static addresses: they are `lbx apply`'s too).
func TestRoutesLikeKeepalived(t *testing.T) {
	nstest.Require(t, "keepalived")
	bin := lbxBinary(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "keepalived.conf")
	os.WriteFile(conf, []byte(routesConf), 0o644)
	const all, static = 9, 3

	kns := linkedNamespace(t, "kr")
	k := startDaemon(t, kns, dir, "keepalived", "keepalived", "--vrrp", "-n", "-l", "-D", "-f", conf, "-p", filepath.Join(dir, "k.pid"), "-r", filepath.Join(dir, "v.pid"))
	kept := waitRoutes(t, kns, "keepalived", all)
	k.Stop(t, stopWithin)
	kLeft := routesOf(kns, "keepalived")

	model, err := exec.Command(bin, "convert", conf).Output()
	if err != nil {
		t.Fatalf("lbx convert: %v", err)
	}
	// A resync too slow for the wait below: a route deleted by hand must
	// come back on the kernel's notification.
	model = []byte(strings.Replace(string(model), "global:\n", "global:\n  resync_interval: 60s\n", 1))
	file := filepath.Join(dir, "lbx.yaml")
	os.WriteFile(file, model, 0o644)
	lns := linkedNamespace(t, "lr")
	w := startWatch(t, lns, dir, bin, file)
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(file)
			t.Logf("the converted model:\n%s", b)
		}
	})
	lbx := waitRoutes(t, lns, "229", all)
	if strings.Join(lbx, "\n") != strings.Join(kept, "\n") {
		t.Errorf("routes differ\nkeepalived:\n%s\nlbx:\n%s", strings.Join(kept, "\n"), strings.Join(lbx, "\n"))
	}

	// Routes deleted by hand come back at once (the resync is a minute
	// away): the route notification triggers the repair.
	lns.Run(t, "ip", "route", "del", "10.4.0.0/16")
	lns.Run(t, "ip", "route", "del", "10.1.0.0/16")
	testkit.Eventually(t, "hand-deleted routes restored", settle, func() bool { return len(routesOf(lns, "229")) == all })

	w.Stop(t, stopWithin)
	lLeft := routesOf(lns, "229")
	if len(kLeft) != 0 || len(lLeft) != static || !sameStatic(lLeft, kept) || !strings.Contains(strings.Join(lLeft, "\n"), "blackhole 10.3.0.0/16") {
		t.Errorf("after SIGTERM: keepalived left %v (want none), lbx left %v (want its %d static routes)", kLeft, lLeft, static)
	}
}

// sameStatic: every route left is one of the routes both made.
func sameStatic(left, made []string) bool {
	in := map[string]bool{}
	for _, m := range made {
		in[m] = true
	}
	for _, l := range left {
		if !in[l] {
			return false
		}
	}
	return true
}

// TestRoutesBackAfterLinkDown: when a link goes down the kernel flushes
// the IPv4 routes through it and sends no route notification; keepalived
// 2.2.7 and lbx watch both put them back as soon as the link is up again
// (lbx on the link's notification, not at its resync, a minute away
// here).
func TestRoutesBackAfterLinkDown(t *testing.T) {
	bounce := func(t *testing.T, ns *nstest.NS, proto string) {
		waitRoutes(t, ns, proto, 3)
		ns.Run(t, "ip", "link", "set", "d0", "down")
		testkit.Eventually(t, "the kernel to flush the routes through d0", settle, func() bool { return len(routesOf(ns, proto)) == 1 })
		ns.Run(t, "ip", "link", "set", "d0", "up")
		testkit.Eventually(t, "routes through d0 restored after link up", settle, func() bool { return len(routesOf(ns, proto)) == 3 })
	}
	t.Run("keepalived", func(t *testing.T) {
		nstest.Require(t, "keepalived")
		dir := t.TempDir()
		conf := filepath.Join(dir, "keepalived.conf")
		// An instance on the veth's other end: keepalived --vrrp wants one.
		os.WriteFile(conf, []byte(`static_routes {
  10.1.0.0/16 via 192.0.2.254 dev d0
  10.2.0.0/16 dev d0
  blackhole 10.3.0.0/16
}
vrrp_instance VI_1 {
  state BACKUP
  interface pd0
  virtual_router_id 9
  priority 100
  virtual_ipaddress {
    192.0.2.50/24 dev pd0
  }
}
`), 0o644)
		ns := linkedNamespace(t, "lk")
		k := startDaemon(t, ns, dir, "keepalived", "keepalived", "--vrrp", "-n", "-l", "-D", "-f", conf, "-p", filepath.Join(dir, "k.pid"), "-r", filepath.Join(dir, "v.pid"))
		defer k.Stop(t, stopWithin)
		bounce(t, ns, "keepalived")
	})
	t.Run("lbx", func(t *testing.T) {
		nstest.Require(t)
		bin := lbxBinary(t)
		dir := t.TempDir()
		file := filepath.Join(dir, "lbx.yaml")
		os.WriteFile(file, []byte(`version: 1
global: {resync_interval: 60s}
routes:
  - {to: 10.1.0.0/16, via: 192.0.2.254}
  - {to: 10.2.0.0/16, interface: d0}
  - {to: 10.3.0.0/16, type: blackhole}
`), 0o644)
		ns := linkedNamespace(t, "ld")
		w := startWatch(t, ns, dir, bin, file)
		defer w.Stop(t, stopWithin)
		bounce(t, ns, "229")
	})
}
