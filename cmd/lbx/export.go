package main

import (
	"io"
	"os"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/lbx-dev/lbx/cmd/lbx/internal/ops"
	"github.com/lbx-dev/lbx/model"
)

func init() {
	var (
		output *Output
		t      ops.Target
	)
	c := &cobra.Command{
		Use:   "export",
		Short: "Print the live state (IPVS services and sysctls, global addresses, lbx's routes) as a model",
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
			b, err := model.MarshalYAML(m)
			if err != nil {
				return err
			}
			if output.JSON() {
				return writeModelJSON(os.Stdout, b)
			}
			_, err = os.Stdout.Write(b)
			return err
		},
	}
	output = OutputFlag(c, model.Version, "yaml", "json")
	targetFlags(c, &t)
	addCommand(c)
}

// writeModelJSON prints a model (its YAML) as JSON under the model's own
// field names and formats ("virtual_servers", "5m"): the document is a
// model that lbx plan -f and --live read back (JSON is YAML), not Go's
// field names and nanoseconds.
func writeModelJSON(w io.Writer, modelYAML []byte) error {
	var v any
	if err := yaml.Unmarshal(modelYAML, &v); err != nil {
		return err
	}
	return writeJSON(w, v)
}
