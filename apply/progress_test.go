package apply

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/progress"
	"github.com/lbx-dev/lbx/internal/testkit"
	"github.com/lbx-dev/lbx/kernel"
	"github.com/lbx-dev/lbx/kernel/kerneltest"
	"github.com/lbx-dev/lbx/plan"
	"github.com/lbx-dev/lbx/state"
)

// TestDrainProgress drives a real drain (the fake kernel's real server
// keeps its connections) on a fake clock, with lbx apply's reporter
// ticked at every poll: "still draining" every 10 s until the drain
// timeout deletes the server, and nothing after.
func TestDrainProgress(t *testing.T) {
	svc := state.ServiceKey{Protocol: state.TCP, Addr: netip.MustParseAddr("10.0.0.1"), Port: 80, Family: state.IPv4}
	rk := state.RealKey{Addr: netip.MustParseAddr("10.1.0.2"), Port: 80}
	removed := strings.Replace(base, "      - {address: 10.1.0.2, weight: 2, forwarding: dr}\n", "", 1)
	for _, tc := range []struct {
		name     string
		idleAt   time.Duration // connections end then; 0: never
		timeout  string        // the service's drain_timeout
		want     []string
		wantPoll int
	}{
		{"never idle: reported until its timeout", 0, "35s", []string{"draining 10s", "draining 20s", "draining 30s"}, 35},
		{"idle after 12 s", 12 * time.Second, "35s", []string{"draining 10s"}, 12},
		{"quick drain: nothing", 3 * time.Second, "35s", nil, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y := strings.Replace(base, "drain_timeout: 10s", "drain_timeout: "+tc.timeout, 1)
			k := kerneltest.NewFakeKernel("eth0")
			reconcile(t, k, y, nil)
			k.Mutate(func(st *state.State) {
				r := st.Services[svc].Reals[rk]
				r.Counters.ActiveConns = 3
				st.Services[svc].Reals[rk] = r
			})
			start := time.Unix(1000, 0)
			now := start
			var got []string
			rep := progress.New(progress.Every, func() time.Time { return now }, func(step string, elapsed time.Duration) {
				verb, addr, _ := strings.Cut(step, " ")
				if addr != plan.RealAddress(svc, rk) {
					t.Errorf("step %q is not the drained server's", step)
				}
				got = append(got, fmt.Sprintf("%s %s", verb, elapsed))
			})
			polls := 0
			opts := Options{
				Progress: rep,
				Now:      func() time.Time { return now },
				Sleep: func(ctx context.Context, d time.Duration) error {
					polls++
					now = now.Add(d)
					if tc.idleAt > 0 && now.Sub(start) >= tc.idleAt {
						k.Mutate(func(st *state.State) {
							r := st.Services[svc].Reals[rk]
							r.Counters = state.Counters{}
							st.Services[svc].Reals[rk] = r
						})
					}
					rep.Tick()
					return nil
				},
			}
			_, res, err := Reconcile(context.Background(), k, testkit.Desired(t, strings.Replace(removed, "drain_timeout: 10s", "drain_timeout: "+tc.timeout, 1)), plan.Options{}, opts)
			if err != nil {
				t.Fatal(err)
			}
			if res.Deleted != 1 || polls != tc.wantPoll {
				t.Errorf("deleted %d after %d polls, want 1 after %d", res.Deleted, polls, tc.wantPoll)
			}
			// Ended with the drain: later ticks say nothing.
			now = now.Add(time.Minute)
			rep.Tick()
			if !slices.Equal(got, tc.want) {
				t.Errorf("progress %q, want %q", got, tc.want)
			}
		})
	}
}

// recordSteps records Begin and End calls.
type recordSteps struct{ calls []string }

func (r *recordSteps) Begin(s string) { r.calls = append(r.calls, "begin "+s) }
func (r *recordSteps) End(s string)   { r.calls = append(r.calls, "end "+s) }

// TestProgressSteps: each change is a step named with Terraform's verb,
// begun and ended in pairs, a batch of IPVS changes one step.
func TestProgressSteps(t *testing.T) {
	for _, tc := range []struct {
		name   string
		kernel func() kernel.Kernel
		want   []string
	}{
		{"one at a time", func() kernel.Kernel { return kerneltest.NewFakeKernel("eth0") }, []string{
			"begin creating service.tcp/10.0.0.1:80", "end creating service.tcp/10.0.0.1:80",
			"begin creating real.tcp/10.0.0.1:80/10.1.0.1:80", "end creating real.tcp/10.0.0.1:80/10.1.0.1:80",
		}},
		{"batched", func() kernel.Kernel { return kerneltest.BatchingFake{FakeKernel: kerneltest.NewFakeKernel("eth0")} }, []string{
			"begin writing 2 IPVS changes", "end writing 2 IPVS changes",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rec recordSteps
			y := "version: 1\nvirtual_servers:\n  - address: 10.0.0.1\n    port: 80\n    real_servers:\n      - {address: 10.1.0.1}\n"
			if _, _, err := Reconcile(context.Background(), tc.kernel(), testkit.Desired(t, y), plan.Options{}, Options{Progress: &rec}); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(rec.calls, tc.want) {
				t.Errorf("steps %q, want %q", rec.calls, tc.want)
			}
		})
	}
}
