package vrrpd

import (
	"context"
	"log/slog"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/clock"
	"github.com/lbx-dev/lbx/vrrpd/fsm"
	"github.com/lbx-dev/lbx/vrrpd/packet"
)

func baseInstance() *Instance {
	return &Instance{
		FSM: fsm.Config{Name: "VI_1", VRID: 51, Version: 3, Priority: 150, AdvertInt: time.Second, Preempt: true,
			Tracks: []fsm.Track{{Key: interfaceKey("eth0")}}},
		Interface: "eth0",
		Addrs:     []netip.Addr{netip.MustParseAddr("10.0.0.100")},
		GarpDelay: 5 * time.Second, GarpRepeat: 5,
	}
}

// What a reload does with an instance present before and after.
func TestDecide(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Instance)
		want Action
		why  string // a substring of the reasons
	}{
		{"identical", nil, Keep, ""},
		{"priority", func(i *Instance) { i.FSM.Priority = 50 }, Update, "priority 150 -> 50"},
		{"advert_int", func(i *Instance) { i.FSM.AdvertInt = 2 * time.Second }, Update, "advert_int"},
		{"preempt", func(i *Instance) { i.FSM.Preempt = false }, Update, "preempt"},
		{"preempt_delay", func(i *Instance) { i.FSM.PreemptDelay = time.Minute }, Update, "preempt_delay"},
		{"track weight", func(i *Instance) { i.FSM.Tracks = append(i.FSM.Tracks, fsm.Track{Key: scriptKey("chk"), Weight: -20}) }, Update, "script chk:-20"},
		{"auth, password not logged", func(i *Instance) { i.AuthPass = "s3cret" }, Update, "authentication changed"},
		{"unicast peers", func(i *Instance) { i.UnicastPeers = []netip.Addr{netip.MustParseAddr("10.0.0.3")} }, Update, "unicast_peers"},
		{"unicast source", func(i *Instance) { i.UnicastSrc = netip.MustParseAddr("10.0.0.2") }, Update, "unicast_src_ip"},
		{"garp", func(i *Instance) { i.GarpRefresh = time.Minute }, Update, "garp_master_refresh"},
		{"notify", func(i *Instance) { i.Notify = Notify{Master: "/bin/true"} }, Update, "notify"},
		{"virtual addresses", func(i *Instance) { i.Addrs = append(i.Addrs, netip.MustParseAddr("10.0.0.101")) }, Update, "virtual_addresses"},
		{"sync group", func(i *Instance) { i.Group = "G" }, Update, "sync group"},
		{"VRID: another router", func(i *Instance) { i.FSM.VRID = 52 }, Replace, "virtual_router_id 51 -> 52"},
		{"interface: another router", func(i *Instance) { i.Interface = "eth1" }, Replace, "interface eth0 -> eth1"},
		{"family: another router", func(i *Instance) { i.V6 = true }, Replace, "ipv6"},
		{"version: another router", func(i *Instance) { i.FSM.Version = 2 }, Replace, "version 3 -> 2"},
		{"VRID and priority: replace wins", func(i *Instance) { i.FSM.VRID, i.FSM.Priority = 52, 1 }, Replace, "virtual_router_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old, nw := baseInstance(), baseInstance()
			if tt.mod != nil {
				tt.mod(nw)
			}
			a, why := Decide(old, nw)
			if a != tt.want {
				t.Fatalf("action %s (%v), want %s", a, why, tt.want)
			}
			if got := strings.Join(why, "; "); !strings.Contains(got, tt.why) || strings.Contains(got, "s3cret") {
				t.Fatalf("why %q, want it to mention %q (and never the password)", got, tt.why)
			}
		})
	}
}

