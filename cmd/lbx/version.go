package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/lbx-dev/lbx/checkproc"
	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/plan"
)

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

func init() {
	var output *Output
	c := &cobra.Command{
		Use:   "version",
		Short: "Print lbx's version and the formats it reads and writes",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// build is what lbx watch compares with lbx-check's
			// (lbx-check --version prints its own).
			build := checkproc.ThisBuild(version)
			v := map[string]any{"format_version": versionFormatVersion, "ok": true, "version": version, "go": runtime.Version(), "model_version": model.Version, "plan_format_version": plan.FormatVersion, "build": build}
			if bi, ok := debug.ReadBuildInfo(); ok {
				for _, s := range bi.Settings {
					if s.Key == "vcs.revision" {
						v["commit"] = s.Value
					}
				}
			}
			if output.JSON() {
				return writeJSON(os.Stdout, v)
			}
			fmt.Printf("lbx %s (model version %d, plan format %s, %s)\nbuild %s\n", version, model.Version, plan.FormatVersion, runtime.Version(), build)
			return nil
		},
	}
	output = OutputFlag(c, versionFormatVersion, "text", "json")
	addCommand(c)
}
