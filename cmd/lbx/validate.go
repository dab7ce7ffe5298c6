package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lbx-dev/lbx/internal/cli"
	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/watch"
)

func init() {
	var file, output string
	c := &cobra.Command{
		Use:   "validate -f FILE",
		Short: "Check a model file as lbx watch would (scripts, users and VRRP too); exit 0 if valid, 1 with every error (file:line:col) if not",
		Example: `  lbx validate -f lbx.yaml
  # Ansible: template: {src: lbx.yaml.j2, dest: /etc/lbx/lbx.yaml, validate: "lbx validate -f %s"}`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := model.LoadFile(file)
			if err == nil {
				// What lbx watch checks at start and on a reload, by the
				// same function: validate passes only what it would run
				// (ExecReload=lbx validate). Warnings go to the log.
				_, _, err = watch.Preflight(m, slog.Default())
			}
			if output == "json" {
				doc := map[string]any{"valid": err == nil, "errors": []map[string]any{}}
				if es, ok := model.AsErrors(err); ok {
					list := []map[string]any{}
					for _, e := range es {
						list = append(list, map[string]any{"file": e.File, "line": e.Pos.Line, "column": e.Pos.Col, "path": e.Path, "message": e.Msg})
					}
					doc["errors"] = list
				} else if err != nil {
					doc["errors"] = []map[string]any{{"file": file, "message": err.Error()}}
				}
				enc := json.NewEncoder(os.Stdout)
				enc.SetIndent("", "  ")
				enc.Encode(doc)
				if err != nil {
					return cli.Exit(cli.ExitError1, nil)
				}
				return nil
			}
			if err != nil {
				if strings.EqualFold(logFormat, "json") {
					return err // main prints it as one JSON record
				}
				// Every error on a line of its own, file:line:col first,
				// as compilers print them (editors jump to them).
				fmt.Fprintln(os.Stderr, err)
				return cli.Exit(cli.ExitError1, nil)
			}
			fmt.Fprintf(os.Stdout, "%s: valid\n", file)
			return nil
		},
	}
	c.Flags().StringVarP(&file, "file", "f", "", "model file (YAML)")
	c.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	c.MarkFlagRequired("file")
	addCommand(c)
}
