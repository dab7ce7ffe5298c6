package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lbx-dev/lbx/internal/cli"
)

func init() {
	var (
		file, node string
		output     *Output
	)
	c := &cobra.Command{
		Use:   "validate -f FILE",
		Short: "Check a model file as lbx watch would (scripts, users and VRRP too; every node's view and the fleet when it has nodes); exit 0 if valid, 1 with every error (file:line:col) if not",
		Example: `  lbx validate -f lbx.yaml
  lbx validate -f fleet.yaml --node lb2   # one director's view only
  # Ansible: template: {src: lbx.yaml.j2, dest: /etc/lbx/lbx.yaml, validate: "lbx validate -f %s"}`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// What lbx watch checks at start and on a reload, by the
			// same function: validate passes only what it would run
			// (ExecReload=lbx validate). Warnings go to the log. Without
			// --node, a model with nodes is checked for every node.
			nodes, err := validateModel(file, node, !cmd.Flags().Changed("node"))
			if output.JSON() {
				doc := validateDoc{FormatVersion: validateFormatVersion, OK: err == nil, Valid: err == nil, Errors: diagnostics(err), Nodes: nodes}
				if err != nil {
					doc.Error = newErrorJSON(err, cli.ExitError1)
					if len(doc.Errors) == 0 {
						// Not the model's content (a file that does not
						// read): the one error, on the file.
						doc.Errors = []diagJSON{{File: file, Message: err.Error()}}
					}
				}
				writeJSON(os.Stdout, doc)
				if err != nil {
					return Reported(cli.Exit(cli.ExitError1, err))
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
			if len(nodes) > 0 {
				fmt.Fprintf(os.Stdout, "%s: valid for %s\n", file, nodeList(nodes))
				return nil
			}
			fmt.Fprintf(os.Stdout, "%s: valid\n", file)
			return nil
		},
	}
	c.Flags().StringVarP(&file, "file", "f", "", "model file (YAML)")
	nodeFlag(c, &node)
	output = OutputFlag(c, validateFormatVersion, "text", "json")
	c.MarkFlagRequired("file")
	addCommand(c)
}

// validateDoc is validate's JSON document: errors lists the model's
// positioned errors (as error.diagnostics does), kept for the wrappers
// that read it before there was an error object.
type validateDoc struct {
	FormatVersion string     `json:"format_version"`
	OK            bool       `json:"ok"`
	Valid         bool       `json:"valid"`
	Errors        []diagJSON `json:"errors"`
	// Nodes are the verdicts per node of a model with nodes.
	Nodes []nodeResult `json:"nodes,omitempty"`
	Error *errorJSON   `json:"error,omitempty"`
}
