package ops

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/lbx-dev/lbx/internal/daemonview"
	"github.com/lbx-dev/lbx/internal/daemonview/modelview"
	"github.com/lbx-dev/lbx/internal/paths"
	"github.com/lbx-dev/lbx/internal/statusd"
	"github.com/lbx-dev/lbx/model"
)

// DaemonPlan is what a reload of a model would change in the running
// `lbx watch`: the objects only the daemon carries out (package
// daemonview). Changes is empty when no daemon runs; Note then says when
// those objects take effect.
type DaemonPlan struct {
	// Running: a daemon answered on the target's status socket.
	Running   bool                `json:"running"`
	PID       int                 `json:"pid,omitempty"`
	ModelFile string              `json:"model_file,omitempty"`
	Changes   []daemonview.Change `json:"changes"`
	Note      string              `json:"note,omitempty"`
}

// PlanDaemon diffs the daemon-owned part of m (node's view of file; node
// "" for a model without nodes) against the model in force in the
// target's `lbx watch`. With --live there is no daemon to ask, and a
// daemon running another node's view is not compared with this one: the
// note says so.
func PlanDaemon(ctx context.Context, m *model.Model, file, node string, t Target) (DaemonPlan, error) {
	next := modelview.Of(m)
	dp := DaemonPlan{Changes: []daemonview.Change{}}
	if t.Live != "" {
		if len(next) > 0 {
			dp.Note = fmt.Sprintf("--live: %s are lbx watch's and not compared (plan on the director to see them)", kinds(next))
		}
		return dp, nil
	}
	sock, err := paths.StatusSocket(t.RunDir, t.Netns)
	if err != nil {
		return dp, err
	}
	st, err := statusd.QueryRequest(ctx, sock, statusd.Request{DaemonModel: true})
	if errors.Is(err, statusd.ErrNotRunning) {
		if len(next) > 0 {
			dp.Note = fmt.Sprintf("no lbx watch is running: %s take effect when lbx watch starts", kinds(next))
		}
		return dp, nil
	}
	if err != nil {
		dp.Note = fmt.Sprintf("the daemon's changes are not shown: %v", err)
		return dp, nil
	}
	dp.Running, dp.PID, dp.ModelFile = true, st.Daemon.PID, st.Daemon.ModelFile
	if node != "" && st.Daemon.Node != "" && node != st.Daemon.Node {
		dp.Note = fmt.Sprintf("lbx watch (pid %d) runs node %s's view, not node %s's: the daemon's objects are not compared", st.Daemon.PID, st.Daemon.Node, node)
		return dp, nil
	}
	dp.Changes = daemonview.Diff(st.DaemonModel, next)
	if dp.Changes == nil {
		dp.Changes = []daemonview.Change{}
	}
	if abs, _ := filepath.Abs(file); abs != st.Daemon.ModelFile {
		dp.Note = fmt.Sprintf("lbx watch (pid %d) runs %s, not %s: the daemon's changes are against the model it runs", st.Daemon.PID, st.Daemon.ModelFile, abs)
	}
	return dp, nil
}

// kinds names the kinds of objects in a view, for a note: "VRRP
// instances and health checks".
func kinds(view []daemonview.Object) string {
	names := map[string]string{
		daemonview.KindVRRPInstance: "VRRP instances", daemonview.KindVRRPScript: "tracking scripts",
		daemonview.KindSyncGroup: "sync groups", daemonview.KindChecks: "health checks",
		daemonview.KindServiceHealth: "health checks", daemonview.KindSyncDaemon: "the IPVS sync daemon",
		daemonview.KindGlobal: "global daemon settings",
	}
	var out []string
	seen := map[string]bool{}
	for _, o := range view {
		if n := names[o.Kind]; n != "" && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	if len(out) > 1 {
		return strings.Join(out[:len(out)-1], ", ") + " and " + out[len(out)-1]
	}
	return strings.Join(out, "")
}
