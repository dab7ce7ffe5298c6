package apply

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/lbx-dev/lbx/internal/testkit"
	"github.com/lbx-dev/lbx/kernel"
	"github.com/lbx-dev/lbx/kernel/kerneltest"
	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/plan"
	"github.com/lbx-dev/lbx/state"
)

const base = `version: 1
addresses:
  - {address: 192.0.2.10/24, interface: eth0, label: eth0:vip}
virtual_servers:
  - address: 10.0.0.1
    port: 80
    drain_timeout: 10s
    persistence: {timeout: 300s, granularity: 24}
    real_servers:
      - {address: 10.1.0.1, weight: 1}
      - {address: 10.1.0.2, weight: 2, forwarding: dr}
  - fwmark: 7
    scheduler: sh
    scheduler_flags: [sh-port]
    real_servers:
      - {address: 10.2.0.1}
`

// stateCmp compares states as the plan does: counters and origins are not
// settings. go-cmp gives a readable diff when a test fails.
var stateCmp = []cmp.Option{
	cmpopts.EquateComparable(netip.Addr{}, netip.Prefix{}),
	cmpopts.IgnoreFields(state.Real{}, "Counters"),
	cmpopts.IgnoreFields(state.Address{}, "Origin"),
	cmpopts.IgnoreFields(state.Route{}, "Origin"),
}

func reconcile(t *testing.T, k kernel.Kernel, y string, owner *OwnerRecord) (*plan.Plan, *Result, error) {
	t.Helper()
	return Reconcile(context.Background(), k, testkit.Desired(t, y), plan.Options{}, Options{Owner: owner})
}

func TestApplyIsIdempotent(t *testing.T) {
	k := kerneltest.NewFakeKernel("eth0")
	p, res, err := reconcile(t, k, base, nil)
	if err != nil {
		t.Fatal(err)
	}
	add, _, _ := p.Counts()
	if add != 6 || res.Added != 6 || res.KernelWrites != 6 {
		t.Fatalf("cold apply: plan adds %d, result %+v", add, res)
	}
	p, res, err = reconcile(t, k, base, nil)
	if err != nil || !p.Empty() || res.Changed || k.Writes != 6 {
		t.Fatalf("second apply changed something: %v %+v writes=%d", err, p.Changes, k.Writes)
	}
}

func TestOneWeightChangeIsOneWrite(t *testing.T) {
	k := kerneltest.NewFakeKernel("eth0")
	reconcile(t, k, base, nil)
	before := k.Writes
	_, res, err := reconcile(t, k, strings.Replace(base, "weight: 2", "weight: 3", 1), nil)
	if err != nil || res.KernelWrites != 1 || k.Writes-before != 1 {
		t.Fatalf("one weight change took %d writes (%v)", k.Writes-before, err)
	}
}

// TestPartialFailureConverges fails every write position in turn; a second
// apply must always reach exactly the desired state.
func TestPartialFailureConverges(t *testing.T) {
	want := testkit.Desired(t, base).State
	for n := 1; n <= 6; n++ {
		k := kerneltest.NewFakeKernel("eth0")
		k.FailWrite = n
		_, res, err := reconcile(t, k, base, nil)
		var pe *PartialError
		if !errors.As(err, &pe) {
			t.Fatalf("write %d: want PartialError, got %v", n, err)
		}
		if pe.Done != n-1 || res.Changes[n-1].Outcome != Failed {
			t.Fatalf("write %d: report says done=%d, outcome=%s", n, pe.Done, res.Changes[n-1].Outcome)
		}
		for i := n; i < len(res.Changes); i++ {
			if res.Changes[i].Outcome != Skipped {
				t.Fatalf("write %d: change %d outcome %s, want skipped", n, i, res.Changes[i].Outcome)
			}
		}
		k.FailWrite = 0
		if _, _, err := reconcile(t, k, base, nil); err != nil {
			t.Fatalf("write %d: re-run: %v", n, err)
		}
		if p := plan.Diff(testkit.Desired(t, base), k.State(), plan.Options{}); !p.Empty() {
			t.Fatalf("write %d: not converged: %+v", n, p.Changes)
		}
		if diff := cmp.Diff(want, k.State(), stateCmp...); diff != "" {
			t.Fatalf("write %d: kernel state differs from the model (-want +got):\n%s", n, diff)
		}
	}
}

