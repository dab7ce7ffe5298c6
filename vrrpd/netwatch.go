package vrrpd

import (
	"context"
	"log/slog"
	"slices"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
)

// The kernel transport's link and address events, from netlink.

// subscribe calls sub (a vishvananda/netlink subscription) until it
// succeeds, every second, or ctx ends (ok false). errc gets the
// subscription's first receive error: then it is broken.
func subscribe(ctx context.Context, what string, log *slog.Logger, sub func(done chan struct{}, onErr func(error)) error) (done chan struct{}, errc chan error, ok bool) {
	for ctx.Err() == nil {
		done, errc = make(chan struct{}), make(chan error, 1)
		err := sub(done, func(err error) {
			select {
			case errc <- err:
			default:
			}
		})
		if err == nil {
			return done, errc, true
		}
		// What the library started before it failed (a socket and the
		// goroutine that closes it at done) ends here, not at every retry.
		close(done)
		log.Error("netlink "+what+" subscription failed; retrying", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	return nil, nil, false
}

// receive hands each update of a subscription to handle until the
// subscription breaks (false: subscribe again) or ctx ends (true: stop),
// and ends the subscription either way.
func receive[T any](ctx context.Context, what string, log *slog.Logger, done chan struct{}, errc chan error, ch <-chan T, handle func(T)) (stop bool) {
	defer unsubscribe(done, ch)
	for {
		select {
		case <-ctx.Done():
			return true
		case err := <-errc:
			log.Warn("netlink "+what+" subscription broke; resubscribing", "err", err)
			return false
		case u, ok := <-ch:
			if !ok {
				return false
			}
			handle(u)
		}
	}
}

// unsubscribe ends a vishvananda/netlink subscription: done tells its
// reader to stop, and ch is drained until the reader closes it, so that a
// reader blocked on a full ch is not left behind.
func unsubscribe[T any](done chan struct{}, ch <-chan T) {
	close(done)
	go func() {
		for range ch {
		}
	}()
}

// linkUp is keepalived's notion of a usable link: administratively up and
// operationally up (or unknown, as dummy and loopback report).
func linkUp(l netlink.Link) bool {
	a := l.Attrs()
	if a.Flags&(1<<0) == 0 { // net.FlagUp
		return false
	}
	return a.OperState == netlink.OperUp || a.OperState == netlink.OperUnknown
}

// WatchLinks reports the tracked links' state from netlink link updates,
// resubscribing (with a fresh listing) whenever the subscription breaks.
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
	for ctx.Err() == nil {
		ch := make(chan netlink.LinkUpdate, 64)
		done, errc, ok := subscribe(ctx, "link", t.log, func(done chan struct{}, onErr func(error)) error {
			return netlink.LinkSubscribeWithOptions(ch, done, netlink.LinkSubscribeOptions{ListExisting: true, ErrorCallback: onErr})
		})
		if !ok {
			return
		}
		// Links that vanish are down.
		seen := map[string]bool{}
		for n := range want {
			if l, err := netlink.LinkByName(n); err == nil {
				seen[n] = true
				_ = l
			} else if v, ok := last[n]; !ok || v {
				last[n] = false
				report(LinkState{Name: n, Reason: "link " + n + " does not exist"})
			}
		}
		if receive(ctx, "link", t.log, done, errc, ch, func(u netlink.LinkUpdate) {
			n := u.Attrs().Name
			if !want[n] {
				return
			}
			up := linkUp(u.Link) && u.Header.Type != syscall.RTM_DELLINK
			index := 0
			if up {
				index = u.Attrs().Index
			}
			if v, ok := last[n]; ok && v == up && lastIndex[n] == index {
				return
			}
			last[n], lastIndex[n] = up, index
			state := "down"
			if up {
				state = "up"
			}
			report(LinkState{Name: n, Up: up, Reason: "link " + n + " is " + state, Index: index})
		}) {
			return
		}
	}
}

// WatchAddrs reports every address change on the named links (and one for
// each at every (re)subscription), after which the daemon reads the link's
// addresses again (refreshSources): the kernel's notification says what
// changed, the daemon wants what is left.
func (t kernelTransport) WatchAddrs(ctx context.Context, names []string, changed func(ifname string)) {
	if len(names) == 0 {
		return
	}
	for ctx.Err() == nil {
		ch := make(chan netlink.AddrUpdate, 64)
		done, errc, ok := subscribe(ctx, "address", t.log, func(done chan struct{}, onErr func(error)) error {
			return netlink.AddrSubscribeWithOptions(ch, done, netlink.AddrSubscribeOptions{ErrorCallback: onErr})
		})
		if !ok {
			return
		}
		// Whatever happened while not subscribed.
		byIndex := map[int]string{}
		for _, n := range names {
			if l, err := netlink.LinkByName(n); err == nil {
				byIndex[l.Attrs().Index] = n
			}
			changed(n)
		}
		if receive(ctx, "address", t.log, done, errc, ch, func(u netlink.AddrUpdate) {
			n, known := byIndex[u.LinkIndex]
			if !known {
				// Maybe a watched link created (or re-created) since.
				if l, err := netlink.LinkByIndex(u.LinkIndex); err == nil && slices.Contains(names, l.Attrs().Name) {
					n, known = l.Attrs().Name, true
					byIndex[u.LinkIndex] = n
				}
			}
			if !known {
				return
			}
			// One event for a burst (a master's VIPs come together):
			// the daemon reads the link's addresses once for all.
			burst := map[string]bool{n: true}
			for more := true; more; {
				select {
				case u, ok := <-ch:
					more = ok
					if n, known := byIndex[u.LinkIndex]; ok && known {
						burst[n] = true
					}
				default:
					more = false
				}
			}
			for n := range burst {
				changed(n)
			}
		}) {
			return
		}
	}
}
