package vrrpd

import (
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/vrrpd/fsm"
)

// The keys the daemon tracks by are typed (kind and name, as the status
// shows them) and named in logs and reasons as before they were typed.
func TestTrackKeys(t *testing.T) {
	tests := []struct {
		key              fsm.TrackKey
		kind, name, text string
	}{
		{interfaceKey("eth1"), TrackInterface, "eth1", "interface eth1"},
		{scriptKey("chk_nginx"), TrackScript, "chk_nginx", "script chk_nginx"},
		{sourceKey("eth0", false), TrackSource, "eth0", "source eth0 IPv4"},
		{sourceKey("eth0", true), TrackSource, "eth0", "source eth0 IPv6"},
	}
	for _, tc := range tests {
		if tc.key.Kind != tc.kind || tc.key.Name != tc.name || tc.key.String() != tc.text {
			t.Errorf("key %+v (%q); want kind %q, name %q, text %q", tc.key, tc.key, tc.kind, tc.name, tc.text)
		}
	}
	if sourceKey("eth0", false) == sourceKey("eth0", true) {
		t.Error("an interface's IPv4 and IPv6 sources share a key")
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

// Address events queued behind the first are taken in the same turn, each
// link once; a stopped watcher's are ignored.
func TestPendingAddrLinks(t *testing.T) {
	d := &Daemon{addrs: make(chan addrEvent, 8), gens: map[watcher]uint64{linkWatcher: 2}}
	for _, ev := range []addrEvent{{link: "eth1", gen: 2}, {link: "eth0", gen: 1}, {link: "eth0", gen: 2}, {link: "eth1", gen: 2}} {
		d.addrs <- ev
	}
	got := d.pendingAddrLinks(addrEvent{link: "eth0", gen: 2})
	if want := []string{"eth0", "eth1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("links %v, want %v", got, want)
	}
	if len(d.addrs) != 0 {
		t.Errorf("%d events left queued", len(d.addrs))
	}
}
