package vrrpinterop

import (
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/nstest"
)

// An interface deleted and made again under its name (a VLAN or bond taken
// down and up) has another index, and a socket opened on the old one hears
// and sends nothing. lbx watch, the backup, opens its VRRP socket anew: it
// goes on hearing keepalived's master (it used to hear nothing, take over,
// and both held the address), and takes over when the master dies.
func TestRecreatedInterface(t *testing.T) {
	ps, l := lan(t, "keepalived", "lbx")
	hi, lo := ps[0], ps[1]
	v := v3fast
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
	lo.waitVIP(true, 5*v.mdi(100), time.Now())
}
