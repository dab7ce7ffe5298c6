package plan

import (
	"fmt"
	"strings"

	"github.com/lbx-dev/lbx/state"
)

// A primary's delete takes its subnet's secondaries with it
// (state.Secondaries). The plan names, on each delete of a primary, the secondaries that must
// stay (Change.Keeps); the executor then deletes it with promote_secondaries
// set on the interface for that delete (kernel.AddressPromoter).

// guardPrimaries fills Keeps on the address deletes (and replaces) of cs
// that would take down secondaries not deleted by the same plan, and
// says so in their reason.
func guardPrimaries(cs []Change, live map[state.AddressKey]state.Address) {
	idx := state.IndexSecondaries(live)
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
