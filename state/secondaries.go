package state

import (
	"net/netip"
	"slices"
)

// An IPv4 subnet's first address on an interface is its primary; the
// kernel marks the others of the same subnet and prefix length secondary
// (IFA_F_SECONDARY). Deleting the primary deletes every secondary with it,
// unless net.ipv4.conf.IF.promote_secondaries is set: then the kernel
// promotes one of them instead. A VIP lbx added first and an address an
// operator added next to it are such a pair, so lbx's own delete (apply,
// or a VRRP release) would take the operator's address down unseen.
// Secondaries says which secondaries a delete takes down, for the planner
// (package plan) and for a process that deletes VRRP addresses without it.

// subnet is where the kernel groups primary and secondary addresses.
type subnet struct {
	iface  string
	prefix netip.Prefix
}

func subnetOf(a Address) subnet {
	return subnet{a.Key.Interface, a.Prefix().Masked()}
}

// Secondaries indexes live IPv4 secondary addresses by interface and
// subnet; nil when there are none, as on most hosts.
type Secondaries map[subnet][]Address

// IndexSecondaries returns the live state's secondaries.
func IndexSecondaries(live map[AddressKey]Address) Secondaries {
	var idx Secondaries
	for _, a := range live {
		if !a.Secondary || !a.Key.Addr.Is4() {
			continue
		}
		if idx == nil {
			idx = Secondaries{}
		}
		s := subnetOf(a)
		idx[s] = append(idx[s], a)
	}
	for _, as := range idx {
		sortAddresses(as)
	}
	return idx
}

// TakenDown returns the addresses the kernel deletes along with del, a
// live address: the secondaries of its subnet when del is an IPv4
// primary, less those going says are deleted anyway. Nil for a secondary,
// an IPv6 address, or a primary alone in its subnet.
func (idx Secondaries) TakenDown(del Address, going func(AddressKey) bool) []Address {
	if del.Secondary || !del.Key.Addr.Is4() {
		return nil
	}
	var out []Address
	for _, a := range idx[subnetOf(del)] {
		if a.Key != del.Key && (going == nil || !going(a.Key)) {
			out = append(out, a)
		}
	}
	return out
}

func sortAddresses(as []Address) {
	slices.SortFunc(as, func(a, b Address) int {
		if a.Key.Less(b.Key) {
			return -1
		}
		if b.Key.Less(a.Key) {
			return 1
		}
		return 0
	})
}
