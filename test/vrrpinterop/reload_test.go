package vrrpinterop

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/testkit"
)

// advertSeen is one VRRP packet seen on the bridge by a third namespace.
type advertSeen struct {
	at   time.Time
	src  netip.Addr
	vrid int
	prio int
}

// wire records every VRRP advertisement (IPv4, multicast) seen by an
// observer namespace that runs no router: what a switch would see.
type wire struct {
	mu  sync.Mutex
	all []advertSeen
}

func watchWire(t *testing.T, obs *peer) *wire {
	t.Helper()
	link, err := obs.nl.LinkByName("eth0")
	if err != nil {
		t.Fatal(err)
	}
	fd := socketIn(t, obs.ns, syscall.AF_INET, syscall.SOCK_RAW, 112)
	// Raw sockets get multicast only for groups the host has joined.
	mreq := &syscall.IPMreqn{Multiaddr: [4]byte{224, 0, 0, 18}, Ifindex: int32(link.Attrs().Index)}
	if err := syscall.SetsockoptIPMreqn(fd, syscall.IPPROTO_IP, syscall.IP_ADD_MEMBERSHIP, mreq); err != nil {
		syscall.Close(fd)
		t.Fatal(err)
	}
	w := &wire{}
	capture(t, fd, func(p []byte) {
		hl := int(p[0]&0x0f) * 4
		if len(p) < hl+4 {
			return
		}
		src, _ := netip.AddrFromSlice(p[12:16])
		w.mu.Lock()
		w.all = append(w.all, advertSeen{at: time.Now(), src: src, vrid: int(p[hl+1]), prio: int(p[hl+2])})
		w.mu.Unlock()
	})
	return w
}

// since returns the adverts seen from t on.
func (w *wire) since(t time.Time) []advertSeen {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []advertSeen
	for _, a := range w.all {
		if !a.at.Before(t) {
			out = append(out, a)
		}
	}
	return out
}

// reload rewrites an lbx peer's model (from its fields) and sends SIGHUP.
func (p *peer) reload() {
	p.t.Helper()
	if err := os.WriteFile(filepath.Join(p.dir, "model.yaml"), []byte(p.lbxModel()), 0o644); err != nil {
		p.t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		p.t.Fatal(err)
	}
}

// A SIGHUP that changes nothing leaves the running router alone: same
// state, adverts without a gap, no priority-0 advert, no gratuitous ARP.
// A SIGHUP that lowers the master's priority below the backup's (preempt
// on) swaps the roles as RFC 5798 says; raising it again takes the role
// back. Against lbx and keepalived backups.
func TestReloadLive(t *testing.T) {
	v := vr{version: 3, advert: 200 * time.Millisecond, vrid: 57, vip: "10.77.0.100/24"}
	for _, other := range []string{"lbx", "keepalived"} {
		t.Run("lbx-over-"+other, func(t *testing.T) {
			ps, _ := lan(t, "lbx", other, "observer")
			hi, lo, obs := ps[0], ps[1], ps[2]
			hi.vr, lo.vr = v, v
			hi.prio, lo.prio = 150, 100
			w := watchWire(t, obs)
			garps := arpWatch(t, obs.ns, v.vipAddr())
			hi.start()
			lo.start()
			converged(hi, lo, v)
			// Past the second GARP burst (garp_master_delay 5 s): from now
			// on a master sends none unless something makes it.
			hi.waitStat("garp_sent", 10, 10*time.Second)
			time.Sleep(200 * time.Millisecond)
			for len(garps) > 0 {
				<-garps
			}

			// 1. A reload that changes nothing.
			before := hi.stats()
			t0 := time.Now()
			hi.reload()
			testkit.Eventually(t, "reload logged", 5*time.Second, func() bool { return strings.Count(hi.out.String(), "msg=reloaded") >= 1 })
			stable(t, hi, []*peer{hi, lo}, 10*v.advert)
			after := hi.stats()
			for _, k := range []string{"transitions", "garp_sent", "priority_zero_sent"} {
				if after[k] != before[k] {
					t.Errorf("no-op reload: counter %s %d -> %d", k, before[k], after[k])
				}
			}
			if n := len(garps); n > 0 {
				t.Errorf("no-op reload: %d gratuitous ARPs on the wire", n)
			}
			var last time.Time
			for _, a := range w.since(t0) {
				if a.prio == 0 {
					t.Errorf("no-op reload: priority-0 advert from %s on the wire", a.src)
				}
				if a.src.String() == hi.ip && a.vrid == v.vrid {
					if !last.IsZero() && a.at.Sub(last) > 2*v.advert {
						t.Errorf("no-op reload: %s between two adverts of the master (advert_int %s)", a.at.Sub(last), v.advert)
					}
					last = a.at
				}
			}
			if last.IsZero() {
				t.Fatal("the observer saw no advert from the master: the wire check could not fail")
			}

			// 2. The master's priority drops below the backup's: the backup
			// preempts within its Master_Down_Interval.
			hi.prio = 50
			t1 := time.Now()
			hi.reload()
			took := lo.waitVIP(true, v.mdi(100)+v.advert+time.Second, t1)
			hi.waitVIP(false, time.Second, time.Now())
			t.Logf("roles swapped %s after SIGHUP (Master_Down_Interval of the backup %s)", took, v.mdi(100))
			saw50 := false
			for _, a := range w.since(t1) {
				saw50 = saw50 || a.src.String() == hi.ip && a.prio == 50
			}
			if !saw50 {
				t.Error("the master never advertised its new priority 50")
			}
			stable(t, lo, []*peer{hi, lo}, 5*v.advert)

			// 3. Raised above the new master's: it takes the role back.
			hi.prio = 200
			t2 := time.Now()
			hi.reload()
			took = hi.waitVIP(true, v.mdi(200)+v.advert+time.Second, t2)
			lo.waitVIP(false, time.Second, time.Now())
			t.Logf("preempted back %s after SIGHUP (Master_Down_Interval %s)", took, v.mdi(200))
			stable(t, hi, []*peer{hi, lo}, 5*v.advert)
		})
	}
}

