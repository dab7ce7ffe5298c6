package state

import (
	"net/netip"
	"testing"
)

// TestAddLiveRoute: under one key, lbx's own route is the one kept in
// Routes whatever the kernel's order, the others are duplicates, and a
// clone keeps them.
func TestAddLiveRoute(t *testing.T) {
	key := RouteKey{Table: TableMain, Dst: netip.MustParsePrefix("10.1.0.0/16")}
	route := func(via string, proto int) Route {
		return Route{Key: key, Type: RouteUnicast, Via: netip.MustParseAddr(via), Protocol: proto}
	}
	lbx, static, boot := route("192.0.2.1", RouteProtoLBX), route("192.0.2.2", 4), route("192.0.2.3", 3)
	for _, c := range []struct {
		name      string
		read      []Route
		kept      Route
		duplicate []Route
	}{
		{"one route", []Route{static}, static, nil},
		{"lbx's first", []Route{lbx, static}, lbx, []Route{static}},
		{"lbx's after another owner's", []Route{static, lbx}, lbx, []Route{static}},
		{"lbx's last of three", []Route{static, boot, lbx}, lbx, []Route{static, boot}},
		{"no route of lbx's: the first", []Route{boot, static}, boot, []Route{static}},
	} {
		t.Run(c.name, func(t *testing.T) {
			read := New()
			for _, r := range c.read {
				read.AddLiveRoute(r)
			}
			for _, s := range []*State{read, read.Clone()} {
				if got := s.Routes[key]; got.Via != c.kept.Via {
					t.Errorf("kept %s, want %s", got.Describe(), c.kept.Describe())
				}
				dups := s.RouteDuplicates[key]
				if len(dups) != len(c.duplicate) {
					t.Fatalf("duplicates %v, want %v", dups, c.duplicate)
				}
				for i := range dups {
					if dups[i].Via != c.duplicate[i].Via {
						t.Errorf("duplicate %d: %s, want %s", i, dups[i].Describe(), c.duplicate[i].Describe())
					}
				}
			}
		})
	}
}
