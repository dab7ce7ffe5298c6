package vrrpd

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/lbx-dev/lbx/internal/clock"
)

// link is the daemon's side of one VRRP socket (an interface and a
// family): every instance on that interface and family shares it, and its
// packets are sorted by VRID. Event loop only, but for its read loop.
type link struct {
	name string
	v6   bool
	conn Link
	clk  clock.Clock

	local map[netip.Addr]bool // addresses of the interface, refreshed lazily
	at    time.Time

	stop context.CancelFunc // ends the link's read loop; nil before it runs
}

// close ends the read loop (cancel first, so that the read error the close
// causes is taken for the end it is) and closes the socket.
func (l *link) close() {
	if l.stop != nil {
		l.stop()
	}
	l.conn.Close()
}

// isLocal reports whether a is one of the interface's addresses (our own
// packets coming back, e.g. via a bridge hairpin or another socket).
func (l *link) isLocal(a netip.Addr) bool {
	if now := l.clk.Now(); l.local == nil || now.Sub(l.at) > 2*time.Second {
		l.local = map[netip.Addr]bool{}
		if addrs, err := l.conn.Addrs(); err == nil {
			for _, x := range addrs {
				l.local[x] = true
			}
		}
		l.at = now
	}
	return l.local[a]
}

// primary picks the source address for a link: IPv4 the first address of
// the interface, IPv6 its link-local address (RFC 5798 §5.1.2.1), none
// that skip says is not the link's own.
func (l *link) primary(skip func(netip.Addr) bool) (netip.Addr, error) {
	addrs, err := l.conn.Addrs()
	if err != nil {
		return netip.Addr{}, fmt.Errorf("addresses of %s: %w", l.name, err)
	}
	for _, ip := range addrs {
		if skip(ip) {
			continue
		}
		if !l.v6 && ip.Is4() || l.v6 && ip.Is6() && ip.IsLinkLocalUnicast() {
			return ip, nil
		}
	}
	fam := "IPv4 address"
	if l.v6 {
		fam = "IPv6 link-local address"
	}
	return netip.Addr{}, noSourceError("interface " + l.name + " has no " + fam + " to send VRRP from; add one or set unicast_src_ip / mcast_src_ip")
}

// errNoSource is what primary's error is when the link has no address to
// send from: a fact (the instance is FAULT until one comes). Any other
// error is a failure to read the addresses (EMFILE, ENOBUFS...), which says
// nothing about them and is retried (Daemon.sourceUnread).
var errNoSource = errors.New("no address to send from")

type noSourceError string

func (e noSourceError) Error() string        { return string(e) }
func (e noSourceError) Is(target error) bool { return target == errNoSource }
