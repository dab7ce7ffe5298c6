package bgp

import (
	"encoding/json"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/nstest"
	"github.com/lbx-dev/lbx/internal/testkit"
)

// frrDir is where Debian's frr package keeps its daemons (not on PATH).
const frrDir = "/usr/lib/frr"

// frrRouter is FRR in the router namespace: bgpd, and zebra, which puts
// bgpd's routes (ECMP included) into the namespace's kernel table.
type frrRouter struct {
	ns  *nstest.NS
	dir string // configs, pid files, vty and zserv sockets, logs
}

// frrConf is bgpd's configuration: the n directors passive peers with
// bird's timers, eBGP multipath, and graceful restart (RFC 4724).
func frrConf(n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `router bgp 65000
 bgp router-id %s
 bgp log-neighbor-changes
 no bgp ebgp-requires-policy
 bgp graceful-restart
 neighbor directors peer-group
 neighbor directors remote-as 65001
 neighbor directors passive
 neighbor directors timers %d %d
 neighbor directors timers connect 1
`, routerIP, keepalive, holdTime)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, " neighbor 10.99.0.%d peer-group directors\n", i)
	}
	b.WriteString(" address-family ipv4 unicast\n  maximum-paths 8\n exit-address-family\n")
	return b.String()
}

// startFRR runs zebra and bgpd in a new router namespace. The daemons
// drop to the user frr, so their directory is frr's (a t.TempDir is
// root's only); they also write crash-log directories under /var/tmp/frr,
// so each runs in a private mount namespace with a tmpfs of its own on
// /var/tmp. Nothing of the host's /etc/frr, /var/run/frr or /var/tmp is
// read or written.
func startFRR(t testing.TB, n int) *frrRouter {
	t.Helper()
	dir, err := os.MkdirTemp("", "lbx-frr-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	frr, err := user.Lookup("frr")
	if err != nil {
		t.Fatalf("the frr package's user: %v", err)
	}
	uid, _ := strconv.Atoi(frr.Uid)
	gid, _ := strconv.Atoi(frr.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	r := &frrRouter{ns: nstest.New(t, nstest.Unique("frrr")), dir: dir}
	nstest.Bridge(t, r.ns, "br0")
	r.ns.Run(t, "ip", "addr", "add", routerIP+"/24", "dev", "br0")
	confs := map[string]string{"zebra": "hostname router\n", "bgpd": frrConf(n)}
	for _, name := range []string{"zebra", "bgpd"} {
		if err := os.WriteFile(filepath.Join(dir, name+".conf"), []byte(confs[name]), 0o644); err != nil {
			t.Fatal(err)
		}
		r.daemon(t, name)
		// bgpd connects to zebra's socket: zebra first.
		testkit.Eventually(t, name+"'s vty socket", 10*time.Second, func() bool {
			_, err := os.Stat(filepath.Join(dir, name+".vty"))
			return err == nil
		})
	}
	return r
}

// daemon starts FRR's daemon name with the paths of r.dir; it is stopped
// at cleanup (SIGTERM: FRR removes its crash-log directory).
func (r *frrRouter) daemon(t testing.TB, name string) {
	t.Helper()
	path := func(suffix string) string { return filepath.Join(r.dir, name+suffix) }
	t.Cleanup(func() { // after the daemon's stop (cleanups run last first)
		if t.Failed() {
			b, _ := os.ReadFile(path(".log"))
			t.Logf("%s.log:\n%s", name, tail(b, 40))
		}
	})
	// ip netns exec, unshare and sh all exec: the pid is the daemon's.
	nstest.Background(t, r.ns.Cmd("unshare", "--mount", "--propagation", "private",
		"sh", "-c", `mount -t tmpfs tmpfs /var/tmp && exec "$@"`, "sh",
		filepath.Join(frrDir, name), "-f", path(".conf"), "-i", path(".pid"),
		"-z", filepath.Join(r.dir, "zserv.api"), "--vty_socket", r.dir, "--log", "file:"+path(".log")), name)
}

func (r *frrRouter) vtysh(t testing.TB, cmd string, v any) {
	t.Helper()
	out, err := r.ns.Cmd("vtysh", "--vty_socket", r.dir, "-c", cmd).Output()
	if err != nil {
		t.Fatalf("vtysh -c %q: %v\n%s", cmd, err, out)
	}
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("vtysh -c %q: %v\n%s", cmd, err, out)
	}
}

// frrPath is one of bgpd's paths to a prefix, as its JSON shows it.
type frrPath struct {
	Stale     bool `json:"stale"`
	Community struct {
		String string `json:"string"`
	} `json:"community"`
	Peer struct {
		PeerID string `json:"peerId"`
	} `json:"peer"`
}

// paths are bgpd's paths to dst/32 by the peer that sent them.
func (r *frrRouter) paths(t testing.TB, dst string) map[string]frrPath {
	var route struct {
		Paths []frrPath `json:"paths"`
	}
	r.vtysh(t, "show bgp ipv4 unicast "+dst+"/32 json", &route)
	m := map[string]frrPath{}
	for _, p := range route.Paths {
		m[p.Peer.PeerID] = p
	}
	return m
}

// TestFRRRouter: Debian's frr as the router (bgpd with maximum-paths,
// zebra installing the ECMP route), three directors with graceful restart
// on. A director's crashed speaker leaves its route stale at the router,
// never gone, until the new speaker refreshes it; a SIGTERM still
// withdraws (graceful restart keeps nothing of a deliberate stop).
func TestFRRRouter(t *testing.T) {
	nstest.Require(t, "unshare", "vtysh", filepath.Join(frrDir, "bgpd"), filepath.Join(frrDir, "zebra"))
	lbx := buildLBX(t)
	r := startFRR(t, 3)
	var ds []*director
	for i := 1; i <= 3; i++ {
		d := newDirector(t, r.ns, lbx, i)
		m := modelWith(i, false, speakerLines(i, ", graceful_restart: true"))
		if err := os.WriteFile(filepath.Join(d.dir, "lbx.yaml"), []byte(m), 0o644); err != nil {
			t.Fatal(err)
		}
		d.start(t)
		ds = append(ds, d)
	}
	gw := func(d *director) string { return fmt.Sprintf("10.99.0.%d", d.i) }

	t.Run("three nexthops", func(t *testing.T) {
		took := testkit.Eventually(t, "three nexthops at the router", 30*time.Second, func() bool { return len(nexthops(t, r.ns, vip)) == 3 })
		t.Logf("ECMP route with 3 nexthops after %s", took.Round(time.Millisecond))
		if ps := r.paths(t, vip); len(ps) != 3 {
			t.Errorf("bgpd has %d paths to %s, want 3: %+v", len(ps), vip, ps)
		}
	})

	t.Run("graceful restart keeps a crashed speaker's route stale until it is back", func(t *testing.T) {
		d := ds[2]
		if err := syscall.Kill(d.children(t)[0], syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		start, sawStale := time.Now(), false
		for {
			if !has(nexthops(t, r.ns, vip), gw(d)) {
				t.Fatalf("director 3 left the router's route %s after its speaker was killed; graceful restart keeps it", time.Since(start))
			}
			p, ok := r.paths(t, vip)[gw(d)]
			sawStale = sawStale || (ok && p.Stale)
			if sawStale && ok && !p.Stale {
				break // refreshed by the new speaker
			}
			if time.Since(start) > 30*time.Second {
				t.Fatalf("after 30s: stale seen %v, path now %+v (present %v)", sawStale, p, ok)
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Logf("stale, then refreshed %s after the speaker was killed", time.Since(start).Round(time.Millisecond))
		if st := d.status(t); st.SpeakerRestarts != 1 {
			t.Errorf("lbx status: speaker_restarts %d, want 1", st.SpeakerRestarts)
		}
		if n := len(nexthops(t, r.ns, vip)); n != 3 {
			t.Errorf("%d nexthops after the restart, want 3", n)
		}
	})

	t.Run("SIGTERM withdraws despite graceful restart", func(t *testing.T) {
		d := ds[1]
		d.signal(t, syscall.SIGTERM)
		start := time.Now()
		// graceful_shutdown 1s: first the path carries GRACEFUL_SHUTDOWN,
		// which bgpd honours (local preference 0: out of the multipath
		// set, so out of the kernel route at once), then the withdraw.
		testkit.Eventually(t, "GRACEFUL_SHUTDOWN on director 2's path", 5*time.Second, func() bool {
			return strings.Contains(r.paths(t, vip)[gw(d)].Community.String, "graceful-shutdown")
		})
		testkit.Eventually(t, "director 2 out of the kernel route", 5*time.Second, func() bool { return !has(nexthops(t, r.ns, vip), gw(d)) })
		testkit.Eventually(t, "director 2's withdraw", 10*time.Second, func() bool { _, ok := r.paths(t, vip)[gw(d)]; return !ok })
		if lo := d.ns.Run(t, "ip", "-br", "addr", "show", "dev", "lo"); !strings.Contains(lo, vip) {
			t.Errorf("the VIP left lo before the path left the router: %s", lo)
		}
		t.Logf("withdrawn %s after SIGTERM (graceful_shutdown 1s), not kept stale", time.Since(start).Round(time.Millisecond))
		if err := d.wait(); err != nil {
			t.Errorf("lbx watch exited with %v after SIGTERM", err)
		}
		if n := len(nexthops(t, r.ns, vip)); n != 2 {
			t.Errorf("%d nexthops after director 2's stop, want 2", n)
		}
	})
}
