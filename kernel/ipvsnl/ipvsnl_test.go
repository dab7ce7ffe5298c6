package ipvsnl

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"syscall"
	"testing"

	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// mobyService builds a request the way moby/ipvs does (fillService), with
// vishvananda/netlink's nl package, so that the hand-written encoder is
// checked byte for byte against the library that is known to work.
func mobyService(family uint16, seq uint32, cmd uint8, s Service) []byte {
	req := nl.NewNetlinkRequest(int(family), syscall.NLM_F_ACK)
	req.Seq = seq
	req.AddData(&genl{cmd: cmd})
	attr := nl.NewRtAttr(cmdAttrService, nil)
	nl.NewRtAttrChild(attr, svcAttrAF, nl.Uint16Attr(s.Family))
	if s.FWMark != 0 {
		nl.NewRtAttrChild(attr, svcAttrFWMark, nl.Uint32Attr(s.FWMark))
	} else {
		nl.NewRtAttrChild(attr, svcAttrProtocol, nl.Uint16Attr(s.Protocol))
		ip := net.IP(s.Addr.AsSlice())
		nl.NewRtAttrChild(attr, svcAttrAddr, ip)
		var p [2]byte
		binary.BigEndian.PutUint16(p[:], s.Port)
		nl.NewRtAttrChild(attr, svcAttrPort, p[:])
	}
	nl.NewRtAttrChild(attr, svcAttrSchedName, nl.ZeroTerminated(s.Sched))
	var fl [8]byte
	binary.NativeEndian.PutUint32(fl[0:], s.Flags)
	binary.NativeEndian.PutUint32(fl[4:], 0xffffffff)
	nl.NewRtAttrChild(attr, svcAttrFlags, fl[:])
	nl.NewRtAttrChild(attr, svcAttrTimeout, nl.Uint32Attr(s.Timeout))
	nl.NewRtAttrChild(attr, svcAttrNetmask, nl.Uint32Attr(s.Netmask))
	req.AddData(attr)
	return req.Serialize()
}

type genl struct{ cmd uint8 }

func (g *genl) Len() int { return 4 }
func (g *genl) Serialize() []byte {
	return []byte{g.cmd, genlVersion, 0, 0}
}

func TestServiceEncodingMatchesMoby(t *testing.T) {
	cases := []Service{
		{Family: unix.AF_INET, Protocol: 6, Addr: netip.MustParseAddr("10.0.0.1"), Port: 80, Sched: "wlc", Flags: 1, Timeout: 300, Netmask: 0x00ffffff},
		{Family: unix.AF_INET6, Protocol: 17, Addr: netip.MustParseAddr("2001:db8::53"), Port: 53, Sched: "rr", Netmask: 128},
		{Family: unix.AF_INET, FWMark: 7, Sched: "sh", Flags: 0x10},
	}
	for _, s := range cases {
		got := appendRequest(nil, 0x1c, 42, Op{Cmd: CmdNewService, Service: s})
		want := mobyService(0x1c, 42, CmdNewService, s)
		// nl sets NLM_F_REQUEST itself; pid 0 in both.
		if !bytes.Equal(got, want) {
			t.Errorf("service %+v:\n got  %x\n want %x", s, got, want)
		}
	}
}

func TestBatchLayout(t *testing.T) {
	svc := Service{Family: unix.AF_INET, Protocol: 6, Addr: netip.MustParseAddr("10.0.0.1"), Port: 80}
	var b []byte
	b = appendRequest(b, 0x1c, 1, Op{Cmd: CmdNewDest, Service: svc, Dest: &Dest{Addr: netip.MustParseAddr("10.1.0.1"), Port: 8080, FwdMethod: 3, Weight: 5}})
	b = appendRequest(b, 0x1c, 2, Op{Cmd: CmdDelDest, Service: svc, Dest: &Dest{Addr: netip.MustParseAddr("10.1.0.2"), Port: 8080}})
	b = appendRequest(b, 0x1c, 3, Op{Cmd: CmdNewDest, Service: svc, Dest: &Dest{Addr: netip.MustParseAddr("10.1.0.3"), FwdMethod: fwdTunnel, TunType: TunGUE, TunPort: 6080}})
	b = appendRequest(b, 0x1c, 4, Op{Cmd: CmdSetDest, Service: svc, Dest: &Dest{Addr: netip.MustParseAddr("10.1.0.3"), FwdMethod: fwdTunnel}})
	msgs, err := syscall.ParseNetlinkMessage(b)
	if err != nil || len(msgs) != 4 {
		t.Fatalf("parse: %v, %d messages", err, len(msgs))
	}
	for i, m := range msgs {
		if m.Header.Seq != uint32(i+1) || m.Header.Flags != unix.NLM_F_REQUEST|unix.NLM_F_ACK {
			t.Errorf("message %d header %+v", i, m.Header)
		}
		attrs, err := nl.ParseRouteAttr(m.Data[4:])
		if err != nil || len(attrs) != 2 {
			t.Fatalf("message %d: %v, %d top attributes", i, err, len(attrs))
		}
		dest, _ := nl.ParseRouteAttr(attrs[1].Value)
		got := map[uint16][]byte{}
		for _, a := range dest {
			got[a.Attr.Type] = a.Value
		}
		switch i {
		case 0:
			if binary.BigEndian.Uint16(got[destAttrPort]) != 8080 || binary.NativeEndian.Uint32(got[destAttrWeight]) != 5 ||
				binary.NativeEndian.Uint32(got[destAttrFwdMethod]) != 3 || binary.NativeEndian.Uint16(got[destAttrAddrFamily]) != unix.AF_INET {
				t.Errorf("new dest attributes %v", got)
			}
		case 1:
			if len(got) != 2 {
				t.Errorf("delete carries %d attributes, want address and port only", len(got))
			}
		case 2:
			if got[destAttrTunType][0] != TunGUE || binary.BigEndian.Uint16(got[destAttrTunPort]) != 6080 {
				t.Errorf("tunnel attributes %v", got)
			}
		case 3: // back to ipip: the type is sent as 0, not left out
			if v, ok := got[destAttrTunType]; !ok || v[0] != TunIPIP {
				t.Errorf("ipip update must carry TUN_TYPE 0: %v", got)
			}
		}
	}
}
