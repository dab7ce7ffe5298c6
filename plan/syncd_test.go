package plan

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lbx-dev/lbx/state"
)

func TestSyncDaemons(t *testing.T) {
	// live daemons as the kernel reports them: every setting filled in.
	kernel := func(role state.SyncRole, iface string, id int) state.SyncDaemon {
		return state.SyncDaemon{Role: role, Interface: iface, SyncID: id, MaxLen: 1472,
			Group: netip.MustParseAddr("224.0.0.81"), Port: 8848, TTL: 1}
	}
	want := func(role state.SyncRole, iface string, id int) state.SyncDaemon {
		return state.SyncDaemon{Role: role, Interface: iface, SyncID: id}
	}
	start := func(d state.SyncDaemon) SyncDaemonStep { return SyncDaemonStep{Action: Create, Daemon: d} }
	stop := func(d state.SyncDaemon) SyncDaemonStep { return SyncDaemonStep{Action: Delete, Daemon: d} }
	tuned := want(state.SyncMaster, "sy0", 7)
	tuned.Port, tuned.TTL = 9000, 3
	tunedLive := kernel(state.SyncMaster, "sy0", 7)
	tunedLive.Port, tunedLive.TTL = 9000, 3
	withMaxLen := func(d state.SyncDaemon, n int) state.SyncDaemon { d.MaxLen = n; return d }
	v6Want := want(state.SyncMaster, "sy0", 7)
	v6Want.Group = netip.MustParseAddr("ff05::81")
	v6Live := kernel(state.SyncMaster, "sy0", 7)
	v6Live.Group, v6Live.MaxLen = v6Want.Group, 1452
	for _, tc := range []struct {
		name       string
		live, want []state.SyncDaemon
		steps      []SyncDaemonStep
	}{
		{"nothing", nil, nil, nil},
		{"start the backup at start", nil, []state.SyncDaemon{want(state.SyncBackup, "sy0", 7)},
			[]SyncDaemonStep{start(want(state.SyncBackup, "sy0", 7))}},
		{"kernel defaults satisfy a daemon that gives none",
			[]state.SyncDaemon{kernel(state.SyncBackup, "sy0", 7)}, []state.SyncDaemon{want(state.SyncBackup, "sy0", 7)}, nil},
		{"becoming master: the backup stopped before the master starts",
			[]state.SyncDaemon{kernel(state.SyncBackup, "sy0", 7)}, []state.SyncDaemon{want(state.SyncMaster, "sy0", 7)},
			[]SyncDaemonStep{stop(kernel(state.SyncBackup, "sy0", 7)), start(want(state.SyncMaster, "sy0", 7))}},
		{"a foreign sync id in the slot is replaced",
			[]state.SyncDaemon{kernel(state.SyncBackup, "sy0", 9)}, []state.SyncDaemon{want(state.SyncBackup, "sy0", 7)},
			[]SyncDaemonStep{stop(kernel(state.SyncBackup, "sy0", 9)), start(want(state.SyncBackup, "sy0", 7))}},
		{"another interface is replaced",
			[]state.SyncDaemon{kernel(state.SyncMaster, "eth1", 7)}, []state.SyncDaemon{want(state.SyncMaster, "sy0", 7)},
			[]SyncDaemonStep{stop(kernel(state.SyncMaster, "eth1", 7)), start(want(state.SyncMaster, "sy0", 7))}},
		{"a setting given and different is replaced",
			[]state.SyncDaemon{kernel(state.SyncMaster, "sy0", 7)}, []state.SyncDaemon{tuned},
			[]SyncDaemonStep{stop(kernel(state.SyncMaster, "sy0", 7)), start(tuned)}},
		{"settings given and equal", []state.SyncDaemon{tunedLive}, []state.SyncDaemon{tuned}, nil},
		{"a setting dropped from the model goes back to the kernel's default",
			[]state.SyncDaemon{tunedLive}, []state.SyncDaemon{want(state.SyncMaster, "sy0", 7)},
			[]SyncDaemonStep{stop(tunedLive), start(want(state.SyncMaster, "sy0", 7))}},
		{"as asked before (settings left out) and still so",
			[]state.SyncDaemon{want(state.SyncMaster, "sy0", 7)}, []state.SyncDaemon{want(state.SyncMaster, "sy0", 7)}, nil},
		{"as asked before with a ttl, now without",
			[]state.SyncDaemon{tuned}, []state.SyncDaemon{want(state.SyncMaster, "sy0", 7)},
			[]SyncDaemonStep{stop(tuned), start(want(state.SyncMaster, "sy0", 7))}},
		{"a master's max_len other than the default, left out of the model",
			[]state.SyncDaemon{withMaxLen(kernel(state.SyncMaster, "sy0", 7), 1000)}, []state.SyncDaemon{want(state.SyncMaster, "sy0", 7)},
			[]SyncDaemonStep{stop(withMaxLen(kernel(state.SyncMaster, "sy0", 7), 1000)), start(want(state.SyncMaster, "sy0", 7))}},
		{"a backup's default max_len follows a jumbo MTU",
			[]state.SyncDaemon{withMaxLen(kernel(state.SyncBackup, "sy0", 7), 8972)}, []state.SyncDaemon{want(state.SyncBackup, "sy0", 7)}, nil},
		{"a master's default max_len with an IPv6 group (1500 less 48)",
			[]state.SyncDaemon{v6Live}, []state.SyncDaemon{v6Want}, nil},
		{"stopping: both roles stopped, master first",
			[]state.SyncDaemon{kernel(state.SyncBackup, "sy0", 7), kernel(state.SyncMaster, "sy0", 7)}, nil,
			[]SyncDaemonStep{stop(kernel(state.SyncMaster, "sy0", 7)), stop(kernel(state.SyncBackup, "sy0", 7))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := SyncDaemons(tc.live, tc.want)
			if diff := cmp.Diff(tc.steps, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("steps (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSyncDaemonStepString(t *testing.T) {
	d := state.SyncDaemon{Role: state.SyncMaster, Interface: "sy0", SyncID: 7, Group: netip.MustParseAddr("239.1.1.1"), TTL: 3}
	if got, want := (SyncDaemonStep{Action: Create, Daemon: d}).String(), "start IPVS sync daemon master on sy0, sync id 7, group 239.1.1.1, ttl 3"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := (SyncDaemonStep{Action: Delete, Daemon: d}).String(); got[:5] != "stop " {
		t.Errorf("stop step printed %q", got)
	}
}
