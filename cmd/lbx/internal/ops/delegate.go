package ops

import (
	"context"
	"fmt"
	"path/filepath"
	"syscall"
	"time"

	"github.com/lbx-dev/lbx/apply"
	"github.com/lbx-dev/lbx/internal/cli"
	"github.com/lbx-dev/lbx/internal/daemonview"
	"github.com/lbx-dev/lbx/internal/paths"
	"github.com/lbx-dev/lbx/internal/statusd"
)

// DelegateToWatch hands `lbx apply -f FILE` to a running `lbx watch` of the
// same namespace: there is one writer, so the daemon reloads the file as a
// diff (keeping health, never flushing) instead of apply writing behind it.
// It returns handled=false when no daemon runs. daemon lists what the
// reload changed in the daemon's own objects (VRRP instances, checks...):
// its view of the model before the reload against the one after.
func DelegateToWatch(ctx context.Context, file string, t Target, timeout time.Duration) (handled bool, res *apply.Result, daemon []daemonview.Change, err error) {
	sock, err := paths.StatusSocket(t.RunDir, t.Netns)
	if err != nil {
		return true, nil, nil, err // not the host's daemon's socket
	}
	if _, err := statusd.Query(ctx, sock); err != nil {
		return false, nil, nil, nil
	}
	// A daemon runs, so apply never writes behind it: one whose model
	// cannot be read (an older lbx watch does not send it) is an error.
	withModel := statusd.Request{DaemonModel: true}
	before, err := statusd.QueryRequest(ctx, sock, withModel)
	if err != nil {
		return true, nil, nil, cli.Exit(cli.ExitError1, err)
	}
	abs, _ := filepath.Abs(file)
	if abs != before.Daemon.ModelFile {
		return true, nil, nil, cli.Exit(cli.ExitError1, fmt.Errorf("lbx watch (pid %d) runs %s, not %s: edit that file and run `lbx apply -f %s` (or systemctl reload lbx), or stop the daemon first",
			before.Daemon.PID, before.Daemon.ModelFile, abs, before.Daemon.ModelFile))
	}
	if t.Node != "" && before.Daemon.Node != "" && t.Node != before.Daemon.Node {
		return true, nil, nil, cli.Exit(cli.ExitError1, fmt.Errorf("lbx watch (pid %d) runs node %s's view of %s, not node %s's: leave out --node, or give --node %s",
			before.Daemon.PID, before.Daemon.Node, abs, t.Node, before.Daemon.Node))
	}
	if _, err := LoadModel(file); err != nil {
		return true, nil, nil, err
	}
	if err := syscall.Kill(before.Daemon.PID, syscall.SIGHUP); err != nil {
		return true, nil, nil, fmt.Errorf("signal lbx watch (pid %d): %w", before.Daemon.PID, err)
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		st, err := statusd.Query(ctx, sock)
		if err != nil {
			continue
		}
		if !st.Daemon.LastReload.After(before.Daemon.LastReload) {
			continue
		}
		if st.Daemon.LastReloadError != "" {
			return true, nil, nil, cli.Exit(cli.ExitError1, fmt.Errorf("lbx watch refused the reload (the running model stays): %s", st.Daemon.LastReloadError))
		}
		if r := st.LastReconcile; r != nil && !r.Time.Before(st.Daemon.LastReload) {
			// The polls above leave the model out (it is large); the
			// model after the reload is read once.
			after, err := statusd.QueryRequest(ctx, sock, withModel)
			if err != nil {
				return true, nil, nil, fmt.Errorf("lbx watch reloaded, but its model could not be read: %w", err)
			}
			daemon := daemonview.Diff(before.DaemonModel, after.DaemonModel)
			res := &apply.Result{Changed: r.Changes > 0 || len(daemon) > 0, Updated: r.Changes, KernelWrites: r.KernelWrites, Changes: []apply.ChangeResult{}}
			if r.Error != "" {
				return true, res, daemon, cli.Exit(cli.ExitPartial, fmt.Errorf("lbx watch reloaded, but its reconcile failed (it retries): %s", r.Error))
			}
			return true, res, daemon, nil
		}
	}
	return true, nil, nil, fmt.Errorf("lbx watch (pid %d) did not report the reload within %s; see its log", before.Daemon.PID, timeout)
}
