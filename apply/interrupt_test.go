package apply

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/internal/testkit"
	"github.com/lbx-dev/lbx/kernel/kerneltest"
	"github.com/lbx-dev/lbx/plan"
	"github.com/lbx-dev/lbx/state"
)

// stopAfter is a kernel that ends stop once it has taken n address writes
// (the SIGTERM of lbx watch arriving during a reload's reconcile).
type stopAfter struct {
	*kerneltest.FakeKernel
	n      int
	cancel context.CancelFunc
}

func (k *stopAfter) AddAddress(ctx context.Context, a state.Address) error {
	err := k.FakeKernel.AddAddress(ctx, a)
	if k.n--; k.n == 0 {
		k.cancel()
	}
	return err
}

// TestStopBetweenChanges: once Options.Stop ends, the change under way
// finishes, no further one starts (left Skipped), the error wraps
// ErrInterrupted; a later apply converges. Without Stop every change is
// made.
func TestStopBetweenChanges(t *testing.T) {
	var y strings.Builder
	y.WriteString("version: 1\naddresses:\n")
	for i := range 10 {
		fmt.Fprintf(&y, "  - {address: 192.0.2.%d/24, interface: eth0}\n", i+1)
	}
	for _, tc := range []struct {
		name      string
		stopAfter int // 0: no Stop
		wantDone  int
	}{
		{"no stop", 0, 10},
		{"stopped after the first", 1, 1},
		{"stopped after the fourth", 4, 4},
		{"stopped after the last", 10, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := &stopAfter{FakeKernel: kerneltest.NewFakeKernel("eth0"), n: tc.stopAfter}
			stop, cancel := context.WithCancel(context.Background())
			defer cancel()
			k.cancel = cancel
			opts := Options{}
			if tc.stopAfter > 0 {
				opts.Stop = stop
			}
			_, res, err := Reconcile(context.Background(), k, testkit.Desired(t, y.String()), plan.Options{}, opts)
			done := 0
			for _, c := range res.Changes {
				switch c.Outcome {
				case Done:
					done++
				case Failed:
					t.Errorf("%s failed: %s", c.Address, c.Error)
				}
			}
			if done != tc.wantDone || len(k.State().Addresses) != tc.wantDone {
				t.Errorf("%d changes done, %d addresses in the kernel; want %d", done, len(k.State().Addresses), tc.wantDone)
			}
			if interrupted := tc.wantDone < 10; interrupted != errors.Is(err, ErrInterrupted) {
				t.Errorf("err %v; want ErrInterrupted: %v", err, interrupted)
			}
			if _, _, err := Reconcile(context.Background(), k, testkit.Desired(t, y.String()), plan.Options{}, Options{}); err != nil || len(k.State().Addresses) != 10 {
				t.Errorf("the next apply: %v, %d addresses; want 10", err, len(k.State().Addresses))
			}
		})
	}
}

// TestAfterStopKeepsDeletes: with Stop already ended, only the changes
// AfterStop keeps are made (lbx watch's VRRP reconcile at the stop: the
// deletes that release addresses), the creates are left Skipped.
func TestAfterStopKeepsDeletes(t *testing.T) {
	k := kerneltest.NewFakeKernel("eth0")
	before := "version: 1\naddresses:\n  - {address: 192.0.2.1/24, interface: eth0}\n  - {address: 192.0.2.2/24, interface: eth0}\n"
	if _, _, err := Reconcile(context.Background(), k, testkit.Desired(t, before), plan.Options{}, Options{}); err != nil {
		t.Fatal(err)
	}
	after := "version: 1\naddresses:\n  - {address: 192.0.2.3/24, interface: eth0}\n  - {address: 192.0.2.4/24, interface: eth0}\n"
	stop, cancel := context.WithCancel(context.Background())
	cancel()
	owned := plan.Options{Owned: plan.Owned{Addresses: map[state.AddressKey]bool{}}}
	for a := range k.State().Addresses {
		owned.Owned.Addresses[a] = true
	}
	p, res, err := Reconcile(context.Background(), k, testkit.Desired(t, after), owned,
		Options{KeepGoing: true, Stop: stop, AfterStop: func(c plan.Change) bool { return c.Action == plan.Delete }})
	if !errors.Is(err, ErrInterrupted) {
		t.Errorf("err %v, want ErrInterrupted", err)
	}
	for i, c := range p.Changes {
		want := Skipped
		if c.Action == plan.Delete {
			want = Done
		}
		if res.Changes[i].Outcome != want {
			t.Errorf("%s %s: %s, want %s", c.Action, c.Address, res.Changes[i].Outcome, want)
		}
	}
	if n := len(k.State().Addresses); n != 0 {
		t.Errorf("%d addresses left, want 0 (deletes made, creates skipped)", n)
	}
}