// TestKeepGoing: with KeepGoing (lbx watch), a service the kernel refuses
// (its scheduler module is missing) does not stop the rest: the other
// service and the address are made, the refused service's real servers
// are not attempted, and the error names the failure and the counts.
// Without it the first failure stops the apply.
func TestKeepGoing(t *testing.T) {
	for _, tc := range []struct {
		keep, batch bool
	}{{false, false}, {true, false}, {false, true}, {true, true}} {
		keep := tc.keep
		k := kerneltest.NewFakeKernel("eth0")
		k.Schedulers = map[string]bool{"wlc": true} // no "sh": the fwmark service fails
		p := plan.Diff(testkit.Desired(t, base), k.State(), plan.Options{})
		var kern kernel.Kernel = k
		if tc.batch {
			kern = kerneltest.BatchingFake{FakeKernel: k} // the service and its real servers in one batch
		}
		res, err := Execute(context.Background(), kern, p, Options{KeepGoing: keep})
		var pe *PartialError
		if !errors.As(err, &pe) || !strings.Contains(pe.Failed, "fwm") {
			t.Fatalf("%+v: want a PartialError naming the fwmark service, got %v", tc, err)
		}
		st := k.State()
		_, addr := st.Addresses[state.AddressKey{Interface: "eth0", Addr: netip.MustParseAddr("192.0.2.10")}]
		var tcp *state.Service
		for key, svc := range st.Services {
			if key.Protocol == state.TCP {
				tcp = svc
			}
		}
		outcomes := map[Outcome]int{}
		for _, c := range res.Changes {
			outcomes[c.Outcome]++
		}
		if !keep {
			if outcomes[Failed] != 1 || pe.Pending != outcomes[Skipped] {
				t.Errorf("%+v: stop at first failure: outcomes %v, pending %d", tc, outcomes, pe.Pending)
			}
			continue
		}
		if !addr || tcp == nil || len(tcp.Reals) != 2 {
			t.Errorf("%+v: address made %v, tcp service %+v; want both, with 2 real servers", tc, addr, tcp)
		}
		// The fwmark service failed, its one real server was not attempted.
		if outcomes[Failed] != 1 || outcomes[Skipped] != 1 || pe.Pending != 1 || pe.Done != outcomes[Done] || pe.More != 0 {
			t.Errorf("%+v: outcomes %v, error %+v", tc, outcomes, pe)
		}
	}
}

