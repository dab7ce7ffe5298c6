package vrrpd_test

// The daemon's runtime — Run's event loop, settle, reload, tracking, GARP
// scheduling, source retries — on a fake clock and a network in memory
// (vrrptest): no root, no sockets, no sleeps. Time moves only when a test
// advances it; a test then waits for what the daemon does (an event on
// the network, a state it publishes), or makes a round trip through the
// event loop (rig.sync) before it looks.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/clock/clocktest"
	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/vrrpd"
	"github.com/lbx-dev/lbx/vrrpd/packet"
	"github.com/lbx-dev/lbx/vrrpd/vrrpmodel"
	"github.com/lbx-dev/lbx/vrrpd/vrrptest"
)

// wait bounds every wait for the daemon in real time: a safety net for a
// broken daemon, never a pace.
const wait = 10 * time.Second

var (
	t0   = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	own  = netip.MustParseAddr("10.0.0.2") // eth0's address: the source
	peer = netip.MustParseAddr("10.0.0.3")
)

// rig is one daemon running on a fake clock and network.
type rig struct {
	t   testing.TB
	clk *clocktest.Fake
	net *vrrptest.Transport
	rec *reconciler
	cfg *vrrpd.Config
	d   *vrrpd.Daemon
	// changed is poked at every OnState.
	changed chan struct{}
	// started is closed at OnStarted, when the reconciler had last been
	// given startedWith.
	started     chan struct{}
	startedWith map[string]string
}

// config builds the daemon's configuration from a model's YAML (the
// instances' tracks are those FromModel gives).
func config(t testing.TB, yaml string) *vrrpd.Config {
	t.Helper()
	m, err := model.Parse([]byte("version: 1\n"+yaml), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := vrrpmodel.FromModel(m)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// instance is the YAML of one instance on eth0, VRID 51, VRRPv3, advert
// interval 1 s, and the extra lines given.
func instance(name string, extra string) string {
	return fmt.Sprintf(`  - name: %s
    interface: eth0
    virtual_router_id: 51
    version: 3
    advert_int: 1s
    virtual_addresses: [{address: 10.0.0.100/24}]
%s`, name, extra)
}

// start runs a daemon on cfg; eth0 has the address own unless setup
// (run before the daemon starts) says otherwise. The daemon stops at the
// end of the test, and Run must return.
func start(t testing.TB, cfg *vrrpd.Config, setup func(*rig)) *rig {
	t.Helper()
	clk := clocktest.New(t0)
	r := &rig{t: t, clk: clk, net: vrrptest.New(clk), rec: &reconciler{clk: clk}, cfg: cfg, changed: make(chan struct{}, 1), started: make(chan struct{})}
	r.net.SetAddrs("eth0", own)
	if setup != nil {
		setup(r)
	}
	d, err := vrrpd.New(cfg, vrrpd.Options{Reconciler: r.rec, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Clock: clk, Transport: r.net, OnState: func(map[string]string) {
			select {
			case r.changed <- struct{}{}:
			default:
			}
		}, OnStarted: func() {
			r.rec.mu.Lock()
			r.startedWith = maps.Clone(r.rec.last)
			r.rec.mu.Unlock()
			close(r.started)
		}})
	if err != nil {
		t.Fatal(err)
	}
	r.d = d
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(wait):
			t.Error("Run did not return after the stop")
		}
	})
	r.sync()
	return r
}

// sync makes a round trip through the event loop (a reload that changes
// nothing): when it returns, the loop has done what fell due by the
// clock's time, and published it.
func (r *rig) sync() {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := r.d.Reload(ctx, r.cfg); err != nil {
		r.t.Fatalf("sync: %v", err)
	}
}

// advance moves the clock and syncs.
func (r *rig) advance(d time.Duration) {
	r.t.Helper()
	r.clk.Advance(d)
	r.sync()
}

// reload applies cfg, which the rig's syncs use from now on.
func (r *rig) reload(cfg *vrrpd.Config) {
	r.t.Helper()
	r.cfg = cfg
	r.sync()
}

