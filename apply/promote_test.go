package apply

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/kernel/kerneltest"
	"github.com/lbx-dev/lbx/plan"
	"github.com/lbx-dev/lbx/state"
)

// TestKeepsRefusedWithoutPromoter: a delete that must keep secondaries,
// on a kernel handle that cannot set promote_secondaries, is refused
// (naming what it keeps and what to do) and deletes nothing; a plain
// delete on the same handle goes through.
func TestKeepsRefusedWithoutPromoter(t *testing.T) {
	cases := []struct {
		name    string
		keeps   []state.AddressKey
		wantErr string
	}{
		{"plain delete", nil, ""},
		{"delete that keeps a secondary", []state.AddressKey{{Interface: "eth0", Addr: netip.MustParseAddr("192.0.2.99")}},
			"eth0/192.0.2.99"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			k := kerneltest.NewFakeKernel("eth0")
			a := state.Address{Key: state.AddressKey{Interface: "eth0", Addr: netip.MustParseAddr("192.0.2.10")}, Bits: 24}
			if err := k.AddAddress(ctx, a); err != nil {
				t.Fatal(err)
			}
			p := &plan.Plan{Changes: []plan.Change{{Address: plan.AddressAddress(a.Key), Kind: plan.KindAddress, Action: plan.Delete, BeforeAddr: &a, Keeps: tc.keeps}}}
			_, err := Execute(ctx, k, p, Options{})
			live, rerr := k.ReadNetwork(ctx)
			if rerr != nil {
				t.Fatal(rerr)
			}
			_, still := live.Addresses[a.Key]
			if tc.wantErr == "" {
				if err != nil || still {
					t.Fatalf("plain delete: err %v, address still there: %v", err, still)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "promote_secondaries=1") || !still {
				t.Fatalf("want a refusal naming %s and promote_secondaries=1 with the address kept; got err %v, address still there: %v", tc.wantErr, err, still)
			}
		})
	}
}
