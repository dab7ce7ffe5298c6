package apply

import (
	"context"
	"errors"
	"fmt"

	"github.com/lbx-dev/lbx/kernel"
	"github.com/lbx-dev/lbx/plan"
	"github.com/lbx-dev/lbx/state"
)

// SyncDaemonResult is one step and what became of it (nil: done).
type SyncDaemonResult struct {
	Step plan.SyncDaemonStep
	Err  error
}

// SyncDaemonMemory remembers how the kernel reports each daemon lbx
// started: it normalises settings (a backup's max_len is raised to at
// least 1024, any to at most 65535 less the headers),
// and the next reconcile must know that daemon for the one asked for, not
// replace it on every pass. The zero value is ready; one per kernel.
type SyncDaemonMemory struct {
	started map[state.SyncRole]startedDaemon
}

type startedDaemon struct{ asked, reported state.SyncDaemon }

// asAsked returns the live daemons with each one lbx started as it was
// asked for.
func (m *SyncDaemonMemory) asAsked(live []state.SyncDaemon) []state.SyncDaemon {
	out := make([]state.SyncDaemon, len(live))
	for i, l := range live {
		out[i] = l
		if s, ok := m.started[l.Role]; ok && s.reported == l {
			out[i] = s.asked
		}
	}
	return out
}

// ReconcileSyncDaemons makes the kernel's sync daemons the wanted ones
// (see plan.SyncDaemons) and returns each step taken. A step that fails
// does not stop the others: a master that cannot start must not keep the
// backup running. The error joins every failure.
func ReconcileSyncDaemons(ctx context.Context, k kernel.Kernel, want []state.SyncDaemon, mem *SyncDaemonMemory) ([]SyncDaemonResult, error) {
	sk, ok := k.(kernel.SyncDaemonKernel)
	if !ok {
		return nil, errors.New("this kernel handle cannot run IPVS sync daemons")
	}
	live, err := sk.ReadSyncDaemons(ctx)
	if err != nil {
		return nil, fmt.Errorf("read IPVS sync daemons: %w", err)
	}
	var res []SyncDaemonResult
	var errs []error
	started := map[state.SyncRole]state.SyncDaemon{}
	for _, s := range plan.SyncDaemons(mem.asAsked(live), want) {
		var err error
		if s.Action == plan.Delete {
			err = sk.StopSyncDaemon(ctx, s.Daemon.Role)
			if errors.Is(err, kernel.ErrNotFound) {
				err = nil // gone meanwhile: what was wanted
			}
		} else {
			err = sk.StartSyncDaemon(ctx, s.Daemon)
			if err == nil {
				started[s.Daemon.Role] = s.Daemon
			}
		}
		if err != nil {
			err = fmt.Errorf("%s: %w", s, err)
			errs = append(errs, err)
		}
		res = append(res, SyncDaemonResult{Step: s, Err: err})
	}
	if len(started) > 0 {
		// Without the read-back the next pass may restart a daemon the
		// kernel normalised, once; it runs, so this is no failure.
		mem.record(ctx, sk, started)
	}
	return res, errors.Join(errs...)
}

// record reads back the daemons just started, to know them next time.
func (m *SyncDaemonMemory) record(ctx context.Context, sk kernel.SyncDaemonKernel, started map[state.SyncRole]state.SyncDaemon) {
	live, err := sk.ReadSyncDaemons(ctx)
	if err != nil {
		return
	}
	if m.started == nil {
		m.started = map[state.SyncRole]startedDaemon{}
	}
	for _, l := range live {
		if asked, ok := started[l.Role]; ok {
			m.started[l.Role] = startedDaemon{asked: asked, reported: l}
		}
	}
}
