package main

import (
	"context"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/lbx-dev/lbx/internal/cli"
	"github.com/lbx-dev/lbx/internal/paths"
	"github.com/lbx-dev/lbx/internal/statusd"
)

func init() {
	var (
		socket, runDir string
		output         *Output
	)
	c := &cobra.Command{
		Use:   "status [-o text|json] [--socket PATH]",
		Short: "Show the running lbx watch's VRRP states, real server health and last reconcile",
		Long: `status asks the running lbx watch, over its unix socket, for its state: the
daemon (pid, start, model, last reload), every VRRP instance (state,
priority, since when and why; the virtual addresses it holds or would hold
as MASTER; the tracked scripts and interfaces that lower its priority or
hold it in FAULT), every real server's health (weight, last check, last
error, latency), the last reconcile and the counters.
It exits 1 with one line on stderr when no lbx watch is running.`,
		Example: `  lbx status
  lbx status -o json | jq '.vrrp[] | select(.state != "MASTER")'
  lbx status -o json | jq '.vrrp[].tracking[] | select(.fault or .applied_weight != 0)'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), 5*time.Second)
			defer cancel()
			if !cmd.Flags().Changed("socket") {
				var err error
				if socket, err = paths.StatusSocket(runDir, ""); err != nil { // this namespace's daemon
					return cli.Exit(cli.ExitError1, err)
				}
			}
			st, err := statusd.Query(ctx, socket)
			if err != nil {
				return cli.Exit(cli.ExitError1, err)
			}
			if output.JSON() {
				return writeJSON(os.Stdout, statusDoc{Status: st, OK: true})
			}
			return statusd.WriteText(os.Stdout, st, time.Now())
		},
	}
	output = OutputFlag(c, statusd.FormatVersion, "text", "json")
	c.Flags().StringVar(&socket, "socket", paths.HostStatusSocket, "the status socket of lbx watch (default: lbx.sock in --run-dir, suffixed by namespace inside `ip netns exec`)")
	c.Flags().StringVar(&runDir, "run-dir", paths.RunDir, "directory of lbx watch's status socket")
	addCommand(c)
}

// statusDoc is the daemon's status with ok, which every lbx document has.
type statusDoc struct {
	*statusd.Status
	OK bool `json:"ok"`
}