// status returns an instance's published status (Name "" if absent).
func (r *rig) status(name string) vrrpd.InstanceStatus {
	for _, in := range r.d.Instances() {
		if in.Name == name {
			return in
		}
	}
	return vrrpd.InstanceStatus{}
}

// await waits until cond holds for the instance's published status, which
// the daemon changes in its own time (after a packet or tracking event
// that reaches the loop through another goroutine).
func (r *rig) await(name, what string, cond func(vrrpd.InstanceStatus) bool) {
	r.t.Helper()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for !cond(r.status(name)) {
		select {
		case <-r.changed:
		case <-deadline.C:
			r.t.Fatalf("%s: never %s; status %+v", name, what, r.status(name))
		}
	}
}

func (r *rig) awaitState(name, state string) {
	r.t.Helper()
	r.await(name, state, func(s vrrpd.InstanceStatus) bool { return s.State == state })
}

// events returns the network's events of a kind on a link.
func (r *rig) events(kind, link string) []vrrptest.Event {
	return vrrptest.Filter(r.net.Events(), kind, link)
}

// awaitEvents waits until there are n events of a kind on a link.
func (r *rig) awaitEvents(kind, link string, n int) []vrrptest.Event {
	r.t.Helper()
	evs, ok := r.net.Await(wait, func(evs []vrrptest.Event) bool { return len(vrrptest.Filter(evs, kind, link)) >= n })
	got := vrrptest.Filter(evs, kind, link)
	if !ok {
		r.t.Fatalf("%d %s events on %s; want %d", len(got), kind, link, n)
	}
	return got
}

// since returns the events' times since t0.
func since(evs []vrrptest.Event) []time.Duration {
	out := make([]time.Duration, 0, len(evs))
	for _, e := range evs {
		out = append(out, e.At.Sub(t0))
	}
	return out
}

// reconciler records the calls on the clock and fails while fail > 0.
type reconciler struct {
	clk   *clocktest.Fake
	mu    sync.Mutex
	fail  int
	calls []time.Duration // since t0
	last  map[string]string
}

func (c *reconciler) Reconcile(_ context.Context, states map[string]string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, c.clk.Now().Sub(t0))
	c.last = states
	if c.fail > 0 {
		c.fail--
		return syscall.ENOBUFS
	}
	return nil
}

func (c *reconciler) called() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.calls)
}

// advert is a VRRPv3 advert for VRID 51 with priority prio.
func advert(prio uint8) *packet.Packet {
	return &packet.Packet{Version: 3, VRID: 51, Priority: prio, Interval: time.Second, Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.100")}}
}

// A backup that hears nothing becomes master after Master_Down_Interval
// (3 × advert_int + skew) to the nanosecond, sends its first advert then,
// has its addresses put in the kernel and announces them.
func TestBackupTakesOverAfterMasterDown(t *testing.T) {
	tests := []struct {
		prio       int
		masterDown time.Duration // 3 s + (256 - prio) / 256 s
	}{
		{100, 3*time.Second + 609375*time.Microsecond},
		{200, 3*time.Second + 218750*time.Microsecond},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint("priority ", tc.prio), func(t *testing.T) {
			r := start(t, config(t, "vrrp_instances:\n"+instance("VI_1", fmt.Sprintf("    priority: %d\n", tc.prio))), nil)
			if s := r.status("VI_1"); s.State != "BACKUP" {
				t.Fatalf("started %s; want BACKUP", s.State)
			}
			r.advance(tc.masterDown - time.Millisecond)
			if s := r.status("VI_1"); s.State != "BACKUP" || len(r.events(vrrptest.Send, "eth0")) != 0 {
				t.Fatalf("1 ms before Master_Down_Interval: %s, %d adverts sent; want BACKUP, none", s.State, len(r.events(vrrptest.Send, "eth0")))
			}
			r.advance(time.Millisecond)
			s := r.status("VI_1")
			if s.State != "MASTER" || !s.LastTransition.Equal(t0.Add(tc.masterDown)) {
				t.Fatalf("at Master_Down_Interval: %s since %s; want MASTER since %s", s.State, s.LastTransition.Sub(t0), tc.masterDown)
			}
			sent := r.events(vrrptest.Send, "eth0")
			if len(sent) != 1 || int(sent[0].Packet.Priority) != tc.prio || sent[0].Src != own || sent[0].Dst != packet.Group4 || sent[0].At.Sub(t0) != tc.masterDown {
				t.Fatalf("adverts sent %+v; want one of priority %d from %s to %s at %s", sent, tc.prio, own, packet.Group4, tc.masterDown)
			}
			if c := r.rec.called(); c[len(c)-1] != tc.masterDown || r.rec.last["VI_1"] != "MASTER" {
				t.Errorf("reconciles at %v with %v; want the last at %s with VI_1 MASTER", c, r.rec.last, tc.masterDown)
			}
			// keepalived's default: garp_master_repeat 5 at once.
			if got := since(r.awaitEvents(vrrptest.Announce, "eth0", 5)); !slices.Equal(got, slices.Repeat([]time.Duration{tc.masterDown}, 5)) {
				t.Errorf("announcements at %v; want 5 at %s", got, tc.masterDown)
			}
		})
	}
}

