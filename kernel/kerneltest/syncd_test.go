package kerneltest

import (
	"context"
	"errors"
	"testing"

	"github.com/lbx-dev/lbx/kernel"
	"github.com/lbx-dev/lbx/state"
)

func TestFakeSyncDaemonQuirks(t *testing.T) {
	ctx := context.Background()
	k := NewFakeKernel("sy0")
	if err := k.StopSyncDaemon(ctx, state.SyncBackup); !errors.Is(err, kernel.ErrNotFound) {
		t.Errorf("stop of none: %v, want kernel.ErrNotFound (ESRCH)", err)
	}
	if err := k.StartSyncDaemon(ctx, state.SyncDaemon{Role: state.SyncBackup, Interface: "sy0", SyncID: 1}); err != nil {
		t.Fatal(err)
	}
	if err := k.StartSyncDaemon(ctx, state.SyncDaemon{Role: state.SyncBackup, Interface: "sy0", SyncID: 2}); !errors.Is(err, kernel.ErrExists) {
		t.Errorf("second backup: %v, want kernel.ErrExists (EEXIST)", err)
	}
	if err := k.StartSyncDaemon(ctx, state.SyncDaemon{Role: state.SyncMaster, Interface: "sy0", SyncID: 2}); err != nil {
		t.Errorf("a master beside the backup: %v (the kernel runs one of each)", err)
	}
}
