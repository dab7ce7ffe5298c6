package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/lbx-dev/lbx/internal/cli"
	"github.com/lbx-dev/lbx/internal/ops"
	"github.com/lbx-dev/lbx/model"
)

func init() {
	var (
		output *cli.Output
		t      ops.Target
	)
	c := &cobra.Command{
		Use:   "export",
		Short: "Print the live state (IPVS services, global addresses, lbx's routes) as a model",
		Long: `export reads the kernel and prints it as an lbx model. The output is valid
input for lbx plan -f (which then shows no changes) and for lbx plan --live,
which plans against this recorded state on a machine without IPVS or root.`,
		Example: `  lbx export > live.yaml && lbx plan -f live.yaml --detailed-exitcode
  lbx export -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			live, k, err := t.ReadLive(cmd.Context())
			if err != nil {
				return err
			}
			if k != nil {
				k.Close()
			}
			m := model.FromState(live, ops.ExportAddresses(live))
			if output.JSON() {
				return writeJSON(os.Stdout, m)
			}
			b, err := model.MarshalYAML(m)
			if err != nil {
				return err
			}
			_, err = os.Stdout.Write(b)
			return err
		},
	}
	output = cli.OutputFlag(c, model.Version, "yaml", "json")
	targetFlags(c, &t)
	addCommand(c)
}