// A master answers a lower-priority advert at once with its own, and
// gives way to a higher one (equal priorities: the higher address wins).
func TestMasterReceivesAdvert(t *testing.T) {
	tests := []struct {
		name  string
		prio  uint8
		src   netip.Addr
		yield bool // becomes BACKUP; else answers with an advert
	}{
		{"higher priority", 200, peer, true},
		{"equal priority, higher address", 100, peer, true},
		{"equal priority, lower address", 100, netip.MustParseAddr("10.0.0.1"), false},
		{"lower priority", 50, peer, false},
		{"priority 0: the other master resigns", 0, peer, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := start(t, config(t, "vrrp_instances:\n"+instance("VI_1", "    state: MASTER\n")), nil)
			r.awaitState("VI_1", "MASTER")
			r.awaitEvents(vrrptest.Send, "eth0", 1)
			r.advance(100 * time.Millisecond)
			if err := r.net.DeliverAdvert("eth0", advert(tc.prio), tc.src); err != nil {
				t.Fatal(err)
			}
			if tc.yield {
				r.awaitState("VI_1", "BACKUP")
				r.sync()
				if n := len(r.events(vrrptest.Send, "eth0")); n != 1 {
					t.Errorf("%d adverts sent; want only the first", n)
				}
				if r.rec.last["VI_1"] != "BACKUP" {
					t.Errorf("last reconcile for %v; want VI_1 BACKUP (addresses released)", r.rec.last)
				}
				return
			}
			sent := r.awaitEvents(vrrptest.Send, "eth0", 2)
			if a := sent[1]; a.Packet.Priority != 100 || a.At.Sub(t0) != 100*time.Millisecond {
				t.Errorf("answer of priority %d at %s; want 100 at once (100ms)", a.Packet.Priority, a.At.Sub(t0))
			}
			if s := r.status("VI_1").State; s != "MASTER" {
				t.Errorf("state %s; want MASTER", s)
			}
		})
	}
}

// A failed reconcile is tried again 1 s later (not sooner), until one
// succeeds; then no more.
func TestSettleRetriesAFailedReconcile(t *testing.T) {
	for _, fails := range []int{1, 2} {
		t.Run(fmt.Sprint(fails, " failures"), func(t *testing.T) {
			r := start(t, config(t, "vrrp_instances:\n"+instance("VI_1", "")), func(r *rig) { r.rec.fail = fails })
			want := []time.Duration{0} // the initial reconcile, at start
			for i := 1; i <= fails; i++ {
				r.advance(999 * time.Millisecond)
				if got := r.rec.called(); !slices.Equal(got, want) {
					t.Fatalf("reconciles at %v; want %v (none before 1 s)", got, want)
				}
				r.advance(time.Millisecond)
				want = append(want, time.Duration(i)*time.Second)
				if got := r.rec.called(); !slices.Equal(got, want) {
					t.Fatalf("reconciles at %v; want %v", got, want)
				}
			}
			r.advance(time.Second)
			if got := r.rec.called(); !slices.Equal(got, want) {
				t.Fatalf("reconciles at %v after one succeeded; want %v", got, want)
			}
		})
	}
}

