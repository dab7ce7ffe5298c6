package watch

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/apply"
	"github.com/lbx-dev/lbx/check"
	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/plan"
	"github.com/lbx-dev/lbx/state"
)

// Issue 26 item 7: what lbx watch claims in its ownership record.

const ownerTwoInstances = `version: 1
global: {resync_interval: 1h}
vrrp_instances:
  - {name: VI_1, interface: eth0, virtual_router_id: 1, virtual_addresses: [{address: 10.0.0.1/24}]}
  - {name: VI_2, interface: eth0, virtual_router_id: 2, virtual_addresses: [{address: 10.0.0.2/24}]}
`

var (
	vip1 = state.AddressKey{Interface: "eth0", Addr: netip.MustParseAddr("10.0.0.1")}
	vip2 = state.AddressKey{Interface: "eth0", Addr: netip.MustParseAddr("10.0.0.2")}
)

// TestRemovedBackupInstanceReleasesItsClaim: an instance removed by a
// reload while BACKUP held no address, so nothing is deleted, and its
// claim must go with it: an address someone adds later with its key is
// not lbx's, and a resync leaves it.
func TestRemovedBackupInstanceReleasesItsClaim(t *testing.T) {
	e, k, file := startEngine(t, ownerTwoInstances)
	ctx := context.Background()
	if err := e.reconcile(ctx, trigResync); err != nil {
		t.Fatal(err)
	}
	if !e.owner.OwnedAddresses()[vip2] {
		t.Fatalf("VI_2's address not claimed at start: %v", e.owner.OwnedAddresses())
	}
	if _, ok := k.State().Addresses[vip2]; ok {
		t.Fatal("a BACKUP instance's address is on the link")
	}
	removed := strings.Replace(ownerTwoInstances,
		"  - {name: VI_2, interface: eth0, virtual_router_id: 2, virtual_addresses: [{address: 10.0.0.2/24}]}\n", "", 1)
	if err := os.WriteFile(file, []byte(removed), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := e.reload(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.reconcile(ctx, trigReload); err != nil {
		t.Fatal(err)
	}
	if e.owner.OwnedAddresses()[vip2] {
		t.Errorf("claim on the removed instance's address kept in memory: %v", e.owner.OwnedAddresses())
	}
	// On disk too: a restart must not take it back.
	reopened, err := apply.OpenOwnerRecord(filepath.Dir(file), "")
	if err != nil {
		t.Fatal(err)
	}
	if reopened.OwnedAddresses()[vip2] {
		t.Errorf("claim on the removed instance's address kept in the record: %v", reopened.OwnedAddresses())
	}
	k.Mutate(func(st *state.State) { st.Addresses[vip2] = state.Address{Key: vip2, Bits: 24} })
	if err := e.reconcile(ctx, trigResync); err != nil {
		t.Fatal(err)
	}
	if _, ok := k.State().Addresses[vip2]; !ok {
		t.Error("a resync deleted a hand-added address that only a removed instance had declared")
	}
}

// TestReloadRefusedWhenClaimCannotBeWritten: a reload that adds an object
// it cannot record first is refused as a whole: the old model stays in
// force (its objects kept, the new one not created) and the status says
// why.
func TestReloadRefusedWhenClaimCannotBeWritten(t *testing.T) {
	oneInstance := strings.Replace(ownerTwoInstances,
		"  - {name: VI_2, interface: eth0, virtual_router_id: 2, virtual_addresses: [{address: 10.0.0.2/24}]}\n", "", 1)
	e, k, file := startEngine(t, oneInstance)
	ctx := context.Background()
	if err := e.Reconcile(ctx, map[string]string{"VI_1": "MASTER", "VI_2": "MASTER"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := k.State().Addresses[vip1]; !ok {
		t.Fatal("VI_1's address not added as MASTER")
	}
	// Root writes into a read-only directory: a directory in the
	// record's place makes the rename over it fail for everyone.
	record := apply.OwnerRecordPath(filepath.Dir(file), "")
	if err := os.Remove(record); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(record, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(ownerTwoInstances), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := e.reload(ctx); err == nil {
		t.Fatal("reload accepted although its claims could not be written")
	}
	if err := e.reconcile(ctx, trigResync); err != nil {
		t.Fatal(err)
	}
	if _, ok := k.State().Addresses[vip2]; ok {
		t.Error("the refused reload's address was created without being recorded")
	}
	if _, ok := k.State().Addresses[vip1]; !ok {
		t.Error("the old model's address is gone: the old model is not in force")
	}
	e.mu.Lock()
	inForce := len(e.m.VRRPInstances)
	e.mu.Unlock()
	if inForce != 1 {
		t.Errorf("model in force has %d instances, want the old one's 1", inForce)
	}
	if got := e.status().Daemon.LastReloadError; !strings.Contains(got, "ownership record") {
		t.Errorf("LastReloadError = %q, want the ownership record's error", got)
	}
}

// TestReloadClaimsSurviveAReconcile: a reconcile planned before a reload
// must neither release nor forget what the reload claimed (in flight,
// e.claiming, or swapped in, e.declared): once made, such an address would
// be lbx's in the kernel but not in the record, and stay behind when a
// later model leaves it out.
func TestReloadClaimsSurviveAReconcile(t *testing.T) {
	x := state.AddressKey{Interface: "eth0", Addr: netip.MustParseAddr("192.0.2.7")}
	y := state.AddressKey{Interface: "eth0", Addr: netip.MustParseAddr("192.0.2.8")}
	for _, tc := range []struct {
		name               string
		claiming, declared plan.Owned
	}{
		{"a reload in flight", plan.Owned{Addresses: map[state.AddressKey]bool{x: true}}, plan.Owned{}},
		{"a reload swapped in", plan.Owned{}, plan.Owned{Addresses: map[state.AddressKey]bool{x: true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			owner := apply.NewMemoryOwnerRecord()
			e := &engine{owner: owner, log: slog.New(slog.DiscardHandler), claiming: tc.claiming, declared: tc.declared}
			ax, ay := state.Address{Key: x, Bits: 32}, state.Address{Key: y, Bits: 32}
			if err := owner.Claim([]plan.Change{{Kind: plan.KindAddress, Action: plan.Create, AfterAddr: &ax}, {Kind: plan.KindAddress, Action: plan.Create, AfterAddr: &ay}}); err != nil {
				t.Fatal(err)
			}
			// The old model declared neither: the reconcile deleted both.
			p := &plan.Plan{Changes: []plan.Change{{Kind: plan.KindAddress, Action: plan.Delete, BeforeAddr: &ax}, {Kind: plan.KindAddress, Action: plan.Delete, BeforeAddr: &ay}}}
			res := &apply.Result{Changes: []apply.ChangeResult{{Outcome: apply.Done}, {Outcome: apply.Done}}}
			e.releaseUndeclared(p, res, plan.Owned{})
			got := owner.OwnedAddresses()
			if !got[x] || got[y] {
				t.Errorf("owned after the release: %v; want %s kept (the reload declares it), %s released", got, x, y)
			}
			e.forgetAbsent(plan.Owned{})(state.New(), false)
			if !owner.OwnedAddresses()[x] {
				t.Errorf("%s forgotten as absent though the reload declares it", x)
			}
		})
	}
}

// refusingChecker refuses every update of its targets (lbx-check died).
type refusingChecker struct{}

func (refusingChecker) Start(context.Context, []check.Target, func([]check.Transition)) error {
	return nil
}
func (refusingChecker) Update([]check.Target) error {
	return errors.New("checker gone")
}
func (refusingChecker) Suspend(map[model.RealID]bool)         {}
func (refusingChecker) Stop()                                 {}
func (refusingChecker) Health() map[model.RealID]model.Health { return nil }
func (refusingChecker) Stats() []check.TargetStats            { return nil }

// TestRefusedReloadTakesBackItsClaims: a reload refused after it claimed
// the new model's objects (the checker's update failed) takes the claims
// back: the next reconcile would take an operator's address that the new
// model would have adopted for lbx's and delete it.
func TestRefusedReloadTakesBackItsClaims(t *testing.T) {
	e, k, file := startEngine(t, ownerTwoInstances)
	ctx := context.Background()
	vip3 := state.AddressKey{Interface: "eth0", Addr: netip.MustParseAddr("10.0.0.3")}
	if err := k.AddAddress(ctx, state.Address{Key: vip3, Bits: 24, Scope: "global"}); err != nil {
		t.Fatal(err)
	}
	third := ownerTwoInstances + "  - {name: VI_3, interface: eth0, virtual_router_id: 3, virtual_addresses: [{address: 10.0.0.3/24}]}\n"
	if err := os.WriteFile(file, []byte(third), 0o644); err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	e.runner = refusingChecker{}
	e.mu.Unlock()
	if err := e.reload(ctx); err == nil {
		t.Fatal("the reload was not refused")
	}
	if e.owner.OwnedAddresses()[vip3] {
		t.Errorf("the refused reload's claim on %s stays", vip3)
	}
	if !e.owner.OwnedAddresses()[vip1] {
		t.Errorf("the model in force's claim on %s was taken back", vip1)
	}
	if err := e.reconcile(ctx, trigResync); err != nil {
		t.Fatal(err)
	}
	if _, ok := k.State().Addresses[vip3]; !ok {
		t.Errorf("the operator's %s was deleted after the refused reload", vip3)
	}
}
