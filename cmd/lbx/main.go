// Command lbx is a declarative reconciler for Linux load balancers. This
// package is cobra wiring only: each subcommand lives in its own file and
// registers itself with addCommand; the work is done by the packages it calls.
package main

import (
	"errors"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/lbx-dev/lbx/internal/cli"
)

var rootCmd = &cobra.Command{
	Use:           "lbx",
	Short:         "Declarative reconciler for Linux load balancers (IPVS, addresses, VRRP)",
	SilenceUsage:  true,
	SilenceErrors: true,
	PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
		if cmd.Name() != "watch" {
			// One-shot commands live for a second: collecting garbage
			// only past a soft limit is worth the memory (a 12,000-object
			// model allocates about 60 MiB in all).
			debug.SetGCPercent(-1)
			debug.SetMemoryLimit(256 << 20)
		}
		return cli.SetupLogging(os.Stderr, logLevel, logFormat)
	},
}

var logLevel, logFormat string

func init() {
	rootCmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	rootCmd.PersistentFlags().StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	rootCmd.PersistentFlags().StringVar(&logFormat, "log-format", "text", "log format on stderr: text or json")
}

// addCommand registers a subcommand; each command file calls it from init.
func addCommand(c *cobra.Command) { rootCmd.AddCommand(c) }

func main() {
	cmd, err := rootCmd.ExecuteC()
	if err == nil {
		return
	}
	code := cli.ExitError1
	reported := IsReported(err)
	var ec *cli.ExitError
	if errors.As(err, &ec) {
		code, err = ec.Code, ec.Err
	}
	if err != nil && !reported {
		// -o json: one document on stdout whatever happens, so that a
		// wrapper parsing it reads the error instead of failing to parse.
		if o := OutputOf(cmd, os.Args[1:]); o.JSON() {
			writeJSON(os.Stdout, failureDoc{FormatVersion: o.Version, Error: newErrorJSON(err, code)})
		}
	}
	if err != nil {
		command := ""
		if cmd != nil {
			command = cmd.CommandPath()
		}
		// From os.Args, not logFormat: a flag that did not parse may
		// have stopped cobra before --log-format.
		cli.Fatal(os.Stderr, cli.LogFormatOf(os.Args[1:]), "lbx", command, err, code)
	}
	os.Exit(code)
}