// A reload adds an instance (its link opened, started as at boot, the
// others untouched) and removes it (priority 0 sent as it resigns, its
// addresses released, its link closed).
func TestReloadAddsAndRemovesAnInstance(t *testing.T) {
	one := config(t, "vrrp_instances:\n"+instance("VI_1", ""))
	two := config(t, "vrrp_instances:\n"+instance("VI_1", "")+`  - name: VI_2
    interface: eth1
    virtual_router_id: 52
    version: 3
    state: MASTER
    virtual_addresses: [{address: 10.0.1.100/24}]
`)
	r := start(t, one, func(r *rig) { r.net.SetAddrs("eth1", netip.MustParseAddr("10.0.1.2")) })
	r.advance(time.Second)
	before := r.status("VI_1")

	r.reload(two)
	if got := r.events(vrrptest.Open, "eth1"); len(got) != 1 {
		t.Fatalf("eth1 opened %d times; want once", len(got))
	}
	if s := r.status("VI_2"); s.State != "MASTER" || !s.LastTransition.Equal(t0.Add(time.Second)) {
		t.Fatalf("VI_2 added: %s since %s; want MASTER since 1s", s.State, s.LastTransition.Sub(t0))
	}
	if s := r.status("VI_1"); s.State != before.State || !s.LastTransition.Equal(before.LastTransition) {
		t.Errorf("VI_1 touched by the reload: %+v; was %+v", s, before)
	}
	if sent := r.events(vrrptest.Send, "eth1"); len(sent) != 1 || sent[0].Packet.Priority != 100 || sent[0].Packet.VRID != 52 {
		t.Fatalf("adverts on eth1 %+v; want VI_2's first", sent)
	}

	r.advance(500 * time.Millisecond)
	r.reload(one)
	if s := r.status("VI_2"); s.Name != "" {
		t.Fatalf("VI_2 still running after its removal: %+v", s)
	}
	var eth1 []string // what happened on eth1, in order
	for _, e := range r.net.Events() {
		switch {
		case e.Link == "eth1" && e.Kind == vrrptest.Send:
			eth1 = append(eth1, fmt.Sprint("advert ", e.Packet.Priority))
		case e.Link == "eth1" && e.Kind == vrrptest.Close:
			eth1 = append(eth1, "closed")
		}
	}
	if want := []string{"advert 100", "advert 0", "closed"}; !slices.Equal(eth1, want) {
		t.Fatalf("on eth1: %v; want %v", eth1, want)
	}
	if _, ok := r.rec.last["VI_2"]; ok || r.rec.last["VI_1"] != "BACKUP" {
		t.Errorf("last reconcile for %v; want VI_1 alone", r.rec.last)
	}
	if len(r.events(vrrptest.Close, "eth0")) != 0 {
		t.Error("VI_1's link closed by the reload")
	}
}