// Added, replaced and removed instances: a VRID change is another router
// (the old one resigns with priority 0 and releases its address, the new
// one starts as at boot); a removed instance resigns; an added one starts;
// an instance left alone keeps advertising without a gap.
func TestReloadAddReplaceRemove(t *testing.T) {
	ps, _ := lan(t, "lbx", "observer")
	p, obs := ps[0], ps[1]
	w := watchWire(t, obs)
	model := func(body string) string { return "version: 1\nvrrp_instances:\n" + body }
	keep := instanceYAML("KEEP", 70, 150, "10.77.0.70", "    state: MASTER\n")
	old := instanceYAML("MOVE", 71, 150, "10.77.0.71", "    state: MASTER\n")
	p.startModel(model(keep + old))
	testkit.Eventually(t, "both masters", 5*time.Second, func() bool { return hasAddr(p, "10.77.0.70") && hasAddr(p, "10.77.0.71") })
	write := func(m string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(p.dir, "model.yaml"), []byte(m), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}
	count := func(from time.Time, vrid, prio int) int {
		n := 0
		for _, a := range w.since(from) {
			if a.vrid == vrid && (prio < 0 || a.prio == prio) {
				n++
			}
		}
		return n
	}

	// Replace: VRID 71 -> 72 and another address.
	t0 := time.Now()
	write(model(keep + instanceYAML("MOVE", 72, 150, "10.77.0.72", "    state: MASTER\n")))
	testkit.Eventually(t, "replaced instance master on its new address", 5*time.Second, func() bool {
		return hasAddr(p, "10.77.0.72") && !hasAddr(p, "10.77.0.71")
	})
	testkit.Eventually(t, "priority 0 from the old VRID, adverts from the new", 2*time.Second, func() bool {
		return count(t0, 71, 0) >= 1 && count(t0, 72, 150) >= 1
	})
	time.Sleep(500 * time.Millisecond)
	if n := count(t0.Add(300*time.Millisecond), 71, -1); n > 0 {
		t.Errorf("%d adverts for the replaced VRID 71 after its resignation", n)
	}

	// Remove MOVE, add NEW.
	t1 := time.Now()
	write(model(keep + instanceYAML("NEW", 73, 150, "10.77.0.73", "    state: MASTER\n")))
	testkit.Eventually(t, "removed instance's address released, added one's in place", 5*time.Second, func() bool {
		return !hasAddr(p, "10.77.0.72") && hasAddr(p, "10.77.0.73")
	})
	testkit.Eventually(t, "priority 0 from the removed VRID", 2*time.Second, func() bool { return count(t1, 72, 0) >= 1 })

	// KEEP was never touched: its adverts went on without a gap and
	// without a priority 0; its address stayed.
	if !hasAddr(p, "10.77.0.70") {
		t.Fatal("the untouched instance lost its address")
	}
	var last time.Time
	for _, a := range w.since(t0) {
		if a.vrid != 70 {
			continue
		}
		if a.prio != 150 {
			t.Errorf("untouched instance advertised priority %d", a.prio)
		}
		if !last.IsZero() && a.at.Sub(last) > 250*time.Millisecond {
			t.Errorf("untouched instance: %s without an advert (advert_int 100ms)", a.at.Sub(last))
		}
		last = a.at
	}
	if last.IsZero() {
		t.Fatal("no advert of the untouched instance seen: the check could not fail")
	}
}

// Scripts and sync groups change with a reload too: a failing track script
// and a sync group added together put both members in FAULT (one by its
// own fault, the other forced by the group) and the addresses move to the
// peer; removing the script brings both back, with preempt.
func TestReloadScriptsAndGroups(t *testing.T) {
	a, b := twoLBX(t)
	insts := func(prio int, extra string) string {
		return "vrrp_instances:\n" + instanceYAML("VI_1", 64, prio, "10.77.0.104", extra) + instanceYAML("VI_2", 65, prio, "10.77.0.105", "")
	}
	plain := "version: 1\n" + insts(150, "")
	a.startModel(plain)
	b.startModel("version: 1\nsync_groups: [{name: G, members: [VI_1, VI_2]}]\n" + insts(100, ""))
	both := func(p *peer) bool { return hasAddr(p, "10.77.0.104") && hasAddr(p, "10.77.0.105") }
	none := func(p *peer) bool { return !hasAddr(p, "10.77.0.104") && !hasAddr(p, "10.77.0.105") }
	testkit.Eventually(t, "a holds both", 5*time.Second, func() bool { return both(a) && none(b) })
	write := func(m string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(a.dir, "model.yaml"), []byte(m), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := a.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}
	write("version: 1\nscripts:\n  chk: {script: /bin/false, interval: 0.2, weight: 0, init_fail: true}\n" +
		"sync_groups: [{name: G, members: [VI_1, VI_2]}]\n" + insts(150, "    track_scripts: [{name: chk}]\n"))
	testkit.Eventually(t, "both move to b (VI_1 own fault, VI_2 forced by the new group)", 3*time.Second, func() bool { return both(b) && none(a) })
	if !strings.Contains(a.out.String(), "sync group G") {
		t.Error("VI_2's FAULT was not forced by the group")
	}
	write(plain)
	testkit.Eventually(t, "both back to a", 3*time.Second, func() bool { return both(a) && none(b) })
}
