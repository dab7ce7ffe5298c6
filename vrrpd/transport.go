package vrrpd

import (
	"context"
	"net/netip"
)

// Transport is the daemon's network: the VRRP socket of each link, the
// senders of gratuitous ARP / unsolicited NA, and the kernel's link and
// address events. The default (Options.Transport nil) is the kernel's: raw
// sockets and netlink, which need root or CAP_NET_RAW. Tests pass
// vrrptest.Transport, a network in memory.
type Transport interface {
	// Open opens the VRRP socket of an interface and family, joined to
	// the VRRP multicast group.
	Open(ifname string, v6 bool) (Link, error)
	// Announcer opens a sender of gratuitous ARP (IPv4) or unsolicited
	// neighbour advertisements from src (IPv6) on an interface.
	Announcer(ifname string, v6 bool, src netip.Addr) (Announcer, error)
	// WatchLinks reports the named links' state (a link that does not
	// exist is down) until ctx ends: each at the start, then each change.
	WatchLinks(ctx context.Context, names []string, report func(LinkState))
	// WatchAddrs reports that the addresses of a named link may have
	// changed, until ctx ends: each link at the start, then after changes
	// (the daemon reads them again with Link.Addrs).
	WatchAddrs(ctx context.Context, names []string, changed func(ifname string))
}

// Link is the VRRP socket of one interface and family, shared by every
// instance there.
type Link interface {
	// Read blocks for the next packet; it fails once the link is closed.
	Read(buf []byte) (Received, error)
	// Send sends one VRRP packet (header and payload, no IP header).
	Send(b []byte, src, dst netip.Addr) error
	// Addrs returns the interface's addresses now.
	Addrs() ([]netip.Addr, error)
	// Index is the kernel's index of the interface the link was opened
	// on: an interface deleted and made again under the name has another.
	Index() int
	Close() error
}

// Received is one packet as read from a link.
type Received struct {
	Data     []byte
	Src, Dst netip.Addr
	TTL      int // the IP TTL / hop limit; -1: unknown
}

// Announcer sends one round of gratuitous ARP or unsolicited neighbour
// advertisements for the given addresses (the caller's buffer, reused
// after the call).
type Announcer interface {
	Announce(addrs []netip.Addr) error
	Close() error
}

// LinkState is a tracked link's state, and why.
type LinkState struct {
	Name   string
	Up     bool
	Reason string // e.g. "link eth1 is down"
	// Index is the interface's kernel index while it is up (0 when it is
	// not, or unknown); a change says the link was made again.
	Index int
}
