package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/lbx-dev/lbx/convert"
	"github.com/lbx-dev/lbx/internal/cli"
	"github.com/lbx-dev/lbx/keepalived"
)

func init() {
	var configID string
	var output *Output
	var strict bool
	var nodeNames []string
	cmd := &cobra.Command{
		Use:   "convert [--config-id ID] [--strict] [-o yaml|json] [--node-names N1,N2...] FILE...",
		Short: "Convert a keepalived.conf into an lbx model (YAML on stdout, warnings on stderr)",
		Long: `Convert reads a keepalived configuration (with its includes, conditional
lines, definitions and ~SEQ lines) and prints the equivalent lbx model.
keepalived's defaults are written out. Every keyword the model cannot
express is reported on stderr as FILE:LINE: warning: ... and kept as a
comment in the output; --strict makes those errors. Invalid values are
errors (exit 1; nothing on stdout, or with -o json the document with ok
false and the error).

Several files, one per director, make one model for the fleet: what
differs between them (global settings, VRRP instance settings such as
state, priority, unicast_src_ip) goes under nodes:, each node named by
its file's router_id or by --node-names in file order. One file with
--node-names is read once per name, its @NAME / @^NAME lines selecting
each node's values. Anything else that differs (virtual servers,
scripts...) is an error: one model holds it once.`,
		Example: `  lbx convert /etc/keepalived/keepalived.conf > lbx.yaml
  lbx convert lb1/keepalived.conf lb2/keepalived.conf > lbx.yaml
  lbx convert --node-names lb1,lb2 keepalived.conf > lbx.yaml   # @lb1 / @lb2 lines`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, source, err := convertFiles(args, nodeNames, convert.Options{Strict: strict, Parse: keepalived.Options{ConfigID: configID}})
			if res == nil {
				return cli.Exit(cli.ExitError1, err)
			}
			if output.JSON() {
				return writeConvertJSON(cmd.OutOrStdout(), res, source, err)
			}
			for _, d := range res.Diagnostics {
				fmt.Fprintln(cmd.ErrOrStderr(), d.String())
			}
			if err != nil {
				return cli.Exit(cli.ExitError1, err)
			}
			out, yerr := res.YAML(source)
			if yerr != nil {
				return cli.Exit(cli.ExitError1, yerr)
			}
			if len(res.Model.Nodes) > 0 {
				return checkFleet(cmd.OutOrStdout(), out)
			}
			if _, verr := convert.Validate(out, "converted model"); verr != nil {
				// A converter bug, not the user's: say so plainly.
				return cli.Exit(cli.ExitError1, fmt.Errorf("the converted model does not validate (please report this with the keepalived file):\n%v", verr))
			}
			_, _ = cmd.OutOrStdout().Write(out)
			return nil
		},
	}
	cmd.Flags().StringVar(&configID, "config-id", "", "config id selecting @ID lines (keepalived -i); default: the short host name")
	cmd.Flags().BoolVar(&strict, "strict", false, "fail on keywords the lbx model cannot express")
	cmd.Flags().StringSliceVar(&nodeNames, "node-names", nil, "node names of the directors: one per FILE, or for one FILE read once per name (its @NAME lines); default: each file's router_id")
	output = OutputFlag(cmd, convertFormatVersion, "yaml", "json")
	addCommand(cmd)
}

// convertFormatVersion is the format_version of convert's JSON document
// (the model and the diagnostics).
const convertFormatVersion = "1.0"

// writeConvertJSON prints convert's JSON document: the model, every
// diagnostic, and, when err ends the conversion, ok false and the error.
func writeConvertJSON(w io.Writer, res *convert.Result, source string, err error) error {
	out, jerr := res.JSON(source)
	if jerr != nil {
		return cli.Exit(cli.ExitError1, jerr)
	}
	doc := map[string]any{}
	if jerr := json.Unmarshal(out, &doc); jerr != nil {
		return cli.Exit(cli.ExitError1, jerr)
	}
	doc["format_version"], doc["ok"] = convertFormatVersion, err == nil
	if err != nil {
		doc["error"] = newErrorJSON(err, cli.ExitError1)
	}
	writeJSON(w, doc)
	if err != nil {
		return Reported(cli.Exit(cli.ExitError1, err))
	}
	return nil
}
