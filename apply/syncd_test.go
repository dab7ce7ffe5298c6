package apply

import (
	"context"
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/kernel/kerneltest"
	"github.com/lbx-dev/lbx/plan"
	"github.com/lbx-dev/lbx/state"
)

func TestReconcileSyncDaemons(t *testing.T) {
	ctx := context.Background()
	d := func(role state.SyncRole, iface string, id int) state.SyncDaemon {
		return state.SyncDaemon{Role: role, Interface: iface, SyncID: id}
	}
	for _, tc := range []struct {
		name    string
		running []state.SyncDaemon // started before, by hand
		want    []state.SyncDaemon
		roles   map[state.SyncRole]int // sync id per running role after
		steps   int
		err     string
	}{
		{name: "start", want: []state.SyncDaemon{d(state.SyncBackup, "sy0", 7)},
			roles: map[state.SyncRole]int{state.SyncBackup: 7}, steps: 1},
		{name: "as wanted: no step (the kernel's defaults filled in)", running: []state.SyncDaemon{d(state.SyncBackup, "sy0", 7)},
			want: []state.SyncDaemon{d(state.SyncBackup, "sy0", 7)}, roles: map[state.SyncRole]int{state.SyncBackup: 7}},
		{name: "backup to master", running: []state.SyncDaemon{d(state.SyncBackup, "sy0", 7)},
			want: []state.SyncDaemon{d(state.SyncMaster, "sy0", 7)}, roles: map[state.SyncRole]int{state.SyncMaster: 7}, steps: 2},
		{name: "a foreign daemon in the slot is replaced", running: []state.SyncDaemon{d(state.SyncBackup, "sy0", 9)},
			want: []state.SyncDaemon{d(state.SyncBackup, "sy0", 7)}, roles: map[state.SyncRole]int{state.SyncBackup: 7}, steps: 2},
		{name: "a max_len the kernel raises (a backup's to 1024) is known on the next pass",
			want:  []state.SyncDaemon{{Role: state.SyncBackup, Interface: "sy0", SyncID: 7, MaxLen: 1000}},
			roles: map[state.SyncRole]int{state.SyncBackup: 7}, steps: 1},
		{name: "stop both", running: []state.SyncDaemon{d(state.SyncBackup, "sy0", 9), d(state.SyncMaster, "sy0", 7)},
			roles: map[state.SyncRole]int{}, steps: 2},
		{name: "a missing interface fails the start, the stop is still made", running: []state.SyncDaemon{d(state.SyncBackup, "sy0", 7)},
			want: []state.SyncDaemon{d(state.SyncMaster, "nope0", 7)}, roles: map[state.SyncRole]int{}, steps: 2,
			err: `start IPVS sync daemon master on nope0, sync id 7: interface "nope0" does not exist`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := kerneltest.NewFakeKernel("sy0")
			mem := &SyncDaemonMemory{}
			for _, r := range tc.running {
				if err := k.StartSyncDaemon(ctx, r); err != nil {
					t.Fatal(err)
				}
			}
			res, err := ReconcileSyncDaemons(ctx, k, tc.want, mem)
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("error %v, want %q", err, tc.err)
			}
			if len(res) != tc.steps {
				t.Errorf("%d steps %v, want %d", len(res), res, tc.steps)
			}
			live, _ := k.ReadSyncDaemons(ctx)
			got := map[state.SyncRole]int{}
			for _, l := range live {
				got[l.Role] = l.SyncID
			}
			if len(got) != len(tc.roles) {
				t.Errorf("running %v, want %v", got, tc.roles)
			}
			for role, id := range tc.roles {
				if g, ok := got[role]; !ok || g != id {
					t.Errorf("running %v, want %v", got, tc.roles)
				}
			}
			// Idempotent: a second pass has nothing to do, unless it failed.
			if tc.err == "" {
				if res, err := ReconcileSyncDaemons(ctx, k, tc.want, mem); err != nil || len(res) != 0 {
					t.Errorf("second pass: %v, %v", res, err)
				}
			}
		})
	}
}

// TestReconcileSyncDaemonsStoppedMeanwhile: a daemon that went away between
// the read and the stop (ESRCH) is what was wanted, not an error.
func TestReconcileSyncDaemonsStoppedMeanwhile(t *testing.T) {
	ctx := context.Background()
	k := &vanishing{FakeKernel: kerneltest.NewFakeKernel("sy0")}
	if err := k.StartSyncDaemon(ctx, state.SyncDaemon{Role: state.SyncMaster, Interface: "sy0"}); err != nil {
		t.Fatal(err)
	}
	res, err := ReconcileSyncDaemons(ctx, k, nil, &SyncDaemonMemory{})
	if err != nil || len(res) != 1 || res[0].Step.Action != plan.Delete || res[0].Err != nil {
		t.Errorf("got %v, %v; want one stop, done", res, err)
	}
}

// vanishing stops every daemon right after reading them.
type vanishing struct{ *kerneltest.FakeKernel }

func (v *vanishing) ReadSyncDaemons(ctx context.Context) ([]state.SyncDaemon, error) {
	ds, err := v.FakeKernel.ReadSyncDaemons(ctx)
	for _, d := range ds {
		v.FakeKernel.StopSyncDaemon(ctx, d.Role)
	}
	return ds, err
}
