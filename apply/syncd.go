package apply

import (
	"context"
	"errors"
	"fmt"

	"github.com/lbx-dev/lbx/plan"
	"github.com/lbx-dev/lbx/state"
)

// SyncDaemonKernel is a kernel that runs IPVS connection sync daemons.
type SyncDaemonKernel interface {
	// ReadSyncDaemons returns the running daemons (at most one per role),
	// every setting filled in.
	ReadSyncDaemons(ctx context.Context) ([]state.SyncDaemon, error)
	// StartSyncDaemon starts d: ErrExists when a daemon of its role runs,
	// InterfaceError when its interface does not exist.
	StartSyncDaemon(ctx context.Context, d state.SyncDaemon) error
	// StopSyncDaemon stops the daemon of a role: ErrNotFound when none runs.
	StopSyncDaemon(ctx context.Context, role state.SyncRole) error
}

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
func ReconcileSyncDaemons(ctx context.Context, k Kernel, want []state.SyncDaemon, mem *SyncDaemonMemory) ([]SyncDaemonResult, error) {
	sk, ok := k.(SyncDaemonKernel)
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
			if errors.Is(err, ErrNotFound) {
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
func (m *SyncDaemonMemory) record(ctx context.Context, sk SyncDaemonKernel, started map[state.SyncRole]state.SyncDaemon) {
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

// FakeMTU is the fake's MTU for every interface (a sync daemon's max_len
// follows it).
const FakeMTU = 1500

// ReadSyncDaemons returns the fake's daemons, as the kernel fills them in.
func (f *FakeKernel) ReadSyncDaemons(ctx context.Context) ([]state.SyncDaemon, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []state.SyncDaemon
	for _, role := range []state.SyncRole{state.SyncMaster, state.SyncBackup} {
		if d, ok := f.syncd[role]; ok {
			out = append(out, d)
		}
	}
	return out, nil
}

// StartSyncDaemon: EEXIST for a role that runs, ENODEV for a missing
// interface, as the kernel.
func (f *FakeKernel) StartSyncDaemon(ctx context.Context, d state.SyncDaemon) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.write(); err != nil {
		return err
	}
	if !f.Interfaces[d.Interface] {
		return &InterfaceError{Name: d.Interface} // ENODEV comes first
	}
	if _, ok := f.syncd[d.Role]; ok {
		return ErrExists
	}
	// The kernel's defaults and clamp (ip_vs_sync.c, start_sync_thread).
	if !d.Group.IsValid() {
		d.Group = state.SyncDefaultGroup
	}
	if d.MaxLen == 0 {
		d.MaxLen = state.SyncDefaultMaxLen(d.Role, d.Group, FakeMTU)
	}
	lowest := 1
	if d.Role == state.SyncBackup {
		lowest = 1024
	}
	d.MaxLen = min(max(d.MaxLen, lowest), 65535-state.SyncHeaderLen(d.Group))
	if d.Port == 0 {
		d.Port = state.SyncDefaultPort
	}
	if d.TTL == 0 {
		d.TTL = state.SyncDefaultTTL
	}
	if f.syncd == nil {
		f.syncd = map[state.SyncRole]state.SyncDaemon{}
	}
	f.syncd[d.Role] = d
	return nil
}

// StopSyncDaemon: ESRCH when no daemon of the role runs, as the kernel.
func (f *FakeKernel) StopSyncDaemon(ctx context.Context, role state.SyncRole) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.write(); err != nil {
		return err
	}
	if _, ok := f.syncd[role]; !ok {
		return ErrNotFound
	}
	delete(f.syncd, role)
	return nil
}
