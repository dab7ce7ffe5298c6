package main

import (
	"context"
	"errors"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/lbx-dev/lbx/internal/ops"
	"github.com/lbx-dev/lbx/watch"
)

func init() {
	var file, stateDir, statsFile string
	c := &cobra.Command{
		Use:   "watch -f FILE",
		Short: "Stay resident: run VRRP and keep the kernel at the model (foreground)",
		Long: `watch runs the model's VRRP instances (v2/v3, keepalived-compatible) and
re-applies the model through the plan/apply path on every state change: a
MASTER owns its virtual addresses, a BACKUP or FAULT instance does not.
Logs go to stderr. SIGTERM or SIGINT stops cleanly: masters send priority 0
so that a backup takes over at once, and the addresses are removed.`,
		Example: `  lbx watch -f lbx.yaml
  lbx watch -f lbx.yaml --log-format json --stats-file /run/lbx/vrrp-stats.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if file == "" {
				return errors.New("give the model with -f FILE")
			}
			m, err := ops.LoadModel(file)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			return watch.Run(ctx, watch.Options{Model: m, StateDir: stateDir, StatsFile: statsFile})
		},
	}
	c.Flags().StringVarP(&file, "file", "f", "", "model file (YAML)")
	c.Flags().StringVar(&stateDir, "state-dir", ops.DefaultStateDir, "directory of the ownership record")
	c.Flags().StringVar(&statsFile, "stats-file", "", "write VRRP counters (drops by reason, adverts) as JSON to this file")
	addCommand(c)
}
