package check

import (
	"slices"
	"strings"
	"time"

	"github.com/lbx-dev/lbx/check/checkspec"
)

// TargetStats are a real server's health and per-check counters, as plain
// data for a metrics exporter (lbx_check_up, lbx_check_latency_seconds,
// lbx_checks_total, lbx_checks_failed_total) and `lbx status`.
type TargetStats struct {
	ID checkspec.RealID
	// Also: the same real server under a group's other services, checked
	// once and reported under each.
	Also   []checkspec.RealID
	Up     bool
	Weight *int // misc_dynamic weight in force, if any
	Checks []CheckStats
}

// IDs are the real server under each service it is checked for.
func (t TargetStats) IDs() []checkspec.RealID {
	return append([]checkspec.RealID{t.ID}, t.Also...)
}

// LastCheck is the time and latency of the real server's latest probe.
func (t TargetStats) LastCheck() (time.Time, time.Duration) {
	var last time.Time
	var latency time.Duration
	for _, c := range t.Checks {
		if c.LastCheck.After(last) {
			last, latency = c.LastCheck, c.LastLatency
		}
	}
	return last, latency
}

// CheckStats are one check's counters.
type CheckStats struct {
	Type        string
	Up          bool
	LastLatency time.Duration
	LastReason  string // of the last probe; empty if it passed
	LastCheck   time.Time
	Total       uint64 // probes run
	Failed      uint64 // probes failed (retries included)
}

// Stats returns every target's stats, ordered by real server.
func (r *Runner) Stats() []TargetStats {
	r.mu.Lock()
	ts := make([]*target, 0, len(r.targets))
	for _, t := range r.targets {
		ts = append(ts, t)
	}
	slices.SortFunc(ts, func(a, b *target) int { return strings.Compare(a.name, b.name) })
	out := make([]TargetStats, len(ts))
	for i, t := range ts {
		out[i] = TargetStats{ID: t.id, Also: t.also, Up: t.up, Weight: copyInt(t.weight), Checks: make([]CheckStats, len(t.probes))}
		for j, p := range t.probes {
			out[i].Checks[j] = p.stats
			out[i].Checks[j].Up = p.m.up
		}
	}
	r.mu.Unlock()
	return out
}
