package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/lbx-dev/lbx/convert"
	"github.com/lbx-dev/lbx/internal/cli"
	"github.com/lbx-dev/lbx/keepalived"
)

func init() {
	var configID, output string
	var strict bool
	cmd := &cobra.Command{
		Use:   "convert [--config-id ID] [--strict] [-o yaml|json] FILE",
		Short: "Convert a keepalived.conf into an lbx model (YAML on stdout, warnings on stderr)",
		Long: `Convert reads a keepalived configuration (with its includes, conditional
lines, definitions and ~SEQ lines) and prints the equivalent lbx model.
keepalived's defaults are written out. Every keyword the model cannot
express is reported on stderr as FILE:LINE: warning: ... and kept as a
comment in the output; --strict makes those errors. Invalid values are
errors (exit 1, nothing printed on stdout).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "yaml" && output != "json" {
				return cli.Exit(cli.ExitError1, fmt.Errorf("-o %q: want yaml or json", output))
			}
			res, err := convert.File(args[0], convert.Options{Strict: strict, Parse: keepalived.Options{ConfigID: configID}})
			if res == nil {
				return cli.Exit(cli.ExitError1, err)
			}
			if output == "json" {
				out, jerr := res.JSON(args[0])
				if jerr != nil {
					return cli.Exit(cli.ExitError1, jerr)
				}
				fmt.Fprintln(cmd.OutOrStdout(), string(out))
			} else {
				for _, d := range res.Diagnostics {
					fmt.Fprintln(cmd.ErrOrStderr(), d.String())
				}
			}
			if err != nil {
				return cli.Exit(cli.ExitError1, err)
			}
			if output == "yaml" {
				out, yerr := res.YAML(args[0])
				if yerr != nil {
					return cli.Exit(cli.ExitError1, yerr)
				}
				if _, verr := convert.Validate(out, "converted model"); verr != nil {
					// A converter bug, not the user's: say so plainly.
					return cli.Exit(cli.ExitError1, fmt.Errorf("the converted model does not validate (please report this with the keepalived file):\n%v", verr))
				}
				_, _ = cmd.OutOrStdout().Write(out)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&configID, "config-id", "", "config id selecting @ID lines (keepalived -i); default: the short host name")
	cmd.Flags().BoolVar(&strict, "strict", false, "fail on keywords the lbx model cannot express")
	cmd.Flags().StringVarP(&output, "output", "o", "yaml", "output format: yaml or json (json carries the diagnostics too)")
	addCommand(cmd)
}