func TestPlanReload(t *testing.T) {
	named := func(name string, vrid uint8, mod func(*Instance)) *Instance {
		i := baseInstance()
		i.FSM.Name, i.FSM.VRID = name, vrid
		if mod != nil {
			mod(i)
		}
		return i
	}
	chk := &ScriptConfig{Name: "chk", Command: "/bin/true", Interval: time.Second, Timeout: time.Second, Rise: 1, Fall: 1}
	chk2 := *chk
	chk2.Fall = 3
	old := &Config{
		Instances: []*Instance{named("A", 1, nil), named("B", 2, nil), named("C", 3, nil), named("D", 4, nil)},
		Groups:    []*SyncGroup{{Name: "G1", Members: []string{"A", "B"}}, {Name: "G2", Members: []string{"C"}}},
		Scripts:   map[string]*ScriptConfig{"chk": chk, "gone": {Name: "gone"}, "same": {Name: "same"}},
		Links:     []string{"eth0", "eth1"},
	}
	nw := &Config{
		Instances: []*Instance{named("A", 1, nil), named("B", 2, func(i *Instance) { i.FSM.Priority = 90 }),
			named("C", 30, nil), named("E", 5, nil)},
		Groups:  []*SyncGroup{{Name: "G1", Members: []string{"A", "B"}}, {Name: "G2", Members: []string{"C", "E"}}, {Name: "G3"}},
		Scripts: map[string]*ScriptConfig{"chk": &chk2, "new": {Name: "new"}, "same": {Name: "same"}},
		Links:   []string{"eth1", "eth0"},
	}
	p := PlanReload(old, nw)
	var got []string
	for _, c := range p.Instances {
		got = append(got, c.Name+":"+string(c.Action))
	}
	if want := []string{"A:keep", "B:update", "C:replace", "D:remove", "E:add"}; !slices.Equal(got, want) {
		t.Errorf("instances %v, want %v", got, want)
	}
	if want := map[string]Action{"chk": Replace, "gone": Remove, "new": Add, "same": Keep}; !reflect.DeepEqual(p.Scripts, want) {
		t.Errorf("scripts %v, want %v", p.Scripts, want)
	}
	if want := []string{"G2", "G3"}; !slices.Equal(p.Groups, want) {
		t.Errorf("groups %v, want %v", p.Groups, want)
	}
	if p.LinksChanged {
		t.Error("the same links in another order count as a change")
	}
	if !p.Changed() {
		t.Error("plan with changes says unchanged")
	}
	if q := PlanReload(old, old); q.Changed() {
		t.Errorf("reload of the running configuration changes something: %+v", q)
	}
	nw.Links = []string{"eth0"}
	if !PlanReload(old, nw).LinksChanged {
		t.Error("a tracked link removed is not a change")
	}
}

// Counters are kept per instance wherever the packet's link and VRID name
// one (every error is then that instance's, as keepalived counts them),
// and per link and VRID only where no instance matches.
func TestCountersAttribution(t *testing.T) {
	d, err := New(&Config{}, Options{Reconciler: nopReconciler{}, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	// A recent (future) reading of no local addresses: isLocal reads nothing.
	l := &link{name: "eth0", clk: clock.Real(), at: time.Now().Add(time.Hour), local: map[netip.Addr]bool{}}
	src, own := netip.MustParseAddr("10.0.0.3"), netip.MustParseAddr("10.0.0.2")
	c := baseInstance()
	c.AuthPass = "s3cret"
	c.FSM.Version = 2
	in := &inst{cfg: c, key: keyOf(c), m: fsm.New(c.FSM), link: l, src: own}
	d.vrids[l] = map[uint8]*inst{51: in}
	adv := func(mod func(*packet.Packet)) []byte {
		p := &packet.Packet{Version: 2, VRID: 51, Priority: 100, Interval: time.Second, Addrs: c.Addrs, AuthType: packet.AuthPass, AuthData: packet.PassData("s3cret")}
		if mod != nil {
			mod(p)
		}
		b, err := packet.Marshal(p, src, packet.Group4)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	rx := func(b []byte, ttl int, from netip.Addr) {
		d.receive(context.Background(), time.Now(), l, Received{Data: b, Src: from, Dst: packet.Group4, TTL: ttl})
	}
	rx(adv(nil), 255, src)
	rx(adv(func(p *packet.Packet) { p.Priority = 0 }), 255, src)
	rx(adv(nil), 64, src)
	rx(adv(func(p *packet.Packet) { p.AuthData = packet.PassData("guess") }), 255, src)
	rx(adv(nil), 255, own)
	rx(func() []byte { b := adv(nil); b[7] ^= 0xff; return b }(), 255, src)
	rx(adv(func(p *packet.Packet) { p.VRID = 99 }), 255, src)
	rx(adv(func(p *packet.Packet) { p.VRID = 99 }), 1, src)
	rx([]byte{0x21}, 255, src)

	per := d.Counters.PerInstance()
	want := map[CounterKey]map[string]uint64{
		in.key:                        {"adverts_received": 2, "priority_zero_received": 1, "drop_ttl": 1, "drop_auth": 1, "drop_own": 1, "drop_checksum": 1},
		{Interface: "eth0", VRID: 99}: {"drop_vrid": 1, "drop_ttl": 1},
		{Interface: "eth0"}:           {"drop_truncated": 1},
	}
	if !reflect.DeepEqual(per, want) {
		t.Errorf("per instance\n got %v\nwant %v", per, want)
	}
	tot := d.Counters.Snapshot()
	if tot["drop_ttl"] != 2 || tot["adverts_received"] != 2 || tot["drop_vrid"] != 1 {
		t.Errorf("totals %v", tot)
	}
	d.Counters.forget(in.key)
	if _, ok := d.Counters.PerInstance()[in.key]; ok || d.Counters.Snapshot()["drop_ttl"] != 2 {
		t.Error("forget must drop the instance's counts and keep the totals")
	}
}

type nopReconciler struct{}

func (nopReconciler) Reconcile(context.Context, map[string]string) error { return nil }
