package fsm

import (
	"fmt"
	"slices"
	"time"
)

// Group is a sync group (keepalived's vrrp_sync_group): its members change
// state together. When one becomes master the backups follow; when a master
// falls back to backup the other masters follow; when one enters FAULT the
// others are forced into FAULT until no member has a fault of its own.
type Group struct {
	Name    string
	Members []*Machine
}

// OwnFault reports whether the machine is in FAULT for a reason of its own
// (a tracked object), not one imposed by its group.
func (m *Machine) OwnFault() bool {
	for _, t := range m.cfg.Tracks {
		if t.Weight == 0 && !m.trackUp[t.Key] {
			return true
		}
	}
	return false
}

// Follow returns what the other members must do after member `from` made
// transition tr. The caller feeds the resulting transitions back into Follow
// until none remain; it terminates because forced moves only happen from
// the state being left.
func (g *Group) Follow(now time.Time, from *Machine, tr Transition) map[*Machine][]Effect {
	out := map[*Machine][]Effect{}
	anyOwnFault := false
	for _, m := range g.Members {
		if m.OwnFault() {
			anyOwnFault = true
		}
	}
	for _, m := range g.Members {
		if m == from {
			continue
		}
		var e []Effect
		reason := fmt.Sprintf("sync group %s: %s is %s", g.Name, from.cfg.Name, tr.To)
		switch {
		case tr.To == Fault && from.OwnFault():
			e = m.ForceFault(now, reason)
		case tr.To == Fault:
			// A member forced into FAULT forces nobody: otherwise members
			// would hold each other in FAULT forever.
		case tr.From == Fault && !anyOwnFault:
			e = m.ForceFault(now, "")
		case tr.To == Master:
			e = m.ForceMaster(now, reason)
		case tr.To == Backup && tr.From == Master:
			e = m.ForceBackup(now, reason)
		}
		if len(e) > 0 {
			// Copied: applying one member's effects may call another's
			// machine, whose buffer holds them.
			out[m] = slices.Clone(e)
		}
	}
	return out
}
