package plan

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/internal/testkit"
	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/state"
)

func liveRoute(dst, via string, proto int) state.Route {
	return state.Route{Key: state.RouteKey{Table: state.TableMain, Dst: netip.MustParsePrefix(dst)}, Type: state.RouteUnicast,
		Via: netip.MustParseAddr(via), Interface: "eth0", Scope: "global", Protocol: proto}
}

// TestRouteDiff covers the scope and kinds of route changes: a gateway
// route read back with the device the kernel resolved is no change; a new
// gateway is an update in place; another owner's route is left alone
// unless declared (then adopted); lbx's own route that left the model is
// deleted; virtual routes are left to lbx watch in a one-shot plan, even
// when lbx made them.
func TestRouteDiff(t *testing.T) {
	y := `version: 1
addresses:
  - {address: 192.0.2.10/24, interface: eth0}
routes:
  - {to: 10.1.0.0/16, via: 192.0.2.1}
  - {to: 10.2.0.0/16, via: 192.0.2.2}
  - {to: 10.3.0.0/16, via: 192.0.2.1}
  - {to: 10.4.0.0/16, via: 192.0.2.1, src: 192.0.2.10}
vrrp_instances:
  - name: VI_1
    interface: eth0
    virtual_router_id: 7
    virtual_routes: [{to: 10.9.0.0/16, via: 192.0.2.1}]
`
	live := state.New()
	for _, r := range []state.Route{
		liveRoute("10.1.0.0/16", "192.0.2.1", state.RouteProtoLBX), // as wanted, device resolved
		liveRoute("10.2.0.0/16", "192.0.2.1", state.RouteProtoLBX), // another gateway
		liveRoute("10.3.0.0/16", "192.0.2.1", 18),                  // keepalived's: adopted
		liveRoute("10.5.0.0/16", "192.0.2.1", state.RouteProtoLBX), // left the model
		liveRoute("10.6.0.0/16", "192.0.2.1", 16),                  // DHCP's: not ours
		liveRoute("10.9.0.0/16", "192.0.2.1", state.RouteProtoLBX), // lbx watch's
	} {
		live.Routes[r.Key] = r
	}
	p := Diff(testkit.Desired(t, y), live, Options{})
	want := []string{"- route.10.5.0.0/16", "+ address.eth0/192.0.2.10", "~ route.10.2.0.0/16", "~ route.10.3.0.0/16", "+ route.10.4.0.0/16"}
	if got := actions(p); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("plan\n got %v\nwant %v", got, want)
	}
	for _, c := range p.Changes {
		switch c.Address {
		case "route.10.2.0.0/16":
			if strings.Join(c.Fields, ",") != "via" || c.Reason != "" {
				t.Errorf("new gateway: fields %v, reason %q", c.Fields, c.Reason)
			}
		case "route.10.3.0.0/16":
			if strings.Join(c.Fields, ",") != "protocol" || !strings.Contains(c.Reason, "adopted") {
				t.Errorf("adoption: fields %v, reason %q", c.Fields, c.Reason)
			}
		}
	}
	if len(p.Notes) != 1 || !strings.Contains(p.Notes[0], "1 VRRP virtual route(s) of VI_1") {
		t.Errorf("notes = %v", p.Notes)
	}
	var text bytes.Buffer
	if err := WriteText(&text, p, false); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"~ route.10.2.0.0/16  via: 192.0.2.1 -> 192.0.2.2\n", "+ route.10.4.0.0/16  10.4.0.0/16 via 192.0.2.1 src 192.0.2.10\n"} {
		if !strings.Contains(text.String(), line) {
			t.Errorf("plan text lacks %q:\n%s", line, text.String())
		}
	}

	// In lbx watch, the instance's state decides: BACKUP deletes it.
	d := model.Compile(testkit.Model(t, y), model.Facts{VRRP: map[string]string{"VI_1": "BACKUP"}})
	if got := actions(Diff(d, live, Options{})); !contains(got, "- route.10.9.0.0/16") {
		t.Errorf("BACKUP keeps its virtual route: %v", got)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestRouteFingerprint: a saved plan notices a changed route in scope,
// and not a change to a route of another owner.
func TestRouteFingerprint(t *testing.T) {
	d := testkit.Desired(t, "version: 1\nroutes:\n  - {to: 10.1.0.0/16, via: 192.0.2.1}\n")
	live := state.New()
	r := liveRoute("10.1.0.0/16", "192.0.2.1", state.RouteProtoLBX)
	live.Routes[r.Key] = r
	p := Diff(d, live, Options{})
	other := liveRoute("10.6.0.0/16", "192.0.2.1", 16)
	live.Routes[other.Key] = other
	if Fingerprint(live, p.Scope) != p.Fingerprint {
		t.Error("another owner's route changed the fingerprint")
	}
	r.Via = netip.MustParseAddr("192.0.2.3")
	live.Routes[r.Key] = r
	if Fingerprint(live, p.Scope) == p.Fingerprint {
		t.Error("a changed gateway left the fingerprint as it was")
	}
}

// TestDuplicateRouteKeys: a declared key under which the kernel holds
// several routes is a note and no change (a replace could take another
// owner's route), whatever lbx would change; lbx's own route under an
// undeclared key is deleted even beside another owner's.
func TestDuplicateRouteKeys(t *testing.T) {
	y := `version: 1
routes:
  - {to: 10.1.0.0/16, via: 192.0.2.9}
  - {to: 10.2.0.0/16, via: 192.0.2.1}
`
	live := state.New()
	for _, r := range []state.Route{
		liveRoute("10.1.0.0/16", "192.0.2.1", state.RouteProtoLBX),
		liveRoute("10.1.0.0/16", "192.0.2.2", 4),
		liveRoute("10.2.0.0/16", "192.0.2.1", 3), // two other owners': no adoption
		liveRoute("10.2.0.0/16", "192.0.2.1", 16),
		liveRoute("10.3.0.0/16", "192.0.2.1", 4),
		liveRoute("10.3.0.0/16", "192.0.2.1", state.RouteProtoLBX),
	} {
		live.AddLiveRoute(r)
	}
	p := Diff(testkit.Desired(t, y), live, Options{})
	if got, want := strings.Join(actions(p), "|"), "- route.10.3.0.0/16"; got != want {
		t.Errorf("plan %q, want %q", got, want)
	}
	if len(p.Changes) == 1 && p.Changes[0].BeforeRoute.Protocol != state.RouteProtoLBX {
		t.Errorf("the delete is of protocol %d's route, not lbx's", p.Changes[0].BeforeRoute.Protocol)
	}
	want := []string{
		"route.10.1.0.0/16: left as it is: the kernel holds 2 routes under this table, destination and metric (10.1.0.0/16 via 192.0.2.1 dev eth0; 10.1.0.0/16 via 192.0.2.2 dev eth0 proto 4)",
		"route.10.2.0.0/16: left as it is: the kernel holds 2 routes under this table, destination and metric (10.2.0.0/16 via 192.0.2.1 dev eth0 proto 3; 10.2.0.0/16 via 192.0.2.1 dev eth0 proto 16)",
	}
	if len(p.Notes) != len(want) {
		t.Fatalf("notes %q, want %d", p.Notes, len(want))
	}
	for i := range want {
		if !strings.HasPrefix(p.Notes[i], want[i]) {
			t.Errorf("note %d:\n got %s\nwant %s...", i, p.Notes[i], want[i])
		}
	}
}
