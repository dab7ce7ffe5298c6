package rtnl

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"
)

// Message is one netlink message of a datagram. Data (the message's body)
// is valid only until the next read of its connection.
type Message struct {
	Type, Flags uint16
	Seq, Pid    uint32
	Data        []byte
}

// errMalformed is a datagram whose lengths do not add up: the kernel never
// sends one, so its reader treats the subscription as broken.
var errMalformed = errors.New("malformed netlink message")

const headerLen = unix.SizeofNlMsghdr

// Messages calls fn for each message of b, a datagram as read. A length
// that does not fit ends the walk with an error, after the messages that
// came before it.
func Messages(b []byte, fn func(Message)) error {
	for len(b) >= headerLen {
		n := int(binary.NativeEndian.Uint32(b))
		if n < headerLen || n > len(b) {
			return fmt.Errorf("%w: length %d of %d bytes left", errMalformed, n, len(b))
		}
		fn(Message{
			Type:  binary.NativeEndian.Uint16(b[4:]),
			Flags: binary.NativeEndian.Uint16(b[6:]),
			Seq:   binary.NativeEndian.Uint32(b[8:]),
			Pid:   binary.NativeEndian.Uint32(b[12:]),
			Data:  b[headerLen:n],
		})
		b = b[min(align(n), len(b)):]
	}
	return nil
}

func align(n int) int { return (n + 3) &^ 3 }

// attrs calls fn for each route attribute of b (its type without the
// nested and byte-order bits), until one does not fit.
func attrs(b []byte, fn func(typ uint16, v []byte)) {
	for len(b) >= unix.SizeofRtAttr {
		n := int(binary.NativeEndian.Uint16(b))
		if n < unix.SizeofRtAttr || n > len(b) {
			return
		}
		fn(binary.NativeEndian.Uint16(b[2:])&nlaTypeMask, b[unix.SizeofRtAttr:n])
		b = b[min(align(n), len(b)):]
	}
}

// Addr is an address notification (RTM_NEWADDR, RTM_DELADDR) or an
// address of a dump.
type Addr struct {
	Index int
	// Addr is the link's own address (IFA_LOCAL, which differs from
	// IFA_ADDRESS on a point-to-point link, where that is the peer).
	Addr  netip.Addr
	Bits  int
	Label string
	Scope uint8
	// Flags are IFA_FLAGS when the kernel sends them (all 32 bits), else
	// the message's 8.
	Flags   uint32
	Deleted bool
}

// Addr decodes an address message; ok is false for any other message, or
// one without a valid address of its family.
func (m Message) Addr() (a Addr, ok bool) {
	if (m.Type != unix.RTM_NEWADDR && m.Type != unix.RTM_DELADDR) || len(m.Data) < unix.SizeofIfAddrmsg {
		return Addr{}, false
	}
	family, size := m.Data[0], 0
	switch family {
	case unix.AF_INET:
		size = 4
	case unix.AF_INET6:
		size = 16
	default:
		return Addr{}, false
	}
	a = Addr{Bits: int(m.Data[1]), Flags: uint32(m.Data[2]), Scope: m.Data[3],
		Index: int(binary.NativeEndian.Uint32(m.Data[4:])), Deleted: m.Type == unix.RTM_DELADDR}
	var local, address []byte
	attrs(m.Data[unix.SizeofIfAddrmsg:], func(typ uint16, v []byte) {
		switch typ {
		case unix.IFA_LOCAL:
			local = v
		case unix.IFA_ADDRESS:
			address = v
		case unix.IFA_LABEL:
			a.Label = cstring(v)
		case unix.IFA_FLAGS:
			if len(v) == 4 {
				a.Flags = binary.NativeEndian.Uint32(v)
			}
		}
	})
	if local == nil {
		local = address
	}
	if len(local) != size || a.Bits > 8*size {
		return Addr{}, false
	}
	a.Addr, _ = netip.AddrFromSlice(local)
	return a, true
}

// Link is a link notification (RTM_NEWLINK, RTM_DELLINK) or a link of a
// dump.
type Link struct {
	Index int
	Name  string
	// Flags are the interface's (unix.IFF_UP and the rest).
	Flags     uint32
	OperState uint8
	Deleted   bool
}

// Link decodes a link message; ok is false for any other message, one
// without a name, and one of a family's view of the link (AF_BRIDGE's
// RTM_DELLINK when a port leaves its bridge: the link is still there).
func (m Message) Link() (l Link, ok bool) {
	if (m.Type != unix.RTM_NEWLINK && m.Type != unix.RTM_DELLINK) || len(m.Data) < unix.SizeofIfInfomsg || m.Data[0] != unix.AF_UNSPEC {
		return Link{}, false
	}
	l = Link{Index: int(int32(binary.NativeEndian.Uint32(m.Data[4:]))), Flags: binary.NativeEndian.Uint32(m.Data[8:]),
		Deleted: m.Type == unix.RTM_DELLINK}
	attrs(m.Data[unix.SizeofIfInfomsg:], func(typ uint16, v []byte) {
		switch typ {
		case unix.IFLA_IFNAME:
			l.Name = cstring(v)
		case unix.IFLA_OPERSTATE:
			if len(v) == 1 {
				l.OperState = v[0]
			}
		}
	})
	if l.Name == "" || l.Index <= 0 {
		return Link{}, false
	}
	return l, true
}

// cstring is v up to its first NUL.
func cstring(v []byte) string {
	for i, c := range v {
		if c == 0 {
			return string(v[:i])
		}
	}
	return string(v)
}

// nlaTypeMask strips an attribute type of NLA_F_NESTED and
// NLA_F_NET_BYTEORDER.
const nlaTypeMask = 0x3fff
