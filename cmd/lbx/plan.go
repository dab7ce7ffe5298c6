package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/lbx-dev/lbx/cmd/lbx/internal/ops"
	"github.com/lbx-dev/lbx/internal/cli"
	"github.com/lbx-dev/lbx/internal/daemonview"
	"github.com/lbx-dev/lbx/internal/paths"
	"github.com/lbx-dev/lbx/plan"
)

// targetFlags are the flags that say which kernel a command works on.
func targetFlags(c *cobra.Command, t *ops.Target) {
	c.Flags().StringVar(&t.Netns, "netns", "", "work inside the network namespace /run/netns/NAME")
	c.Flags().StringVar(&t.StateDir, "state-dir", paths.StateDir, "directory of lbx's ownership record")
	c.Flags().StringVar(&t.RunDir, "run-dir", paths.RunDir, "directory of the one-writer lock and of lbx watch's status socket")
}

func init() {
	var (
		file, out, node string
		detailed, prune bool
		t               ops.Target
		output          *Output
	)
	c := &cobra.Command{
		Use:   "plan -f FILE",
		Short: "Show the changes that would bring the live kernel to the model",
		Long: `plan compiles the model, reads the live state once (IPVS services and real
servers, interface addresses) and prints the difference Terraform-style:
+ create, - destroy, ~ update in place, -/+ replace.

Only objects the model declares, or that lbx created earlier, are shown;
other IPVS services and addresses are left alone unless --prune.`,
		Example: `  lbx plan -f lbx.yaml
  lbx plan -f lbx.yaml --detailed-exitcode   # 0 none, 1 error, 2 changes
  lbx plan -f lbx.yaml --out plan.json && lbx apply plan.json
  lbx plan -f lbx.yaml --live exported.yaml  # CI: plan against a recorded state`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			t.Prefetch(cmd.Context())
			m, name, err := ops.LoadView(file, node)
			if err != nil {
				return err
			}
			p, k, _, err := ops.Plan(cmd.Context(), m, t, prune)
			if err != nil {
				return err
			}
			if k != nil {
				k.Close()
			}
			if out != "" {
				if err := plan.Save(out, p, t.Netns, file); err != nil {
					return err
				}
			}
			dp, err := ops.PlanDaemon(cmd.Context(), m, file, name, t)
			if err != nil {
				return err
			}
			if dp.Note != "" {
				p.Notes = append(p.Notes, dp.Note)
			}
			if output.JSON() {
				doc := planDoc{JSONDoc: plan.JSON(p), OK: true, Daemon: dp}
				doc.Changed = doc.Changed || len(dp.Changes) > 0
				err = writeJSON(os.Stdout, doc)
			} else {
				err = plan.WriteText(os.Stdout, p, cli.Color(os.Stdout))
				if err == nil && len(dp.Changes) > 0 {
					err = writeDaemonPlan(os.Stdout, dp)
				}
				if out != "" {
					fmt.Fprintf(os.Stdout, "\nSaved the plan to %s. Apply exactly these changes with: lbx apply %s\n", out, out)
				}
			}
			if err != nil {
				return err
			}
			if detailed && (!p.Empty() || len(dp.Changes) > 0) {
				return cli.Exit(cli.ExitChanges, nil)
			}
			return nil
		},
	}
	c.Flags().StringVarP(&file, "file", "f", "", "model file (YAML)")
	output = OutputFlag(c, plan.FormatVersion, "text", "json")
	c.Flags().StringVar(&out, "out", "", "save the plan (with a fingerprint of the live state) to this file")
	c.Flags().BoolVar(&detailed, "detailed-exitcode", false, "exit 0 when there are no changes, 2 when there are, 1 on error")
	c.Flags().BoolVar(&prune, "prune", false, "also delete IPVS services the model does not declare")
	c.Flags().StringVar(&t.Live, "live", "", "plan against this exported state (lbx export) instead of the kernel")
	targetFlags(c, &t)
	nodeFlag(c, &node)
	c.MarkFlagRequired("file")
	addCommand(c)
}

// planDoc is plan's JSON document with ok, which every lbx document has,
// and what a reload would change in the running lbx watch (changed counts
// those too).
type planDoc struct {
	plan.JSONDoc
	OK     bool           `json:"ok"`
	Daemon ops.DaemonPlan `json:"daemon"`
}

// writeDaemonPlan prints what a reload would change in lbx watch, after
// the kernel's plan.
func writeDaemonPlan(w io.Writer, dp ops.DaemonPlan) error {
	fmt.Fprintln(w)
	heading := fmt.Sprintf("lbx watch (pid %d) will change on reload (objects only the daemon carries out):", dp.PID)
	if err := daemonview.WriteText(w, heading, dp.Changes); err != nil {
		return err
	}
	add, change, destroy := daemonview.Counts(dp.Changes)
	_, err := fmt.Fprintf(w, "\nDaemon: %d to add, %d to change, %d to destroy. lbx apply -f hands the file to lbx watch.\n", add, change, destroy)
	return err
}
