package vrrpd

import (
	"bytes"
	"net"
	"testing"
)

// interfaceByName reads by ioctl what net.InterfaceByName reads from a
// netlink dump: the same index and MAC for every link here (loopback's
// all-zero address is none for both), and an error naming a missing link.
func TestInterfaceByName(t *testing.T) {
	links, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range links {
		got, err := interfaceByName(want.Name)
		if err != nil {
			t.Errorf("%s: %v", want.Name, err)
			continue
		}
		if bytes.Equal(want.HardwareAddr, make([]byte, len(want.HardwareAddr))) {
			want.HardwareAddr = nil
		}
		if got.Index != want.Index || !bytes.Equal(got.HardwareAddr, want.HardwareAddr) {
			t.Errorf("%s: index %d, MAC %q; net says %d, %q", want.Name, got.Index, got.HardwareAddr, want.Index, want.HardwareAddr)
		}
	}
	if _, err := interfaceByName("lbx-no-such0"); err == nil {
		t.Error("a missing link: no error")
	}
}
