package kernel

import (
	"context"

	"github.com/lbx-dev/lbx/kernel/netaddr"
	"github.com/lbx-dev/lbx/state"
)

// AddressPromoter is a kernel that can delete an IPv4 subnet's primary
// address without its secondaries: plan.Change.Keeps asks for it.
type AddressPromoter interface {
	// DeleteAddressPromoting deletes a with the interface's
	// net.ipv4.conf.IF.promote_secondaries set to 1 for the delete (the
	// kernel then promotes a secondary instead of deleting them all),
	// then puts the setting back as it was. ErrNotFound as DeleteAddress.
	DeleteAddressPromoting(ctx context.Context, a state.Address) error
}

// PromoteSecondariesPath is the file of an interface's promote_secondaries
// setting (netaddr.PromoteSecondariesPath).
func PromoteSecondariesPath(iface string) string { return netaddr.PromoteSecondariesPath(iface) }
