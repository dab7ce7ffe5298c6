package vrrpd

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/lbx-dev/lbx/vrrpd/fsm"
)

// TrackStatus is one object an instance tracks, and what it does to the
// instance now: why the effective priority differs from the configured
// one, or why the instance is in FAULT.
type TrackStatus struct {
	Kind string // TrackInterface, TrackScript or TrackSource
	Name string // the link or script; a source's link
	Up   bool
	// Weight is the configured weight (0: down means FAULT).
	Weight int
	// Applied is what it adds to the priority now: the weight while up
	// (weight > 0) or while down (weight < 0), else 0; always 0 on an
	// address owner (priority 255).
	Applied int
	// Fault: it is down with weight 0, so the instance is in FAULT.
	Fault bool
}

// AddressStatus is one virtual address of an instance.
type AddressStatus struct {
	Addr netip.Addr
	// Excluded: from virtual_addresses_excluded (held as the others, not
	// carried in adverts).
	Excluded bool
	// Held: the instance is MASTER and the reconcile that put its
	// addresses in the kernel succeeded (none is pending or failing).
	Held bool
}

// TrackedObject is a tracked script or interface, daemon-wide (every
// instance that tracks it sees the same state).
type TrackedObject struct {
	Kind string // TrackInterface or TrackScript
	Name string
	// Up is the last reported state; before the first report, what the
	// instances assume (a script's init_fail and reverse, a link up).
	Up bool
}

func tracksOf(m *fsm.Machine) []TrackStatus {
	out := make([]TrackStatus, 0, m.TrackCount())
	for t := range m.Tracks() {
		out = append(out, TrackStatus{Kind: t.Key.Kind, Name: t.Key.Name, Up: t.Up, Weight: t.Weight, Applied: t.Applied, Fault: t.Fault})
	}
	return out
}

func addressesOf(c *Instance, held bool) []AddressStatus {
	out := make([]AddressStatus, 0, len(c.Addrs)+len(c.Excluded))
	for _, a := range c.Addrs {
		out = append(out, AddressStatus{Addr: a, Held: held})
	}
	for _, a := range c.Excluded {
		out = append(out, AddressStatus{Addr: a, Excluded: true, Held: held})
	}
	return out
}

// tracked returns the configuration's tracked scripts and interfaces with
// their current state (event loop only), sorted by kind and name.
func (d *Daemon) tracked() []TrackedObject {
	out := make([]TrackedObject, 0, len(d.cfg.Links)+len(d.cfg.Scripts))
	for _, l := range d.cfg.Links {
		out = append(out, TrackedObject{Kind: TrackInterface, Name: l, Up: d.trackedUp(TrackInterface, l)})
	}
	for name := range d.cfg.Scripts {
		out = append(out, TrackedObject{Kind: TrackScript, Name: name, Up: d.trackedUp(TrackScript, name)})
	}
	slices.SortFunc(out, func(a, b TrackedObject) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// trackedUp is a tracked interface's or script's last reported state, and
// before the first report what the instances assume (a link up; a script
// as its init_fail and reverse say). Event loop only.
func (d *Daemon) trackedUp(kind, name string) bool {
	key, assumed := interfaceKey(name), true
	if kind == TrackScript {
		key, assumed = scriptKey(name), d.cfg.Scripts[name].assumedUp()
	}
	if up, ok := d.known[key]; ok {
		return up
	}
	return assumed
}