func TestDrain(t *testing.T) {
	k := kerneltest.NewFakeKernel("eth0")
	reconcile(t, k, base, nil)
	svc := state.ServiceKey{Protocol: state.TCP, Addr: netip.MustParseAddr("10.0.0.1"), Port: 80, Family: state.IPv4}
	rk := state.RealKey{Addr: netip.MustParseAddr("10.1.0.2"), Port: 80}
	k.Mutate(func(st *state.State) {
		r := st.Services[svc].Reals[rk]
		r.Counters.ActiveConns = 3
		st.Services[svc].Reals[rk] = r
	})
	now := time.Unix(1000, 0)
	var sawWeightZero bool
	polls := 0
	opts := Options{
		Now: func() time.Time { return now },
		Sleep: func(ctx context.Context, d time.Duration) error {
			polls++
			if r := k.State().Services[svc].Reals[rk]; r.Weight == 0 {
				sawWeightZero = true
			}
			if polls == 3 { // connections end after three polls
				k.Mutate(func(st *state.State) {
					r := st.Services[svc].Reals[rk]
					r.Counters = state.Counters{}
					st.Services[svc].Reals[rk] = r
				})
			}
			now = now.Add(d)
			return nil
		},
	}
	removed := strings.Replace(base, "      - {address: 10.1.0.2, weight: 2, forwarding: dr}\n", "", 1)
	_, res, err := Reconcile(context.Background(), k, testkit.Desired(t, removed), plan.Options{}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !sawWeightZero || polls != 3 {
		t.Errorf("drain: weight zero seen=%v, polls=%d (want 3)", sawWeightZero, polls)
	}
	if _, ok := k.State().Services[svc].Reals[rk]; ok || res.Deleted != 1 || res.KernelWrites != 2 {
		t.Errorf("drained server not deleted: %+v", res)
	}

	// A server that never goes idle is deleted at its timeout.
	k2 := kerneltest.NewFakeKernel("eth0")
	reconcile(t, k2, base, nil)
	k2.Mutate(func(st *state.State) {
		r := st.Services[svc].Reals[rk]
		r.Counters.InactiveConns = 1
		st.Services[svc].Reals[rk] = r
	})
	polls = 0
	opts.Sleep = func(ctx context.Context, d time.Duration) error { polls++; now = now.Add(d); return nil }
	if _, _, err := Reconcile(context.Background(), k2, testkit.Desired(t, removed), plan.Options{}, opts); err != nil {
		t.Fatal(err)
	}
	if polls != 10 {
		t.Errorf("busy server deleted after %d polls, want 10 (timeout 10s, poll 1s)", polls)
	}
}

func TestOwnership(t *testing.T) {
	dir := t.TempDir()
	owner, err := OpenOwnerRecord(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	k := kerneltest.NewFakeKernel("eth0")
	// A stranger's service exists before lbx runs.
	stranger := state.ServiceKey{Protocol: state.UDP, Addr: netip.MustParseAddr("10.9.9.9"), Port: 53, Family: state.IPv4}
	k.Mutate(func(st *state.State) {
		st.Services[stranger] = &state.Service{Key: stranger, Scheduler: "rr", NetmaskBits: 32, Reals: map[state.RealKey]state.Real{}}
	})
	if _, _, err := reconcile(t, k, base, owner); err != nil {
		t.Fatal(err)
	}
	// Reload from disk: the record survives the process.
	owner, _ = OpenOwnerRecord(dir, "")
	if o := owner.Owned(); len(o.Services) != 2 || len(o.Addresses) != 1 {
		t.Fatalf("record = %+v", o)
	}
	// Removing everything from the model deletes what lbx made, not the stranger's.
	if _, _, err := reconcile(t, k, "version: 1\n", owner); err != nil {
		t.Fatal(err)
	}
	st := k.State()
	if len(st.Services) != 1 || st.Services[stranger] == nil || len(st.Addresses) != 0 {
		t.Fatalf("after emptying the model: %d services, %d addresses", len(st.Services), len(st.Addresses))
	}
	if o := owner.Owned(); len(o.Services) != 0 || len(o.Addresses) != 0 {
		t.Errorf("record not released: %+v", o)
	}
	// A damaged record is refused with advice, not ignored.
	os.WriteFile(filepath.Join(dir, "owned-host.json"), []byte("{"), 0o644)
	if _, err := OpenOwnerRecord(dir, ""); err == nil || !strings.Contains(err.Error(), "move it away") {
		t.Errorf("damaged record: %v", err)
	}
}

func TestClaimBeforeCreate(t *testing.T) {
	// A crash after the first create must leave that service owned.
	dir := t.TempDir()
	owner, _ := OpenOwnerRecord(dir, "")
	k := kerneltest.NewFakeKernel("eth0")
	k.FailWrite = 2
	reconcile(t, k, base, owner)
	reread, _ := OpenOwnerRecord(dir, "")
	if len(reread.Owned().Services) != 2 {
		t.Errorf("write-ahead claim missing: %+v", reread.Owned())
	}
}

func TestFakeKernelQuirks(t *testing.T) {
	k := kerneltest.NewFakeKernel("eth0")
	ctx := context.Background()
	a := state.Address{Key: state.AddressKey{Interface: "eth9", Addr: netip.MustParseAddr("192.0.2.1")}, Bits: 24}
	var ie *kernel.InterfaceError
	if err := k.AddAddress(ctx, a); !errors.As(err, &ie) {
		t.Errorf("missing interface: %v", err)
	}
	svc := &state.Service{Key: state.ServiceKey{Protocol: state.TCP, Addr: netip.MustParseAddr("10.0.0.1"), Port: 80, Family: state.IPv4}, Scheduler: "rr"}
	k.CreateService(ctx, svc)
	if err := k.CreateService(ctx, svc); !errors.Is(err, kernel.ErrExists) {
		t.Errorf("duplicate create: %v", err)
	}
	if err := k.DeleteReal(ctx, svc.Key, state.RealKey{}); !errors.Is(err, kernel.ErrNotFound) {
		t.Errorf("missing real: %v", err)
	}
	k.Schedulers = map[string]bool{"rr": true}
	svc2 := *svc
	svc2.Key.Port = 81
	svc2.Scheduler = "mh"
	if err := k.CreateService(ctx, &svc2); err == nil {
		t.Error("unknown scheduler accepted")
	}
}

func TestLockNamesHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	l, err := AcquireLock(context.Background(), path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_, err = AcquireLock(context.Background(), path, 200*time.Millisecond)
	var held *LockHeldError
	if !errors.As(err, &held) || !strings.Contains(err.Error(), "pid ") || !strings.Contains(err.Error(), "since ") {
		t.Fatalf("second lock: %v", err)
	}
	l.Release()
	l2, err := AcquireLock(context.Background(), path, time.Second)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	l2.Release()
}

// TestBatchPath runs the executor's batch path (pipelined writes) against
// the fake, with the kernel's behaviour of going on after a failed message.
func TestBatchPath(t *testing.T) {
	k := kerneltest.NewFakeKernel("eth0")
	b := kerneltest.BatchingFake{FakeKernel: k}
	_, res, err := Reconcile(context.Background(), b, testkit.Desired(t, base), plan.Options{}, Options{})
	if err != nil || res.Added != 6 || res.KernelWrites != 6 {
		t.Fatalf("cold batch apply: %v %+v", err, res)
	}
	p, _, _ := Reconcile(context.Background(), b, testkit.Desired(t, base), plan.Options{}, Options{})
	if !p.Empty() {
		t.Fatalf("not idempotent: %+v", p.Changes)
	}
	_, res, _ = Reconcile(context.Background(), b, testkit.Desired(t, strings.Replace(base, "weight: 2", "weight: 3", 1)), plan.Options{}, Options{})
	if res.KernelWrites != 1 {
		t.Errorf("one weight change: %d writes", res.KernelWrites)
	}
	for n := 1; n <= 5; n++ { // the 5 IPVS writes of a cold apply
		k := kerneltest.NewFakeKernel("eth0")
		k.FailWrite = n
		b := kerneltest.BatchingFake{FakeKernel: k}
		_, res, err := Reconcile(context.Background(), b, testkit.Desired(t, base), plan.Options{}, Options{})
		var pe *PartialError
		if !errors.As(err, &pe) {
			t.Fatalf("write %d: want PartialError, got %v", n, err)
		}
		failed := 0
		for _, c := range res.Changes {
			if c.Outcome == Failed {
				failed++
			}
		}
		if failed == 0 || res.Changes[n-1].Outcome != Failed {
			t.Fatalf("write %d: outcomes %+v", n, res.Changes)
		}
		// The address (after the IPVS batch) was not attempted.
		if last := res.Changes[len(res.Changes)-1]; last.Outcome != Skipped {
			t.Errorf("write %d: address outcome %s, want skipped", n, last.Outcome)
		}
		k.FailWrite = 0
		if _, _, err := Reconcile(context.Background(), b, testkit.Desired(t, base), plan.Options{}, Options{}); err != nil {
			t.Fatalf("write %d: re-run: %v", n, err)
		}
		if p := plan.Diff(testkit.Desired(t, base), k.State(), plan.Options{}); !p.Empty() {
			t.Fatalf("write %d: not converged: %+v", n, p.Changes)
		}
	}
	// A create that meets an object made behind lbx's back becomes an update.
	k = kerneltest.NewFakeKernel("eth0")
	d := testkit.Desired(t, base)
	p = plan.Diff(d, k.State(), plan.Options{})
	svc := state.ServiceKey{Protocol: state.TCP, Addr: netip.MustParseAddr("10.0.0.1"), Port: 80, Family: state.IPv4}
	k.Mutate(func(st *state.State) {
		st.Services[svc] = &state.Service{Key: svc, Scheduler: "rr", NetmaskBits: 32, Reals: map[state.RealKey]state.Real{}}
	})
	if _, err := Execute(context.Background(), kerneltest.BatchingFake{FakeKernel: k}, p, Options{}); err != nil {
		t.Fatal(err)
	}
	if got := k.State().Services[svc].Scheduler; got != "wlc" {
		t.Errorf("existing service not updated to the plan: scheduler %s", got)
	}
}

// TestReconcileReals: a health transition's reconcile reads and changes
// only the real servers of its services, and falls back to a whole
// reconcile when a service is missing from the kernel or the model.
func TestReconcileReals(t *testing.T) {
	ctx := context.Background()
	d0 := testkit.Desired(t, base)
	var svcA, svcB state.ServiceKey
	for k := range d0.State.Services {
		if k.Port == 80 {
			svcA = k
		} else {
			svcB = k
		}
	}
	changed := strings.NewReplacer("{address: 10.1.0.1, weight: 1}", "{address: 10.1.0.1, weight: 5}", "{address: 10.2.0.1}", "{address: 10.2.0.1, weight: 9}").Replace(base)
	tests := []struct {
		name      string
		drift     func(st *state.State)
		keys      []state.ServiceKey
		needWhole bool // ErrNeedWhole, nothing changed
	}{
		{"only the named service", nil, []state.ServiceKey{svcA}, false},
		{"a real server deleted by hand in it comes back", func(st *state.State) {
			delete(st.Services[svcA].Reals, state.RealKey{Addr: netip.MustParseAddr("10.1.0.2"), Port: 80})
		}, []state.ServiceKey{svcA}, false},
		{"service gone from the kernel", func(st *state.State) { delete(st.Services, svcA) }, []state.ServiceKey{svcA}, true},
		{"service not in the model", nil, []state.ServiceKey{svcA, {Protocol: "udp", Addr: netip.MustParseAddr("10.9.9.9"), Port: 53, Family: svcA.Family}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := kerneltest.NewFakeKernel("eth0")
			if _, _, err := Reconcile(ctx, k, d0, plan.Options{}, Options{}); err != nil {
				t.Fatal(err)
			}
			if tt.drift != nil {
				k.Mutate(tt.drift)
			}
			k.Reads, k.Writes = 0, 0
			before := k.State()
			m := testkit.Model(t, changed)
			only := map[state.ServiceKey]bool{}
			for _, key := range tt.keys {
				only[key] = true
			}
			_, _, err := ReconcileReals(ctx, k, model.CompileServices(m, model.Facts{}, only), tt.keys, plan.Options{}, Options{})
			if k.Reads != 0 {
				t.Errorf("%d whole-table reads", k.Reads)
			}
			if tt.needWhole {
				if !errors.Is(err, ErrNeedWhole) || k.Writes != 0 {
					t.Errorf("err %v after %d writes, want ErrNeedWhole and none", err, k.Writes)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			after := k.State()
			if w := after.Services[svcA].Reals[state.RealKey{Addr: netip.MustParseAddr("10.1.0.1"), Port: 80}].Weight; w != 5 {
				t.Errorf("service A real weight %d, want 5", w)
			}
			if len(after.Services[svcA].Reals) != 2 {
				t.Errorf("service A has %d real servers, want 2", len(after.Services[svcA].Reals))
			}
			if !cmp.Equal(before.Services[svcB], after.Services[svcB], stateCmp...) {
				t.Errorf("service B changed: %s", cmp.Diff(before.Services[svcB], after.Services[svcB], stateCmp...))
			}
			if !cmp.Equal(before.Addresses, after.Addresses, stateCmp...) {
				t.Errorf("addresses changed: %s", cmp.Diff(before.Addresses, after.Addresses, stateCmp...))
			}
		})
	}
}

// TestDrainsAcrossReconciles: with Drains (lbx watch), a removed real
// server with connections goes to weight 0 and stays, reconcile after
// reconcile, without the reconcile waiting; it is deleted at its deadline
// (or once idle); one put back in the model meanwhile gets its weight back.
func TestDrainsAcrossReconciles(t *testing.T) {
	svc := state.ServiceKey{Protocol: state.TCP, Addr: netip.MustParseAddr("10.0.0.1"), Port: 80, Family: state.IPv4}
	rk := state.RealKey{Addr: netip.MustParseAddr("10.1.0.2"), Port: 80}
	without := strings.Replace(base, "      - {address: 10.1.0.2, weight: 2, forwarding: dr}\n", "", 1)
	for _, tc := range []struct {
		name   string
		after  string        // the model of the last reconcile
		wait   time.Duration // clock advance before it
		down   bool          // 10.1.0.2 fails its checks then
		weight int           // of 10.1.0.2 after it; -1: deleted
	}{
		{"still busy: held at weight 0", without, 5 * time.Second, false, 0},
		{"past its deadline: deleted", without, 11 * time.Second, false, -1},
		{"back in the model: its weight again", base, 5 * time.Second, false, 2},
		{"back in the model but down: deleted at once", base, 5 * time.Second, true, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Unix(1000, 0)
			dr := NewDrains(func() time.Time { return now })
			k := kerneltest.NewFakeKernel("eth0")
			run := func(y string, down bool) {
				t.Helper()
				m := testkit.Model(t, y)
				var f model.Facts
				if down {
					f.Health = map[model.RealID]model.Health{{Service: svc, Real: rk}: {Up: false}}
				}
				start := time.Now()
				if _, _, err := Reconcile(context.Background(), k, model.Compile(m, f), plan.Options{}, Options{Drains: dr}); err != nil {
					t.Fatal(err)
				}
				if took := time.Since(start); took > 500*time.Millisecond {
					t.Fatalf("a reconcile took %s: it waited for the drain", took)
				}
			}
			run(base, false)
			k.Mutate(func(st *state.State) {
				r := st.Services[svc].Reals[rk]
				r.Counters.ActiveConns = 3
				st.Services[svc].Reals[rk] = r
			})
			run(without, false)
			if r, ok := k.State().Services[svc].Reals[rk]; !ok || r.Weight != 0 || dr.Len() != 1 {
				t.Fatalf("after the removal: %+v %v, %d draining; want weight 0, one draining", r, ok, dr.Len())
			}
			now = now.Add(tc.wait)
			run(tc.after, tc.down)
			r, ok := k.State().Services[svc].Reals[rk]
			switch {
			case tc.weight < 0 && ok:
				t.Errorf("still in at weight %d", r.Weight)
			case tc.weight >= 0 && (!ok || r.Weight != tc.weight):
				t.Errorf("got %+v %v, want weight %d", r, ok, tc.weight)
			}
		})
	}
}
