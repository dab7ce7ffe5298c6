package announce

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/lbx-dev/lbx/model"
)

var (
	vip  = netip.MustParsePrefix("192.0.2.10/32")
	vip2 = netip.MustParsePrefix("192.0.2.20/32")
	t0   = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
)

// healthy are facts under which spec web (2 needed of svc web, VI_1
// MASTER) holds; each step of a test changes them.
func healthy(now time.Duration) Facts {
	return Facts{
		Now:         t0.Add(now),
		OnInterface: map[netip.Prefix]bool{vip: true, vip2: true},
		InIPVS:      map[string]bool{"web": true},
		Healthy:     map[string]int{"web": 3},
		VRRP:        map[string]string{"VI_1": "MASTER"},
	}
}

func web() Spec {
	return Spec{Prefix: vip, Interface: "lo", Services: []string{"web"}, MinHealthy: 2, VRRPInstance: "VI_1",
		WithdrawAfter: 2 * time.Second, AnnounceAfter: 5 * time.Second}
}

type step struct {
	at     time.Duration
	change func(*Facts)
	// announced is whether vip is announced after the step; change the
	// expected change ("" none, "+" announce, else the withdraw reason).
	announced bool
	change_   string
	next      time.Duration // expected Result.Next - t0 (-1: none)
	reason    string        // substring of the status reason
}

