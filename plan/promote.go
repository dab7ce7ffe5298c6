package plan

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/lbx-dev/lbx/state"
)

// An IPv4 subnet's first address on an interface is its primary; the
// kernel marks the others of the same subnet and prefix length secondary
// (IFA_F_SECONDARY). Deleting the primary deletes every secondary with it,
// unless net.ipv4.conf.IF.promote_secondaries is set: then the kernel
// promotes one of them instead. A VIP lbx added first and an address an
// operator added next to it are such a pair, so lbx's own delete (apply,
// or a VRRP release) would take the operator's address down unseen.
//
// The plan names, on each delete of a primary, the secondaries that must
// stay (Change.Keeps); the executor then deletes it with promote_secondaries
// set on the interface for that delete (kernel.AddressPromoter).

// subnet is where the kernel groups primary and secondary addresses.
type subnet struct {
	iface  string
	prefix netip.Prefix
}

func subnetOf(a state.Address) subnet {
	return subnet{a.Key.Interface, a.Prefix().Masked()}
}

// Secondaries indexes live IPv4 secondary addresses by interface and
// subnet; nil when there are none, as on most hosts.
type Secondaries map[subnet][]state.Address

// IndexSecondaries returns the live state's secondaries.
func IndexSecondaries(live map[state.AddressKey]state.Address) Secondaries {
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
func (idx Secondaries) TakenDown(del state.Address, going func(state.AddressKey) bool) []state.Address {
	if del.Secondary || !del.Key.Addr.Is4() {
		return nil
	}
	var out []state.Address
	for _, a := range idx[subnetOf(del)] {
		if a.Key != del.Key && (going == nil || !going(a.Key)) {
			out = append(out, a)
		}
	}
	return out
}

// guardPrimaries fills Keeps on the address deletes (and replaces) of cs
// that would take down secondaries not deleted by the same plan, and
// says so in their reason.
func guardPrimaries(cs []Change, live map[state.AddressKey]state.Address) {
	idx := IndexSecondaries(live)
	if idx == nil {
		return
	}
	deleted := map[state.AddressKey]bool{}
	for _, c := range cs {
		if c.Kind == KindAddress && c.Action == Delete {
			deleted[c.BeforeAddr.Key] = true
		}
	}
	going := func(k state.AddressKey) bool { return deleted[k] }
	for i := range cs {
		c := &cs[i]
		if c.Kind != KindAddress || c.BeforeAddr == nil {
			continue
		}
		kept := idx.TakenDown(*c.BeforeAddr, going)
		if len(kept) == 0 {
			continue
		}
		for _, a := range kept {
			c.Keeps = append(c.Keeps, a.Key)
		}
		c.Reason = joinReason(c.Reason, KeepsReason(*c.BeforeAddr, kept))
	}
}

// KeepsReason says why a delete sets promote_secondaries, for plans and
// logs.
func KeepsReason(del state.Address, kept []state.Address) string {
	names := make([]string, len(kept))
	for i, a := range kept {
		names[i] = a.Prefix().String()
	}
	return fmt.Sprintf("primary of %s on %s with secondaries %s: deleted with promote_secondaries set on %s for the delete, so that the kernel keeps them",
		del.Prefix().Masked(), del.Key.Interface, strings.Join(names, ", "), del.Key.Interface)
}

func joinReason(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

func sortAddresses(as []state.Address) {
	slices.SortFunc(as, func(a, b state.Address) int {
		if a.Key.Less(b.Key) {
			return -1
		}
		if b.Key.Less(a.Key) {
			return 1
		}
		return 0
	})
}
