// Package checkproc runs lbx's health checks in a process of their own, as
// keepalived and seesaw do: the checker child links only the checks (no
// model, YAML or flag library) and a crash in it takes down neither VRRP
// nor the kernel writer, which keep the last known health while the child
// is restarted.
//
// The parent (Client) and the child (Serve) talk JSON lines over a
// socketpair, the child's fd 3. The parent sends requests — hello (first:
// the child answers with its Build, and the parent refuses a checker of
// another build), update (the first one starts the checks), suspend,
// health, stats — and the child
// replies to each that carries a sequence number; health transitions are
// pushed as they happen. Checks cross as their effective checkspec.Check
// (check.Probe.Spec), from which check.Build makes the same checker.
package checkproc

import (
	"fmt"

	"github.com/lbx-dev/lbx/check"
	"github.com/lbx-dev/lbx/check/checkspec"
)

// Request ops, parent to child.
const (
	opHello   = "hello"
	opUpdate  = "update"
	opSuspend = "suspend"
	opHealth  = "health"
	opStats   = "stats"
)

// Message ops, child to parent.
const (
	opReply  = "reply"
	opReport = "report"
)

// request is one line from the parent. Seq 0 asks for no reply (suspend:
// the engine sends it while holding its own lock and must not wait).
type request struct {
	Seq     uint64             `json:"seq,omitempty"`
	Op      string             `json:"op"`
	Targets []target           `json:"targets,omitempty"`
	Suspend []checkspec.RealID `json:"suspend,omitempty"`
}

// target is check.Target with its probes as plain data.
type target struct {
	ID     checkspec.RealID   `json:"id"`
	Also   []checkspec.RealID `json:"also,omitempty"`
	Alpha  bool               `json:"alpha,omitempty"`
	Checks []checkspec.Check  `json:"checks"`
}

// message is one line from the child: a reply to request Seq, or a report
// of transitions.
type message struct {
	Op          string              `json:"op"`
	Seq         uint64              `json:"seq,omitempty"`
	Err         string              `json:"err,omitempty"`
	Build       *Build              `json:"build,omitempty"` // the reply to hello
	Health      []healthOf          `json:"health,omitempty"`
	Stats       []check.TargetStats `json:"stats,omitempty"`
	Transitions []check.Transition  `json:"transitions,omitempty"`
}

// healthOf is one entry of check.Runner.Health (JSON has no struct keys).
type healthOf struct {
	ID     checkspec.RealID `json:"id"`
	Health checkspec.Health `json:"health"`
}

func wireTargets(ts []check.Target) []target {
	out := make([]target, len(ts))
	for i, t := range ts {
		w := target{ID: t.ID, Also: t.Also, Alpha: t.Alpha, Checks: make([]checkspec.Check, len(t.Checks))}
		for j, p := range t.Checks {
			w.Checks[j] = p.Spec
		}
		out[i] = w
	}
	return out
}

// checkTargets builds the child's checkers from the wire; the error names
// the real server.
func checkTargets(ws []target) ([]check.Target, error) {
	out := make([]check.Target, len(ws))
	for i, w := range ws {
		t := check.Target{ID: w.ID, Also: w.Also, Alpha: w.Alpha, Checks: make([]check.Probe, len(w.Checks))}
		for j, spec := range w.Checks {
			c, s, err := check.Build(spec)
			if err != nil {
				return nil, fmt.Errorf("%s: check %s: %w", checkspec.Describe(w.ID), spec.Type, err)
			}
			t.Checks[j] = check.Probe{Checker: c, Settings: s, Spec: spec}
		}
		out[i] = t
	}
	return out, nil
}

func healthList(h map[checkspec.RealID]checkspec.Health) []healthOf {
	out := make([]healthOf, 0, len(h))
	for id, v := range h {
		out = append(out, healthOf{ID: id, Health: v})
	}
	return out
}

func healthMap(l []healthOf) map[checkspec.RealID]checkspec.Health {
	out := make(map[checkspec.RealID]checkspec.Health, len(l))
	for _, e := range l {
		out[e.ID] = e.Health
	}
	return out
}
