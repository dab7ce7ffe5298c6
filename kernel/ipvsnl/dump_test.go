package ipvsnl

import (
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

// encodeService builds the nested service attributes as the kernel sends
// them in a dump (addresses always 16 bytes, union nf_inet_addr).
func encodeService(s Service) []byte {
	var b []byte
	b = attrU16(b, svcAttrAF, s.Family)
	if s.FWMark != 0 {
		b = attrU32(b, svcAttrFWMark, s.FWMark)
	} else {
		b = attrU16(b, svcAttrProtocol, s.Protocol)
		a := s.Addr.As16()
		if s.Addr.Is4() {
			a = [16]byte{}
			v4 := s.Addr.As4()
			copy(a[:], v4[:])
		}
		b = attr(b, svcAttrAddr, a[:])
		b = attrBE16(b, svcAttrPort, s.Port)
	}
	b = attr(b, svcAttrSchedName, append([]byte(s.Sched), 0))
	b = attr(b, svcAttrFlags, []byte{byte(s.Flags), 0, 0, 0, 0xff, 0xff, 0xff, 0xff})
	b = attrU32(b, svcAttrTimeout, s.Timeout)
	b = attrU32(b, svcAttrNetmask, s.Netmask)
	return b
}

func TestParseDump(t *testing.T) {
	cases := []Service{
		{Family: unix.AF_INET, Protocol: 6, Addr: netip.MustParseAddr("10.0.0.1"), Port: 80, Sched: "wlc", Flags: 3, Timeout: 300, Netmask: 0x00ffffff},
		{Family: unix.AF_INET6, Protocol: 132, Addr: netip.MustParseAddr("2001:db8::1"), Port: 3868, Sched: "sh", Flags: 0x12, Netmask: 64},
		{Family: unix.AF_INET, FWMark: 9, Sched: "mh"},
	}
	for _, want := range cases {
		got, ok := parseService(encodeService(want))
		if !ok || got != want {
			t.Errorf("service round trip:\n got  %+v\n want %+v", got, want)
		}
	}
	var b []byte
	a := [16]byte{10, 1, 0, 5}
	b = attr(b, destAttrAddr, a[:])
	b = attrBE16(b, destAttrPort, 8080)
	b = attrU32(b, destAttrFwdMethod, 3)
	b = attrU32(b, destAttrWeight, 7)
	b = attrU32(b, destAttrUThresh, 100)
	b = attrU32(b, destAttrActiveConns, 4)
	d, ok := parseDest(b, unix.AF_INET)
	if !ok || d.Addr != netip.MustParseAddr("10.1.0.5") || d.Port != 8080 || d.FwdMethod != 3 || d.Weight != 7 || d.UThresh != 100 || d.ActiveConns != 4 {
		t.Errorf("dest %+v", d)
	}
	// A truncated address is refused, not misread.
	if _, ok := parseDest(attr(nil, destAttrAddr, []byte{10, 1}), unix.AF_INET); ok {
		t.Error("truncated dest address accepted")
	}
}

// FuzzParse: kernel replies are parsed without panics whatever the bytes.
func FuzzParse(f *testing.F) {
	f.Add(encodeService(Service{Family: unix.AF_INET, Protocol: 6, Addr: netip.MustParseAddr("10.0.0.1"), Port: 80, Sched: "rr"}))
	f.Add([]byte{4, 0, 1, 0, 255, 255})
	f.Add(appendDaemon(nil, CmdNewDaemon, &Daemon{State: DaemonMaster, Interface: "eth1", SyncID: 7, Group: netip.MustParseAddr("ff05::81"), TTL: 2})[4:])
	f.Fuzz(func(t *testing.T, b []byte) {
		parseService(b)
		parseDest(b, unix.AF_INET)
		parseDest(b, unix.AF_INET6)
		firstAttrValue(b)
		parseDaemon(b)
	})
}
