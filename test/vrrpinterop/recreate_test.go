package vrrpinterop

import (
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/nstest"
)

// An interface deleted and made again under its name (a VLAN or bond taken
// down and up) has another index, and a socket opened on the old one hears
// and sends nothing. lbx watch, the backup, opens its VRRP socket anew: it
// goes on hearing keepalived's master (it used to stay FAULT, with no
// address to send from on the old index), and takes over when the master
// dies, for IPv4 and IPv6 (whose sends name the interface by index: Go's
// cache of interface names may still hold the old one).
func TestRecreatedInterface(t *testing.T) {
	for _, v := range []vr{v3fast, v3ipv6} {
		t.Run(name(v, [2]string{"keepalived", "lbx"}), func(t *testing.T) {
			ps, l := lan(t, "keepalived", "lbx")
			hi, lo := ps[0], ps[1]
			hi.vr, lo.vr = v, v
			hi.prio, lo.prio = 150, 100
			hi.start()
			lo.start()
			converged(hi, lo, v)

			lo.ns.Run(t, "ip", "link", "del", "eth0") // and the switch's end with it
			nstest.Veth(t, lo.ns, "eth0", l.Switch, l.Port(1))
			l.Switch.Run(t, "ip", "link", "set", l.Port(1), "master", "br0")
			lo.ns.Run(t, "ip", "addr", "add", lo.ip+"/24", "dev", "eth0")
			stable(t, hi, []*peer{hi, lo}, 30*v.advert)

			hi.kill()
			// IPv6: the new link-local address first passes DAD.
			lo.waitVIP(true, 5*v.mdi(100)+3*time.Second, time.Now())
		})
	}
}
