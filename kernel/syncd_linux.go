package kernel

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/lbx-dev/lbx/kernel/ipvsnl"
	"github.com/lbx-dev/lbx/state"
)

// errMobySyncDaemons: moby/ipvs has no sync daemon commands.
var errMobySyncDaemons = errors.New("the moby IPVS writer (LBX_IPVS_WRITER=moby) cannot run IPVS sync daemons: unset LBX_IPVS_WRITER")

// noSyncDaemons is why a NetKernel without the batch writer runs no sync
// daemons: ErrAddressesOnly (lbx watch then opens IPVS) or the writer.
func (k *NetKernel) noSyncDaemons() error {
	if err := k.needIPVS(); err != nil {
		return err
	}
	return errMobySyncDaemons
}

func (k *NetKernel) ReadSyncDaemons(context.Context) ([]state.SyncDaemon, error) {
	return nil, k.noSyncDaemons()
}
func (k *NetKernel) StartSyncDaemon(context.Context, state.SyncDaemon) error {
	return k.noSyncDaemons()
}
func (k *NetKernel) StopSyncDaemon(context.Context, state.SyncRole) error { return k.noSyncDaemons() }

var syncStates = map[state.SyncRole]uint32{state.SyncMaster: ipvsnl.DaemonMaster, state.SyncBackup: ipvsnl.DaemonBackup}

// ReadSyncDaemons dumps the kernel's sync daemons.
func (k *BatchNetKernel) ReadSyncDaemons(ctx context.Context) ([]state.SyncDaemon, error) {
	var ds []ipvsnl.Daemon
	if err := k.call(ctx, "read IPVS sync daemons", func() (err error) { ds, err = k.conn.Daemons(); return }); err != nil {
		return nil, explain(err, "read IPVS sync daemons")
	}
	out := make([]state.SyncDaemon, 0, len(ds))
	for _, d := range ds {
		role := state.SyncMaster
		if d.State == ipvsnl.DaemonBackup {
			role = state.SyncBackup
		}
		out = append(out, state.SyncDaemon{Role: role, Interface: d.Interface, SyncID: int(d.SyncID),
			MaxLen: int(d.MaxLen), Group: d.Group, Port: int(d.Port), TTL: int(d.TTL)})
	}
	return out, nil
}

func (k *BatchNetKernel) StartSyncDaemon(ctx context.Context, d state.SyncDaemon) error {
	nd := ipvsnl.Daemon{State: syncStates[d.Role], Interface: d.Interface, SyncID: uint32(d.SyncID),
		MaxLen: uint16(d.MaxLen), Group: d.Group, Port: uint16(d.Port), TTL: uint8(d.TTL)}
	err := k.call(ctx, "start IPVS sync daemon", func() error { return k.conn.StartDaemon(nd) })
	switch {
	case err == nil:
		return nil
	case isErrno(err, unix.EEXIST):
		return ErrExists
	case isErrno(err, unix.ENODEV):
		return &InterfaceError{Name: d.Interface}
	case isErrno(err, unix.EADDRNOTAVAIL):
		return fmt.Errorf("interface %q has no address for the sync daemon's multicast: add one", d.Interface)
	}
	return explain(err, "start IPVS sync daemon")
}

func (k *BatchNetKernel) StopSyncDaemon(ctx context.Context, role state.SyncRole) error {
	err := k.call(ctx, "stop IPVS sync daemon", func() error { return k.conn.StopDaemon(syncStates[role]) })
	if isErrno(err, unix.ESRCH) {
		return ErrNotFound
	}
	return explainOrNil(err, "stop IPVS sync daemon")
}
