package rtnl

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// msg builds one netlink message: a header for typ, then body.
func msg(typ uint16, body ...[]byte) []byte {
	var data []byte
	for _, b := range body {
		data = append(data, b...)
	}
	b := make([]byte, headerLen, headerLen+len(data)+3)
	binary.NativeEndian.PutUint32(b, uint32(headerLen+len(data)))
	binary.NativeEndian.PutUint16(b[4:], typ)
	binary.NativeEndian.PutUint32(b[8:], 7)
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// attr is one route attribute, padded.
func attr(typ uint16, v []byte) []byte {
	b := make([]byte, 4, 4+len(v)+3)
	binary.NativeEndian.PutUint16(b, uint16(4+len(v)))
	binary.NativeEndian.PutUint16(b[2:], typ)
	b = append(b, v...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func ifaddrmsg(family, bits, flags, scope uint8, index uint32) []byte {
	b := []byte{family, bits, flags, scope, 0, 0, 0, 0}
	binary.NativeEndian.PutUint32(b[4:], index)
	return b
}

func ifinfomsg(index int32, flags uint32) []byte {
	b := make([]byte, unix.SizeofIfInfomsg)
	binary.NativeEndian.PutUint32(b[4:], uint32(index))
	binary.NativeEndian.PutUint32(b[8:], flags)
	return b
}

func u32(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }

// TestMessages: every message of a datagram, in order, the padding of an
// odd length skipped; a length that does not fit ends the walk with an
// error after the messages before it.
func TestMessages(t *testing.T) {
	two := append(msg(unix.RTM_NEWLINK, []byte{1, 2, 3}), msg(unix.NLMSG_DONE, u32(0))...)
	for _, tc := range []struct {
		name    string
		b       []byte
		types   []uint16
		wantErr bool
	}{
		{"two", two, []uint16{unix.RTM_NEWLINK, unix.NLMSG_DONE}, false},
		{"empty", nil, nil, false},
		{"trailing bytes shorter than a header", append(two, 1, 2, 3), []uint16{unix.RTM_NEWLINK, unix.NLMSG_DONE}, false},
		{"a length past the end", append(msg(unix.RTM_NEWADDR), func() []byte { b := msg(unix.RTM_NEWLINK); b[0] = 200; return b }()...), []uint16{unix.RTM_NEWADDR}, true},
		{"a length shorter than a header", func() []byte { b := msg(unix.RTM_NEWLINK); b[0] = 3; return b }(), nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var types []uint16
			err := Messages(tc.b, func(m Message) { types = append(types, m.Type) })
			if (err != nil) != tc.wantErr {
				t.Errorf("error %v, want one: %v", err, tc.wantErr)
			}
			if !cmp.Equal(types, tc.types) {
				t.Errorf("types %v, want %v", types, tc.types)
			}
		})
	}
	var data []byte
	_ = Messages(msg(unix.RTM_NEWLINK, []byte{1, 2, 3}), func(m Message) { data = m.Data })
	if !cmp.Equal(data, []byte{1, 2, 3}) || len(data) != 3 {
		t.Errorf("data %v, want the body without padding", data)
	}
}

// TestAddr: the link's own address (IFA_LOCAL over IFA_ADDRESS, the peer
// of a point-to-point link), the label, IFA_FLAGS over the header's 8
// bits; messages without a valid address of their family are no address.
func TestAddr(t *testing.T) {
	v4 := netip.MustParseAddr("10.0.0.1").AsSlice()
	peer := netip.MustParseAddr("10.0.0.2").AsSlice()
	v6 := netip.MustParseAddr("2001:db8::1").AsSlice()
	for _, tc := range []struct {
		name string
		b    []byte
		want Addr
		ok   bool
	}{
		{"IPv4 with a label", msg(unix.RTM_NEWADDR, ifaddrmsg(unix.AF_INET, 24, unix.IFA_F_SECONDARY, unix.RT_SCOPE_UNIVERSE, 3),
			attr(unix.IFA_ADDRESS, v4), attr(unix.IFA_LOCAL, v4), attr(unix.IFA_LABEL, []byte("eth0:vip\x00"))),
			Addr{Index: 3, Addr: netip.MustParseAddr("10.0.0.1"), Bits: 24, Label: "eth0:vip", Flags: unix.IFA_F_SECONDARY}, true},
		{"point-to-point: the local address, not the peer", msg(unix.RTM_NEWADDR, ifaddrmsg(unix.AF_INET, 32, 0, 0, 4),
			attr(unix.IFA_ADDRESS, peer), attr(unix.IFA_LOCAL, v4)),
			Addr{Index: 4, Addr: netip.MustParseAddr("10.0.0.1"), Bits: 32}, true},
		{"IPv6 deleted, IFA_FLAGS", msg(unix.RTM_DELADDR, ifaddrmsg(unix.AF_INET6, 64, 0, unix.RT_SCOPE_LINK, 5),
			attr(unix.IFA_ADDRESS, v6), attr(unix.IFA_FLAGS, u32(unix.IFA_F_NODAD|unix.IFA_F_NOPREFIXROUTE))),
			Addr{Index: 5, Addr: netip.MustParseAddr("2001:db8::1"), Bits: 64, Scope: unix.RT_SCOPE_LINK,
				Flags: unix.IFA_F_NODAD | unix.IFA_F_NOPREFIXROUTE, Deleted: true}, true},
		{"an IPv6 address in an IPv4 message", msg(unix.RTM_NEWADDR, ifaddrmsg(unix.AF_INET, 24, 0, 0, 3), attr(unix.IFA_LOCAL, v6)), Addr{}, false},
		{"a prefix longer than the family's", msg(unix.RTM_NEWADDR, ifaddrmsg(unix.AF_INET, 33, 0, 0, 3), attr(unix.IFA_LOCAL, v4)), Addr{}, false},
		{"no address", msg(unix.RTM_NEWADDR, ifaddrmsg(unix.AF_INET, 24, 0, 0, 3)), Addr{}, false},
		{"another family", msg(unix.RTM_NEWADDR, ifaddrmsg(unix.AF_PACKET, 0, 0, 0, 3), attr(unix.IFA_LOCAL, v4)), Addr{}, false},
		{"a link message", msg(unix.RTM_NEWLINK, ifaddrmsg(unix.AF_INET, 24, 0, 0, 3), attr(unix.IFA_LOCAL, v4)), Addr{}, false},
		{"short", msg(unix.RTM_NEWADDR, []byte{unix.AF_INET, 24}), Addr{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got Addr
			var ok bool
			if err := Messages(tc.b, func(m Message) { got, ok = m.Addr() }); err != nil {
				t.Fatal(err)
			}
			if ok != tc.ok || got != tc.want {
				t.Errorf("Addr() = %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

// TestLink: index, name, flags and operational state; a deleted link;
// messages without a name or index are no link.
func TestLink(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
		want Link
		ok   bool
	}{
		{"up", msg(unix.RTM_NEWLINK, ifinfomsg(2, unix.IFF_UP|unix.IFF_RUNNING), attr(unix.IFLA_IFNAME, []byte("eth0\x00")), attr(unix.IFLA_OPERSTATE, []byte{6})),
			Link{Index: 2, Name: "eth0", Flags: unix.IFF_UP | unix.IFF_RUNNING, OperState: 6}, true},
		{"deleted", msg(unix.RTM_DELLINK, ifinfomsg(7, 0), attr(unix.IFLA_IFNAME, []byte("veth1\x00"))),
			Link{Index: 7, Name: "veth1", Deleted: true}, true},
		{"no name", msg(unix.RTM_NEWLINK, ifinfomsg(2, unix.IFF_UP)), Link{}, false},
		{"a bridge port's leaving, not the link's", msg(unix.RTM_DELLINK, append([]byte{unix.AF_BRIDGE}, ifinfomsg(7, unix.IFF_UP)[1:]...), attr(unix.IFLA_IFNAME, []byte("veth1\x00"))), Link{}, false},
		{"no index", msg(unix.RTM_NEWLINK, ifinfomsg(0, 0), attr(unix.IFLA_IFNAME, []byte("x\x00"))), Link{}, false},
		{"short", msg(unix.RTM_NEWLINK, []byte{0, 0, 1}), Link{}, false},
		{"an address message", msg(unix.RTM_NEWADDR, ifinfomsg(2, 0), attr(unix.IFLA_IFNAME, []byte("eth0\x00"))), Link{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got Link
			var ok bool
			if err := Messages(tc.b, func(m Message) { got, ok = m.Link() }); err != nil {
				t.Fatal(err)
			}
			if ok != tc.ok || got != tc.want {
				t.Errorf("Link() = %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

// FuzzMessages: no datagram makes the walk or the decoders panic, what
// they accept is well formed, and an address decoded, encoded as a request
// and decoded again is the same address (the request keeps no label for
// IPv6, as the kernel keeps none).
func FuzzMessages(f *testing.F) {
	v4 := netip.MustParseAddr("10.0.0.1").AsSlice()
	f.Add(msg(unix.RTM_NEWADDR, ifaddrmsg(unix.AF_INET, 24, 0, 0, 3), attr(unix.IFA_LOCAL, v4), attr(unix.IFA_LABEL, []byte("eth0\x00"))))
	f.Add(msg(unix.RTM_NEWLINK, ifinfomsg(2, unix.IFF_UP), attr(unix.IFLA_IFNAME, []byte("eth0\x00")), attr(unix.IFLA_OPERSTATE, []byte{6})))
	f.Add(append(msg(unix.RTM_DELADDR, ifaddrmsg(unix.AF_INET6, 64, 0, 0, 1)), msg(unix.NLMSG_DONE, u32(0))...))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = Messages(b, func(m Message) {
			if len(m.Data) > len(b) {
				t.Fatalf("body of %d bytes from a datagram of %d", len(m.Data), len(b))
			}
			if a, ok := m.Addr(); ok {
				if !a.Addr.IsValid() || a.Bits > a.Addr.BitLen() {
					t.Fatalf("accepted address %+v", a)
				}
				want := a
				want.Deleted, want.Index = false, int(uint32(a.Index))
				if a.Addr.Is6() {
					want.Label = ""
				}
				var got Addr
				_ = Messages(appendAddrRequest(nil, unix.RTM_NEWADDR, 0, a), func(m Message) { got, _ = m.Addr() })
				if got != want {
					t.Fatalf("address %+v encoded and decoded is %+v", want, got)
				}
			}
			if l, ok := m.Link(); ok && (l.Name == "" || l.Index <= 0) {
				t.Fatalf("accepted link %+v", l)
			}
		})
	})
}

// TestDump: a dump's answer is its port's and sequence's messages up to
// NLMSG_DONE, whose errno (if any) is the dump's error; NLMSG_ERROR ends
// it with its error; a message flagged NLM_F_DUMP_INTR makes the whole
// interrupted; others are notifications, passed on only by a socket that
// joined groups.
func TestDump(t *testing.T) {
	const pid, seq = 7, 3
	ours := func(typ uint16, data ...byte) Message { return Message{Type: typ, Pid: pid, Seq: seq, Data: data} }
	errno := func(e unix.Errno) []byte { return binary.NativeEndian.AppendUint32(nil, uint32(-int32(e))) }
	addr := ours(unix.RTM_NEWADDR)
	intr := addr
	intr.Flags = unix.NLM_F_DUMP_INTR
	other := Message{Type: unix.RTM_NEWADDR, Pid: 0, Seq: 0}
	stale := Message{Type: unix.RTM_NEWADDR, Pid: pid, Seq: seq - 1}
	for _, tc := range []struct {
		name     string
		notified bool
		msgs     []Message
		passed   int
		want     error // matched with errors.Is; nil: none
		done     bool
	}{
		{"whole", false, []Message{addr, addr, ours(unix.NLMSG_DONE, errno(0)...)}, 2, nil, true},
		{"DONE without its int", false, []Message{addr, ours(unix.NLMSG_DONE)}, 1, nil, true},
		{"DONE with an errno", false, []Message{addr, ours(unix.NLMSG_DONE, errno(unix.ENOBUFS)...)}, 1, unix.ENOBUFS, true},
		{"NLMSG_ERROR", false, []Message{ours(unix.NLMSG_ERROR, errno(unix.EPERM)...)}, 0, unix.EPERM, true},
		{"an acknowledgement", false, []Message{ours(unix.NLMSG_ERROR, errno(0)...)}, 0, errMalformed, true},
		{"interrupted", false, []Message{addr, intr, ours(unix.NLMSG_DONE)}, 2, ErrDumpInterrupted, true},
		{"a notification and a stale answer dropped", false, []Message{other, stale, addr}, 1, nil, false},
		{"a notification passed on", true, []Message{other, stale, addr, ours(unix.NLMSG_DONE)}, 3, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			passed := 0
			d := answer{pid: pid, seq: seq, notified: tc.notified, fn: func(Message) { passed++ }}
			for _, m := range tc.msgs {
				d.take(m)
			}
			err := d.result()
			if passed != tc.passed || d.done != tc.done || (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Errorf("passed %d, done %v, error %v; want %d, %v, %v", passed, d.done, err, tc.passed, tc.done, tc.want)
			}
		})
	}
}
