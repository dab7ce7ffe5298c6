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
	var output *cli.Output
	var strict bool
	cmd := &cobra.Command{
		Use:   "convert [--config-id ID] [--strict] [-o yaml|json] FILE",
		Short: "Convert a keepalived.conf into an lbx model (YAML on stdout, warnings on stderr)",
		Long: `Convert reads a keepalived configuration (with its includes, conditional
lines, definitions and ~SEQ lines) and prints the equivalent lbx model.
keepalived's defaults are written out. Every keyword the model cannot
express is reported on stderr as FILE:LINE: warning: ... and kept as a
comment in the output; --strict makes those errors. Invalid values are
errors (exit 1; nothing on stdout, or with -o json the document with ok
false and the error).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := convert.File(args[0], convert.Options{Strict: strict, Parse: keepalived.Options{ConfigID: configID}})
			if res == nil {
				return cli.Exit(cli.ExitError1, err)
			}
			if output.JSON() {
				return writeConvertJSON(cmd.OutOrStdout(), res, args[0], err)
			}
			for _, d := range res.Diagnostics {
				fmt.Fprintln(cmd.ErrOrStderr(), d.String())
			}
			if err != nil {
				return cli.Exit(cli.ExitError1, err)
			}
			out, yerr := res.YAML(args[0])
			if yerr != nil {
				return cli.Exit(cli.ExitError1, yerr)
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
	output = cli.OutputFlag(cmd, convertFormatVersion, "yaml", "json")
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
		return cli.Reported(cli.Exit(cli.ExitError1, err))
	}
	return nil
}
