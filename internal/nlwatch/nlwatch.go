// Package nlwatch follows a netlink subscription for a daemon's drift
// repair: lbx watch's engine (links, addresses, routes) and lbx-vrrp
// (addresses) reconcile when a notification concerns what they manage,
// and again whole after the subscription broke.
package nlwatch

import (
	"context"
	"time"
)

// Follow calls changed for each update that concerns says matters, and
// resubscribed once a broken subscription is made again (what changed
// meanwhile went unnotified), until ctx ends. subscribe starts the
// subscription (vishvananda/netlink's XSubscribeWithOptions, or
// rtnl.SubscribeAddrs: it closes ch when the subscription breaks, and
// stops at done). When subscribing fails, unavailable is called and
// Follow returns: the caller's periodic resync is then all there is.
func Follow[U any](ctx context.Context, subscribe func(ch chan U, done chan struct{}) error, concerns func(U) bool, changed, resubscribed func(), unavailable func(error)) {
	for first := true; ctx.Err() == nil; first = false {
		ch := make(chan U, 64)
		done := make(chan struct{})
		if err := subscribe(ch, done); err != nil {
			unavailable(err)
			return
		}
		if !first {
			resubscribed()
		}
		for open := true; open; {
			select {
			case <-ctx.Done():
				close(done)
				return
			case u, ok := <-ch:
				if !ok {
					open = false
					break
				}
				if concerns(u) {
					changed()
				}
			}
		}
		close(done)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}