// An instance a reload could not build (its link or its announcer would
// not open) is not running and not kept: a later reload that removes or
// changes it has nothing to stop (it once stopped a nil instance, and the
// daemon died), no link is left open for it, and a reload that still has
// it builds it again.
func TestReloadOfAnInstanceNotBuilt(t *testing.T) {
	one := config(t, "vrrp_instances:\n"+instance("VI_1", ""))
	vi2 := func(prio int) *vrrpd.Config {
		return config(t, "vrrp_instances:\n"+instance("VI_1", "")+fmt.Sprintf(`  - name: VI_2
    interface: eth1
    virtual_router_id: 52
    version: 3
    priority: %d
    virtual_addresses: [{address: 10.0.1.100/24}]
`, prio))
	}
	for _, tc := range []struct {
		name string
		fail func(*vrrptest.Transport, error)
	}{
		{"link", func(n *vrrptest.Transport, err error) { n.FailOpen("eth1", err) }},
		{"announcer", func(n *vrrptest.Transport, err error) { n.FailAnnounce("eth1", err) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := start(t, one, func(r *rig) { r.net.SetAddrs("eth1", netip.MustParseAddr("10.0.1.2")) })
			tc.fail(r.net, errors.New("no such interface"))
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			if err := r.d.Reload(ctx, vi2(100)); err == nil || !strings.Contains(err.Error(), "VI_2") {
				t.Fatalf("reload with eth1 failing: %v; want an error naming VI_2", err)
			}
			if s := r.status("VI_2"); s.Name != "" {
				t.Fatalf("VI_2 shown though not built: %+v", s)
			}
			if opened, closed := len(r.events(vrrptest.Open, "eth1")), len(r.events(vrrptest.Close, "eth1")); opened != closed {
				t.Fatalf("eth1 opened %d times and closed %d: a link left open for an instance not built", opened, closed)
			}
			for _, next := range []*vrrpd.Config{vi2(120), one} { // changed, then removed
				if err := r.d.Reload(ctx, next); err == nil && len(next.Instances) == 2 || err != nil && len(next.Instances) == 1 {
					t.Fatalf("reload to %d instances with eth1 failing: %v", len(next.Instances), err)
				}
			}
			tc.fail(r.net, nil)
			r.reload(vi2(100))
			if s := r.status("VI_2"); s.State != "BACKUP" {
				t.Fatalf("VI_2 once eth1 opens: %+v; want it built and BACKUP", s)
			}
			if s := r.status("VI_1"); s.State != "BACKUP" {
				t.Errorf("VI_1 after the reloads: %+v", s)
			}
		})
	}
}

// A sync group is brought into step when a reload builds one of its
// members: a replaced member that was FAULT held the others in FAULT, and
// its replacement (on a link that is up) lifts that; a member built only
// by a later reload, its link failing before, follows the group's master.
func TestReloadBuildsAGroupMember(t *testing.T) {
	vi2 := func(iface string) string {
		return "  - name: VI_2\n    interface: " + iface + "\n    virtual_router_id: 52\n    version: 3\n    virtual_addresses: [{address: 10.0.1.100/24}]\n"
	}
	group := "sync_groups: [{name: G, members: [VI_1, VI_2]}]\nvrrp_instances:\n"
	links := func(r *rig) {
		r.net.SetAddrs("eth1", netip.MustParseAddr("10.0.1.2"))
		r.net.SetAddrs("eth2", netip.MustParseAddr("10.0.2.2"))
	}
	t.Run("a replaced member lifts the group's fault", func(t *testing.T) {
		r := start(t, config(t, group+instance("VI_1", "")+vi2("eth1")), links)
		r.advance(time.Second)
		r.net.SetUp("eth1", false)
		r.awaitState("VI_2", "FAULT")
		r.awaitState("VI_1", "FAULT")
		r.reload(config(t, group+instance("VI_1", "")+vi2("eth2")))
		r.advance(5 * time.Second)
		if s := r.status("VI_1"); s.State == "FAULT" {
			t.Fatalf("VI_1 still FAULT (%s) after VI_2 moved to a link that is up", s.LastReason)
		}
	})
	t.Run("a member built late follows the master", func(t *testing.T) {
		master := instance("VI_1", "    state: MASTER\n")
		r := start(t, config(t, "vrrp_instances:\n"+master), links)
		r.awaitState("VI_1", "MASTER")
		r.net.FailOpen("eth1", errors.New("no such interface"))
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := r.d.Reload(ctx, config(t, group+master+vi2("eth1"))); err == nil {
			t.Fatal("reload with eth1 failing: no error")
		}
		r.net.FailOpen("eth1", nil)
		r.reload(config(t, group+master+vi2("eth1")))
		r.awaitState("VI_2", "MASTER")
	})
}

