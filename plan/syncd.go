package plan

import "github.com/lbx-dev/lbx/state"

// SyncDaemonStep is one start (Create) or stop (Delete) of an IPVS
// connection sync daemon. The kernel cannot change a running daemon, so
// a change is a stop and a start.
type SyncDaemonStep struct {
	Action Action           `json:"action"`
	Daemon state.SyncDaemon `json:"daemon"`
}

func (s SyncDaemonStep) String() string {
	verb := "start"
	if s.Action == Delete {
		verb = "stop"
	}
	return verb + " IPVS sync daemon " + s.Daemon.String()
}

// SyncDaemons plans the steps from the running daemons to the wanted ones
// (at most one of each role in either): a running daemon that is not
// wanted, or not as wanted, is stopped; a wanted one not running as
// wanted is started. Stops come first, as keepalived's ipvs_syncd_master
// stops the backup before it starts the master.
func SyncDaemons(live, want []state.SyncDaemon) []SyncDaemonStep {
	var stops, starts []SyncDaemonStep
	for _, role := range []state.SyncRole{state.SyncMaster, state.SyncBackup} {
		l, running := roleOf(live, role)
		w, wanted := roleOf(want, role)
		if running && wanted && w.SatisfiedBy(l) {
			continue
		}
		if running {
			stops = append(stops, SyncDaemonStep{Action: Delete, Daemon: l})
		}
		if wanted {
			starts = append(starts, SyncDaemonStep{Action: Create, Daemon: w})
		}
	}
	return append(stops, starts...)
}

func roleOf(ds []state.SyncDaemon, role state.SyncRole) (state.SyncDaemon, bool) {
	for _, d := range ds {
		if d.Role == role {
			return d, true
		}
	}
	return state.SyncDaemon{}, false
}
