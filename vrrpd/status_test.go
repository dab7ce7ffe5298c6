package vrrpd

import (
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/vrrpd/fsm"
)

// The keys the daemon tracks by come back as kind and name.
func TestTrackOf(t *testing.T) {
	tests := []struct{ key, kind, name string }{
		{interfaceKey("eth1"), TrackInterface, "eth1"},
		{scriptKey("chk_nginx"), TrackScript, "chk_nginx"},
		{sourceKey("eth0", false), TrackSource, "eth0"},
		{sourceKey("eth0", true), TrackSource, "eth0"},
	}
	for _, tc := range tests {
		if kind, name := trackOf(tc.key); kind != tc.kind || name != tc.name {
			t.Errorf("trackOf(%q) = %q, %q; want %q, %q", tc.key, kind, name, tc.kind, tc.name)
		}
	}
}

// An instance's status carries its tracking as typed values and its
// addresses, excluded ones included, held only as a settled MASTER.
func TestInstanceStatusTracking(t *testing.T) {
	c := &Instance{FSM: fsm.Config{Name: "VI_1", VRID: 1, Version: 3, Priority: 100, InitialMaster: true,
		Tracks: []fsm.Track{{Key: interfaceKey("eth0")}, {Key: scriptKey("chk"), Weight: -30}}},
		Interface: "eth0", Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.1")}, Excluded: []netip.Addr{netip.MustParseAddr("10.0.0.2")}}
	m := fsm.New(c.FSM)
	now := time.Now()
	m.Start(now)
	m.SetTrack(now, scriptKey("chk"), false)
	wantTracks := []TrackStatus{
		{Kind: TrackInterface, Name: "eth0", Up: true},
		{Kind: TrackScript, Name: "chk", Weight: -30, Applied: -30},
	}
	if got := tracksOf(m); !reflect.DeepEqual(got, wantTracks) {
		t.Errorf("tracks\n got %+v\nwant %+v", got, wantTracks)
	}
	for _, held := range []bool{true, false} {
		want := []AddressStatus{{Addr: c.Addrs[0], Held: held}, {Addr: c.Excluded[0], Excluded: true, Held: held}}
		if got := addressesOf(c, held); !reflect.DeepEqual(got, want) {
			t.Errorf("addresses (held %v)\n got %+v\nwant %+v", held, got, want)
		}
	}
}
