package vrrpd

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lbx-dev/lbx/internal/rtnl"
	"github.com/lbx-dev/lbx/kernel/netaddr"
)

// The kernel transport's link and address events, from route netlink.

// follow opens a socket of the groups and runs it (a dump, then
// notifications) until ctx ends, opening it again when it broke: at once,
// or after a second when it broke within a second of the last. Each
// (re)start of run calls whatever happened while not subscribed a change.
func follow(ctx context.Context, what string, log *slog.Logger, groups []uint32, run func(*rtnl.Conn) error) {
	var wait time.Duration
	for ctx.Err() == nil {
		if wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
		c, err := rtnl.Open(groups...)
		if err != nil {
			log.Error("netlink "+what+" subscription failed; retrying", "err", err)
			wait = time.Second
			continue
		}
		stop := context.AfterFunc(ctx, func() { c.Close() })
		started := time.Now()
		err = run(c)
		stop()
		c.Close()
		if ctx.Err() != nil {
			return
		}
		log.Warn("netlink "+what+" subscription broke; resubscribing", "err", err)
		wait = 0
		if time.Since(started) < time.Second {
			wait = time.Second
		}
	}
}

// linkUp is keepalived's notion of a usable link: administratively up and
// operationally up (or unknown, as dummy and loopback report).
func linkUp(l rtnl.Link) bool {
	if l.Deleted || l.Flags&unix.IFF_UP == 0 {
		return false
	}
	return l.OperState == operUp || l.OperState == operUnknown
}

// The operational states (IFLA_OPERSTATE, RFC 2863) a usable link has.
const (
	operUnknown = 0
	operUp      = 6
)

// WatchLinks reports the tracked links' state from netlink link
// notifications, with a listing of every link at each (re)subscription.
func (t kernelTransport) WatchLinks(ctx context.Context, names []string, report func(LinkState)) {
	if len(names) == 0 {
		return
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	last := map[string]bool{}
	lastIndex := map[string]int{} // while up: made again, it has another
	handle := func(l rtnl.Link) {
		if !want[l.Name] {
			return
		}
		up := linkUp(l)
		index := 0
		if up {
			index = l.Index
		}
		if v, ok := last[l.Name]; ok && v == up && lastIndex[l.Name] == index {
			return
		}
		last[l.Name], lastIndex[l.Name] = up, index
		state := "down"
		if up {
			state = "up"
		}
		report(LinkState{Name: l.Name, Up: up, Reason: "link " + l.Name + " is " + state, Index: index})
	}
	follow(ctx, "link", t.log, []uint32{unix.RTNLGRP_LINK}, func(c *rtnl.Conn) error {
		seen := map[string]bool{}
		onLink := func(m rtnl.Message) {
			if l, ok := m.Link(); ok {
				seen[l.Name] = seen[l.Name] || !l.Deleted
				handle(l)
			}
		}
		// A dump a change interrupted may lack a link: read it again
		// before any link counts as gone.
		err := rtnl.ErrDumpInterrupted
		for try := 0; try < 3 && errors.Is(err, rtnl.ErrDumpInterrupted); try++ {
			clear(seen)
			err = c.Dump(unix.RTM_GETLINK, unix.AF_UNSPEC, onLink)
		}
		if err != nil {
			return err
		}
		// Links that vanished are down.
		for n := range want {
			if v, ok := last[n]; !seen[n] && (!ok || v) {
				last[n] = false
				report(LinkState{Name: n, Reason: "link " + n + " does not exist"})
			}
		}
		for {
			if err := c.Receive(onLink); err != nil {
				return err
			}
		}
	})
}

// WatchAddrs reports every address change on the named links (and one for
// each at every (re)subscription), after which the daemon reads the link's
// addresses again (refreshSources): the kernel's notification says what
// changed, the daemon wants what is left. A burst (a master's VIPs come
// together) is one report per link.
func (t kernelTransport) WatchAddrs(ctx context.Context, names []string, changed func(ifname string)) {
	if len(names) == 0 {
		return
	}
	follow(ctx, "address", t.log, []uint32{unix.RTNLGRP_IPV4_IFADDR, unix.RTNLGRP_IPV6_IFADDR}, func(c *rtnl.Conn) error {
		// Whatever happened while not subscribed.
		byIndex := map[int]string{}
		for _, n := range names {
			if i, err := netaddr.Index(n); err == nil {
				byIndex[i] = n
			}
			changed(n)
		}
		burst := map[string]bool{}
		for {
			err := c.Receive(func(m rtnl.Message) {
				a, ok := m.Addr()
				if !ok {
					return
				}
				n, known := byIndex[a.Index]
				if !known {
					// Maybe a watched link created (or re-created) since.
					if name, err := netaddr.Name(a.Index); err == nil && slices.Contains(names, name) {
						n, known = name, true
						byIndex[a.Index] = n
					}
				}
				if known {
					burst[n] = true
				}
			})
			for n := range burst {
				changed(n)
			}
			clear(burst)
			if err != nil {
				return err
			}
		}
	})
}