// An interface deleted and made again (a VLAN or bond taken down and up)
// has another index, and the sockets opened on the old one hear and send
// nothing: the daemon opens its link anew, on which the master goes on
// advertising and hears a higher master.
func TestRecreatedInterface(t *testing.T) {
	r := start(t, config(t, "vrrp_instances:\n"+instance("VI_1", "    state: MASTER\n")), nil)
	r.awaitState("VI_1", "MASTER")
	r.net.Recreate("eth0")
	r.awaitEvents(vrrptest.Close, "eth0", 1) // the watcher's report comes on its own
	r.sync()
	if opened, closed := len(r.events(vrrptest.Open, "eth0")), len(r.events(vrrptest.Close, "eth0")); opened != 2 || closed != 1 {
		t.Fatalf("eth0 opened %d times and closed %d; want its link opened anew and the old one closed", opened, closed)
	}
	sent := len(r.events(vrrptest.Send, "eth0"))
	r.advance(time.Second)
	if n := len(r.events(vrrptest.Send, "eth0")); n <= sent {
		t.Fatalf("no advert sent on eth0 after it was made again (%d before, %d after)", sent, n)
	}
	if err := r.net.DeliverAdvert("eth0", advert(200), peer); err != nil {
		t.Fatal(err)
	}
	r.awaitState("VI_1", "BACKUP")
}

// Tracking: a tracked link down puts the instance in FAULT (weight 0; a
// master resigns with priority 0 first) or lowers its priority (negative
// weight); up again, it recovers.
func TestTrackedLinkDown(t *testing.T) {
	tests := []struct {
		name, link, extra string
		downState         string
		downPrio          int
		resigns           bool // sends priority 0
		upState           string
	}{
		{name: "own interface", link: "eth0", downState: "FAULT", downPrio: 100, resigns: true, upState: "BACKUP"},
		{name: "tracked, weight 0", link: "eth1", extra: "    track_interfaces: [{name: eth1, weight: 0}]\n", downState: "FAULT", downPrio: 100, resigns: true, upState: "BACKUP"},
		{name: "tracked, weight -30", link: "eth1", extra: "    track_interfaces: [{name: eth1, weight: -30}]\n", downState: "MASTER", downPrio: 70, upState: "MASTER"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := start(t, config(t, "vrrp_instances:\n"+instance("VI_1", "    state: MASTER\n"+tc.extra)), nil)
			r.awaitState("VI_1", "MASTER")
			r.awaitEvents(vrrptest.Send, "eth0", 1)
			r.net.SetUp(tc.link, false)
			r.await("VI_1", fmt.Sprintf("%s at priority %d", tc.downState, tc.downPrio), func(s vrrpd.InstanceStatus) bool {
				return s.State == tc.downState && s.EffectivePriority == tc.downPrio
			})
			r.sync()
			if sent := r.events(vrrptest.Send, "eth0"); tc.resigns != (len(sent) == 2 && sent[1].Packet.Priority == 0) {
				t.Errorf("adverts %+v; resigning with priority 0: %v", sent, tc.resigns)
			}
			r.net.SetUp(tc.link, true)
			r.await("VI_1", fmt.Sprintf("%s at priority 100", tc.upState), func(s vrrpd.InstanceStatus) bool {
				return s.State == tc.upState && s.EffectivePriority == 100
			})
		})
	}
}

// GARP follows keepalived's schedule on the clock: garp_master_repeat at
// once and again after garp_master_delay, then garp_master_refresh_repeat
// every garp_master_refresh while master — and no more once backup.
func TestGARPSchedule(t *testing.T) {
	tests := []struct {
		name  string
		extra string
		want  []time.Duration // announcement rounds within 10 s
	}{
		{"keepalived's defaults", "", []time.Duration{0, 0, 0, 0, 0, 5 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second}},
		{"no delay", "    garp_master_delay: 0s\n    garp_master_repeat: 2\n", []time.Duration{0, 0}},
		{"refresh", "    garp_master_delay: 2s\n    garp_master_repeat: 1\n    garp_master_refresh: 3s\n    garp_master_refresh_repeat: 2\n",
			[]time.Duration{0, 2 * time.Second, 5 * time.Second, 5 * time.Second, 8 * time.Second, 8 * time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := start(t, config(t, "vrrp_instances:\n"+instance("VI_1", "    state: MASTER\n"+tc.extra)), nil)
			for now := time.Duration(0); now <= 10*time.Second; now += time.Second {
				if now > 0 {
					r.advance(time.Second)
				}
				due := 0
				for _, at := range tc.want {
					if at <= now {
						due++
					}
				}
				r.awaitEvents(vrrptest.Announce, "eth0", due)
			}
			if got := since(r.events(vrrptest.Announce, "eth0")); !slices.Equal(got, tc.want) {
				t.Fatalf("announcements at %v; want %v", got, tc.want)
			}
			if err := r.net.DeliverAdvert("eth0", advert(200), peer); err != nil {
				t.Fatal(err)
			}
			r.awaitState("VI_1", "BACKUP")
			// Not as long as Master_Down_Interval (3.6 s): it would be
			// master again.
			r.advance(3 * time.Second)
			if got := since(r.events(vrrptest.Announce, "eth0")); !slices.Equal(got, tc.want) {
				t.Fatalf("announcements at %v after becoming backup; want %v", got, tc.want)
			}
		})
	}
}