func TestCore(t *testing.T) {
	unhealthy := func(f *Facts) { f.Healthy["web"] = 1 }
	cases := []struct {
		name  string
		spec  Spec
		steps []step
	}{
		{"announced at once at start", web(), []step{
			{0, nil, true, "+", -1, "3 healthy real server(s), 2 needed"},
		}},
		{"not on interface: never announced", web(), []step{
			{0, func(f *Facts) { delete(f.OnInterface, vip) }, false, "", -1, "192.0.2.10 is not on lo"},
		}},
		{"service not in IPVS", web(), []step{
			{0, func(f *Facts) { f.InIPVS["web"] = false }, false, "", -1, `virtual server "web" is not in IPVS`},
		}},
		{"unhealthy withdraws after the hold-down", web(), []step{
			{0, nil, true, "+", -1, ""},
			{1 * time.Second, unhealthy, true, "", 3 * time.Second, "1 healthy real server(s), 2 needed; withdraw at"},
			{2 * time.Second, unhealthy, true, "", 3 * time.Second, ""},
			{3 * time.Second, unhealthy, false, ReasonUnhealthy, -1, "1 healthy"},
		}},
		{"recovery inside the hold-down cancels the withdraw", web(), []step{
			{0, nil, true, "+", -1, ""},
			{1 * time.Second, unhealthy, true, "", 3 * time.Second, ""},
			{2 * time.Second, nil, true, "", -1, ""},
			{10 * time.Second, nil, true, "", -1, ""},
		}},
		{"re-announce waits its hold-down", web(), []step{
			{0, nil, true, "+", -1, ""},
			{0, unhealthy, true, "", 2 * time.Second, ""},
			{2 * time.Second, unhealthy, false, ReasonUnhealthy, -1, ""},
			{3 * time.Second, nil, false, "", 8 * time.Second, "announce at"},
			{7 * time.Second, nil, false, "", 8 * time.Second, ""},
			{8 * time.Second, nil, true, "+", -1, ""},
		}},
		{"VIP leaving lo withdraws at once", web(), []step{
			{0, nil, true, "+", -1, ""},
			{1 * time.Second, func(f *Facts) { f.OnInterface[vip] = false }, false, ReasonNotReady, -1, "not on lo"},
		}},
		{"VRRP BACKUP withdraws after the hold-down", web(), []step{
			{0, nil, true, "+", -1, ""},
			{0, func(f *Facts) { f.VRRP["VI_1"] = "BACKUP" }, true, "", 2 * time.Second, "VI_1 is BACKUP"},
			{2 * time.Second, func(f *Facts) { f.VRRP["VI_1"] = "BACKUP" }, false, ReasonVRRP, -1, ""},
		}},
		{"VRRP instance not running", web(), []step{
			{0, func(f *Facts) { delete(f.VRRP, "VI_1") }, false, "", -1, "VI_1 is not running"},
		}},
		{"stopping withdraws at once", web(), []step{
			{0, nil, true, "+", -1, ""},
			{time.Second, func(f *Facts) { f.Stopping = true }, false, ReasonStopping, -1, "stopping"},
		}},
		{"address-only announcement", Spec{Prefix: vip, Interface: "lo"}, []step{
			{0, func(f *Facts) { f.Healthy = nil; f.VRRP = nil }, true, "+", -1, "192.0.2.10 is on lo"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := New([]Spec{tc.spec})
			for i, s := range tc.steps {
				f := healthy(s.at)
				if s.change != nil {
					s.change(&f)
				}
				r := c.Step(f)
				if got := len(r.Announced) == 1; got != s.announced {
					t.Fatalf("step %d: announced %v, want %v (%+v)", i, got, s.announced, r.Status)
				}
				gotChange := ""
				if len(r.Changes) == 1 {
					gotChange = r.Changes[0].Why
					if r.Changes[0].Announce {
						gotChange = "+"
					}
				} else if len(r.Changes) > 1 {
					t.Fatalf("step %d: %d changes", i, len(r.Changes))
				}
				if gotChange != s.change_ {
					t.Errorf("step %d: change %q, want %q", i, gotChange, s.change_)
				}
				wantNext := time.Time{}
				if s.next >= 0 {
					wantNext = t0.Add(s.next)
				}
				if !r.Next.Equal(wantNext) {
					t.Errorf("step %d: next %v, want %v", i, r.Next, wantNext)
				}
				if !strings.Contains(r.Status[0].Reason, s.reason) {
					t.Errorf("step %d: reason %q, want %q in it", i, r.Status[0].Reason, s.reason)
				}
			}
		})
	}
}

// TestSetSpecs: a reload that adds a prefix announces it alone; one that
// drops an announced prefix withdraws it (reason removed); a kept prefix
// keeps its state and its running hold-down.
func TestSetSpecs(t *testing.T) {
	c := New([]Spec{web()})
	if r := c.Step(healthy(0)); len(r.Changes) != 1 {
		t.Fatalf("start: %+v", r.Changes)
	}
	f := healthy(time.Second)
	f.Healthy["web"] = 1
	c.Step(f) // the withdraw hold-down starts
	c.SetSpecs([]Spec{web(), {Prefix: vip2, Interface: "lo"}})
	r := c.Step(f)
	if len(r.Changes) != 1 || r.Changes[0].Prefix != vip2 || !r.Changes[0].Announce {
		t.Fatalf("reload adding vip2: changes %+v, want one announce of vip2", r.Changes)
	}
	if len(r.Announced) != 2 || !r.Next.Equal(t0.Add(3*time.Second)) {
		t.Fatalf("reload adding vip2: announced %d, next %v; want 2 and the hold-down kept", len(r.Announced), r.Next)
	}
	c.SetSpecs([]Spec{{Prefix: vip2, Interface: "lo"}})
	r = c.Step(healthy(2 * time.Second))
	if len(r.Changes) != 1 || r.Changes[0].Prefix != vip || r.Changes[0].Why != ReasonRemoved {
		t.Fatalf("reload dropping vip: changes %+v, want its withdraw (removed)", r.Changes)
	}
	if len(r.Announced) != 1 || r.Announced[0].Prefix != vip2 {
		t.Fatalf("announced %+v, want vip2 only", r.Announced)
	}
	// A prefix dropped while withdrawn needs no withdraw.
	c = New([]Spec{web()})
	c.SetSpecs(nil)
	if r := c.Step(healthy(0)); len(r.Changes) != 0 {
		t.Fatalf("dropping a never-announced prefix: %+v", r.Changes)
	}
}

func TestSpecsOf(t *testing.T) {
	m, err := model.Parse([]byte(`version: 1
addresses: [{address: 192.0.2.10/32, interface: lo}]
virtual_servers: [{name: web, address: 192.0.2.10, port: 80, scheduler: mh, scheduler_flags: [mh-port], real_servers: [{address: 10.0.0.1}]}]
bgp:
  local_as: 65001
  router_id: 10.0.0.11
  peers: [{address: 10.0.0.254, as: 65000}]
  announcements:
    - {prefix: 192.0.2.10/32, when: {virtual_servers: [web]}, withdraw_after: 2s, announce_after: 5, communities: ["65000:7", no-export], med: 9}
    - {prefix: 192.0.2.0/24, interface: eth1}
`), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	med := uint32(9)
	want := []Spec{
		{Prefix: vip, Interface: "lo", Services: []string{"web"}, MinHealthy: 1, WithdrawAfter: 2 * time.Second, AnnounceAfter: 5 * time.Second,
			Communities: []uint32{65000<<16 | 7, 0xFFFFFF01}, MED: &med},
		{Prefix: netip.MustParsePrefix("192.0.2.0/24"), Interface: "eth1"},
	}
	if diff := cmp.Diff(want, SpecsOf(m), cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("SpecsOf (-want +got):\n%s", diff)
	}
}
