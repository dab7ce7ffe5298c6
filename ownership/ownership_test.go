package ownership

import (
	"maps"
	"net/netip"
	"testing"

	"github.com/lbx-dev/lbx/state"
)

func TestOwnedAddressesInto(t *testing.T) {
	r, err := Open(t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	key := func(s string) state.AddressKey {
		return state.AddressKey{Interface: "eth0", Addr: netip.MustParseAddr(s)}
	}
	claims := Empty()
	claims.Addresses[key("192.0.2.1")] = true
	claims.Addresses[key("192.0.2.2")] = true
	if err := r.Claim(claims); err != nil {
		t.Fatal(err)
	}
	// A map reused from the last call: what it held and the record no
	// longer does goes.
	reused := map[state.AddressKey]bool{key("192.0.2.9"): true}
	got := r.OwnedAddressesInto(reused)
	if !maps.Equal(got, claims.Addresses) {
		t.Errorf("OwnedAddressesInto = %v, want %v", got, claims.Addresses)
	}
	if !maps.Equal(r.OwnedAddresses(), claims.Addresses) {
		t.Errorf("OwnedAddresses = %v, want %v", r.OwnedAddresses(), claims.Addresses)
	}
	if n := testing.AllocsPerRun(10, func() { got = r.OwnedAddressesInto(got) }); n != 0 {
		t.Errorf("OwnedAddressesInto a map of room allocates %v times", n)
	}
}
