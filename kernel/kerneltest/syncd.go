package kerneltest

import (
	"context"

	"github.com/lbx-dev/lbx/kernel"
	"github.com/lbx-dev/lbx/state"
)

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
		return &kernel.InterfaceError{Name: d.Interface} // ENODEV comes first
	}
	if _, ok := f.syncd[d.Role]; ok {
		return kernel.ErrExists
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
		return kernel.ErrNotFound
	}
	delete(f.syncd, role)
	return nil
}
