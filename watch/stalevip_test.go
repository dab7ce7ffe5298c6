package watch

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"testing"

	"github.com/lbx-dev/lbx/apply"
	"github.com/lbx-dev/lbx/kernel/kerneltest"
	"github.com/lbx-dev/lbx/state"
)

// TestReleaseStaleVIPs: at start, before the first reconcile, the model's
// VRRP addresses found on the interfaces (left by a master killed with
// -9) are deleted, and nothing else: not the static addresses, not a
// hand-added one. The first reconcile, which makes the whole model,
// takes seconds for a large one while a peer is master already.
func TestReleaseStaleVIPs(t *testing.T) {
	dir := t.TempDir()
	m, _ := loadModel(t, dir, `version: 1
addresses: [{address: 10.0.0.2/24, interface: eth0}]
vrrp_instances:
  - {name: VI_1, interface: eth0, virtual_router_id: 1, virtual_addresses: [{address: 10.0.0.1/24}, {address: 10.0.0.3/24}]}
`)
	k := kerneltest.NewFakeKernel("eth0")
	key := func(a string) state.AddressKey {
		return state.AddressKey{Interface: "eth0", Addr: netip.MustParseAddr(a)}
	}
	k.Mutate(func(st *state.State) {
		for _, a := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.9"} { // a stale VIP, the static one, a hand-added one
			st.Addresses[key(a)] = state.Address{Key: key(a), Bits: 24}
		}
	})
	owner, _ := apply.OpenOwnerRecord(dir, "")
	e := newEngine(m, "m.yaml", k, owner, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	e.releaseStaleVIPs(context.Background(), nil)
	got := k.State().Addresses
	for a, want := range map[string]bool{"10.0.0.1": false, "10.0.0.2": true, "10.0.0.3": false, "10.0.0.9": true} {
		if _, ok := got[key(a)]; ok != want {
			t.Errorf("%s on eth0: %v, want %v", a, ok, want)
		}
	}
}