// A link whose addresses cannot be read (EMFILE: says nothing about them)
// puts its instances in FAULT without an address to send from, and is
// read again after 100 ms, then twice as late each time, up to 5 s; once
// read, the instance leaves FAULT.
func TestSourceRetryBackoff(t *testing.T) {
	r := start(t, config(t, "vrrp_instances:\n"+instance("VI_1", "")), func(r *rig) { r.net.FailAddrs("eth0", syscall.EMFILE) })
	if s := r.status("VI_1"); s.State != "FAULT" {
		t.Fatalf("started %s; want FAULT", s.State)
	}
	// At start: the instance's own read and the address watcher's first
	// report.
	r.awaitEvents(vrrptest.Addrs, "eth0", 2)
	r.sync()
	want := since(r.events(vrrptest.Addrs, "eth0"))
	if !slices.Equal(want, []time.Duration{0, 0}) {
		t.Fatalf("reads at start at %v; want two at 0", want)
	}
	now := time.Duration(0)
	for _, wait := range []time.Duration{100, 200, 400, 800, 1600, 3200, 5000, 5000} {
		wait *= time.Millisecond
		r.advance(wait - time.Millisecond)
		if got := since(r.events(vrrptest.Addrs, "eth0")); !slices.Equal(got, want) {
			t.Fatalf("reads at %v; want %v (the next not before %s)", got, want, now+wait)
		}
		r.advance(time.Millisecond)
		now += wait
		want = append(want, now)
		if got := since(r.events(vrrptest.Addrs, "eth0")); !slices.Equal(got, want) {
			t.Fatalf("reads at %v; want %v", got, want)
		}
		if s := r.status("VI_1"); s.State != "FAULT" {
			t.Fatalf("%s while the addresses cannot be read; want FAULT", s.State)
		}
	}
	r.net.SetAddrs("eth0", own)
	r.awaitState("VI_1", "BACKUP")
}

// An instance without virtual addresses (VRRPv2: keepalived runs it, to
// drive notify scripts) takes over and advertises none. (An instance with
// addresses drops adverts without any: TestDropAccounting.)
func TestAddresslessInstance(t *testing.T) {
	r := start(t, config(t, `vrrp_instances:
  - {name: VI_0, interface: eth0, virtual_router_id: 51, version: 2, advert_int: 1s}
`), nil)
	r.advance(3*time.Second + 609375*time.Microsecond)
	r.awaitState("VI_0", "MASTER")
	if sent := r.awaitEvents(vrrptest.Send, "eth0", 1); len(sent[0].Packet.Addrs) != 0 {
		t.Errorf("advert carries %v; want no address", sent[0].Packet.Addrs)
	}
}

// OnStarted comes once the start is done: an instance that starts as
// MASTER has had its addresses reconciled by then (lbx watch's READY=1
// follows OnStarted, and a unit ordered after it expects the address).
func TestOnStartedAfterInitialMaster(t *testing.T) {
	r := start(t, config(t, "vrrp_instances:\n"+instance("VI_1", "    state: MASTER\n")), nil)
	select {
	case <-r.started:
	case <-time.After(wait):
		t.Fatal("OnStarted was not called")
	}
	if got := r.startedWith["VI_1"]; got != "MASTER" {
		t.Errorf("at OnStarted the reconciler had VI_1 as %q; want MASTER", got)
	}
}
