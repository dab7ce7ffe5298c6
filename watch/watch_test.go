package watch

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/apply"
	"github.com/lbx-dev/lbx/check"
	"github.com/lbx-dev/lbx/internal/testkit"
	"github.com/lbx-dev/lbx/kernel"
	"github.com/lbx-dev/lbx/kernel/kerneltest"
	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/state"
)

const twoInstances = `version: 1
addresses:
  - {address: 192.0.2.1/24, interface: eth0}
vrrp_instances:
  - name: VI_1
    interface: eth0
    virtual_router_id: 51
    virtual_addresses: [{address: 10.0.0.100/24, label: eth0:vip}]
  - name: VI_2
    interface: eth0
    virtual_router_id: 52
    virtual_addresses: [{address: 10.0.0.200/24}]
`

// The reconciler brings addresses to the VRRP states through apply: a
// MASTER's addresses are added, a BACKUP's removed — including one found
// stale at start, which the ownership record never saw.
func TestReconcilerFollowsStates(t *testing.T) {
	m, err := model.Parse([]byte(twoInstances), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	k := kerneltest.NewFakeKernel("eth0")
	vip1 := state.AddressKey{Interface: "eth0", Addr: netip.MustParseAddr("10.0.0.100")}
	vip2 := state.AddressKey{Interface: "eth0", Addr: netip.MustParseAddr("10.0.0.200")}
	static := state.AddressKey{Interface: "eth0", Addr: netip.MustParseAddr("192.0.2.1")}
	// A stale VIP left by a killed lbx.
	k.Mutate(func(st *state.State) {
		st.Addresses[vip2] = state.Address{Key: vip2, Bits: 24, Scope: "global"}
	})
	r := newEngine(m, "m.yaml", k, apply.NewMemoryOwnerRecord(), nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.loop(ctx)
	steps := []struct {
		states map[string]string
		want   []state.AddressKey
	}{
		{map[string]string{"VI_1": "BACKUP", "VI_2": "INIT"}, []state.AddressKey{static}},
		{map[string]string{"VI_1": "MASTER", "VI_2": "BACKUP"}, []state.AddressKey{vip1, static}},
		{map[string]string{"VI_1": "MASTER", "VI_2": "MASTER"}, []state.AddressKey{vip1, vip2, static}},
		{map[string]string{"VI_1": "FAULT", "VI_2": "STOP"}, []state.AddressKey{static}},
	}
	for i, s := range steps {
		if err := r.Reconcile(context.Background(), s.states); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		got := k.State()
		keys := got.AddressKeys()
		if len(keys) != len(s.want) {
			t.Fatalf("step %d (%v): addresses %v, want %v", i, s.states, keys, s.want)
		}
		for j := range keys {
			if keys[j] != s.want[j] {
				t.Fatalf("step %d (%v): addresses %v, want %v", i, s.states, keys, s.want)
			}
		}
		if a, ok := got.Addresses[vip1]; ok && a.Label != "eth0:vip" {
			t.Fatalf("label %q", a.Label)
		}
	}
}

func TestSummary(t *testing.T) {
	changes := func(n int) *apply.Result {
		r := &apply.Result{}
		for i := range n {
			r.Changes = append(r.Changes, apply.ChangeResult{Address: "real.x/" + string(rune('a'+i)), Outcome: apply.Done})
		}
		return r
	}
	tests := []struct {
		name string
		res  *apply.Result
		want string
	}{
		{"no result", nil, ""},
		{"no changes", changes(0), ""},
		{"two", changes(2), "done real.x/a, done real.x/b"},
		{"capped", changes(summaryMax + 2), "done real.x/a, done real.x/b, done real.x/c, done real.x/d, done real.x/e, done real.x/f, done real.x/g, done real.x/h, done real.x/i, done real.x/j, and 2 more"},
	}
	for _, tt := range tests {
		if got := summary(tt.res); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

// gatedChecker is a checker whose start waits until open is closed: an
// lbx-check slow to come up.
type gatedChecker struct{ started, open chan struct{} }

func (c *gatedChecker) Start(context.Context, []check.Target, func([]check.Transition)) error {
	close(c.started)
	<-c.open
	return nil
}
func (c *gatedChecker) Update([]check.Target) error           { return nil }
func (c *gatedChecker) Suspend(map[model.RealID]bool)         {}
func (c *gatedChecker) Stop()                                 {}
func (c *gatedChecker) Health() map[model.RealID]model.Health { return map[model.RealID]model.Health{} }
func (c *gatedChecker) Stats() []check.TargetStats            { return nil }

// The IPVS table is made at the start without waiting for the checker
// (as keepalived's checker makes it before its first probe): while the
// checker is still starting, a checked real server is in, and one under
// alpha is not, until its checks pass.
func TestTableBeforeChecker(t *testing.T) {
	dir := t.TempDir()
	k := kerneltest.NewFakeKernel("eth0")
	m, file := loadModel(t, dir, `version: 1
virtual_servers:
  - address: 10.0.0.1
    port: 80
    real_servers: [{address: 10.1.0.1, port: 80, checks: [{type: tcp}]}]
  - address: 10.0.0.2
    port: 80
    alpha: true
    real_servers: [{address: 10.1.0.2, port: 80, checks: [{type: tcp}]}]
`)
	c := &gatedChecker{started: make(chan struct{}), open: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Model: m, File: file, StateDir: dir, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			OpenKernel: func() (kernel.Kernel, error) { return k, nil },
			NewChecker: func(*slog.Logger) Checker { return c }})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("Run: %v", err)
		}
	}()
	select {
	case <-c.started:
	case <-time.After(5 * time.Second):
		t.Fatal("the checker was not started")
	}
	defer close(c.open)
	testkit.Eventually(t, "both services in the kernel while the checker starts", 5*time.Second, func() bool {
		return len(k.State().Services) == 2
	})
	for addr, want := range map[string]int{"10.0.0.1": 1, "10.0.0.2": 0} {
		key := state.ServiceKey{Protocol: state.TCP, Addr: netip.MustParseAddr(addr), Port: 80, Family: state.IPv4}
		svc := k.State().Services[key]
		if svc == nil || len(svc.Reals) != want {
			t.Errorf("service %s: %+v; want %d real servers", addr, svc, want)
		}
	}
}
