package apply

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/lbx-dev/lbx/kernel"
	"github.com/lbx-dev/lbx/plan"
	"github.com/lbx-dev/lbx/state"
)

// deleteAddress deletes a change's live address. When the plan found
// secondaries behind it that must stay (c.Keeps), the kernel deletes it
// with promote_secondaries set, or not at all: a handle that cannot set
// it refuses rather than take those addresses down.
func deleteAddress(ctx context.Context, k kernel.Kernel, c plan.Change) error {
	if len(c.Keeps) == 0 {
		return k.DeleteAddress(ctx, *c.BeforeAddr)
	}
	pk, ok := k.(kernel.AddressPromoter)
	if ck, counting := k.(*countingKernel); counting {
		_, ok = ck.Kernel.(kernel.AddressPromoter)
	}
	if !ok {
		return fmt.Errorf("%s: left in place: deleting it would delete %v with it (the kernel deletes a subnet's secondary addresses with its primary), and this kernel handle cannot set promote_secondaries; set net.ipv4.conf.%s.promote_secondaries=1 and apply again",
			c.Address, c.Keeps, c.BeforeAddr.Key.Interface)
	}
	slog.Info("deleting a subnet's primary address with promote_secondaries set for the delete, so that the kernel keeps the addresses behind it",
		"address", c.Address, "keeps", fmt.Sprint(c.Keeps))
	return pk.DeleteAddressPromoting(ctx, *c.BeforeAddr)
}

// DeleteAddress deletes the live address a outside a plan (lbx watch's
// stale VIPs at start) with a plan's guard: the secondaries behind it
// that going does not name stay. idx is the live state's
// (state.IndexSecondaries), taken once for many deletes.
func DeleteAddress(ctx context.Context, k kernel.Kernel, a state.Address, idx state.Secondaries, going func(state.AddressKey) bool) error {
	c := plan.Change{Address: plan.AddressAddress(a.Key), Kind: plan.KindAddress, Action: plan.Delete, BeforeAddr: &a}
	for _, s := range idx.TakenDown(a, going) {
		c.Keeps = append(c.Keeps, s.Key)
	}
	return deleteAddress(ctx, k, c)
}
