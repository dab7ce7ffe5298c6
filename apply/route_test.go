package apply

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lbx-dev/lbx/internal/testkit"
	"github.com/lbx-dev/lbx/kernel/kerneltest"
	"github.com/lbx-dev/lbx/plan"
	"github.com/lbx-dev/lbx/state"
)

const routedModel = `version: 1
addresses:
  - {address: 192.0.2.10/24, interface: eth0}
routes:
  - {to: 10.4.0.0/16, via: 192.0.2.1, src: 192.0.2.10}
  - {to: 10.5.0.0/16, type: blackhole}
`

// TestRoutesWithTheirAddress: a route whose source and gateway come from
// an address of the same plan is made after it (the kernel refuses it
// before); the kernel drops the route with its source address, and the
// next reconcile puts both back; a second apply changes nothing.
func TestRoutesWithTheirAddress(t *testing.T) {
	k := kerneltest.NewFakeKernel("eth0")
	if _, _, err := reconcile(t, k, routedModel, nil); err != nil {
		t.Fatalf("apply: %v", err)
	}
	if diff := cmp.Diff(testkit.Desired(t, routedModel).State, k.State(), stateCmp...); diff != "" {
		t.Errorf("kernel after apply (-want +got):\n%s", diff)
	}
	p, _, err := reconcile(t, k, routedModel, nil)
	if err != nil || !p.Empty() {
		t.Fatalf("second apply: %v %v", err, p.Changes)
	}

	// The operator removes the address by hand: its route goes with it.
	ctx := context.Background()
	vip := state.AddressKey{Interface: "eth0", Addr: netip.MustParseAddr("192.0.2.10")}
	if err := k.DeleteAddress(ctx, testkit.Desired(t, routedModel).State.Addresses[vip]); err != nil {
		t.Fatal(err)
	}
	if n := len(k.State().Routes); n != 1 {
		t.Fatalf("the fake kept the route of a removed source: %d routes", n)
	}
	p, _, err = reconcile(t, k, routedModel, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(actions(p), "|"); got != "create address.eth0/192.0.2.10|create route.10.4.0.0/16" {
		t.Errorf("repair plan: %s", got)
	}

	// Without its address the route cannot be made: one clear error.
	_, _, err = reconcile(t, kerneltest.NewFakeKernel("eth0"), "version: 1\nroutes:\n  - {to: 10.4.0.0/16, via: 192.0.2.1}\n", nil)
	if err == nil || !strings.Contains(err.Error(), "Nexthop has invalid gateway") {
		t.Errorf("unreachable gateway: %v", err)
	}
}

func actions(p *plan.Plan) []string {
	var out []string
	for _, c := range p.Changes {
		out = append(out, string(c.Action)+" "+c.Address)
	}
	return out
}
