package main

import (
	"errors"
	"log/slog"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/watch"
)

// nodeFlag is --node, on every command that reads a model.
func nodeFlag(c *cobra.Command, node *string) {
	c.Flags().StringVar(node, "node", "", "the director this is, when the model has nodes: (default: the host name up to its first dot); selects its view of the model")
}

// nodeResult is one node's verdict in validate's JSON document.
type nodeResult struct {
	Name   string     `json:"name"`
	Valid  bool       `json:"valid"`
	Errors []diagJSON `json:"errors"`
}

// validateModel is `lbx validate`'s check: the file (every node's view
// and the fleet, when it has nodes), then what lbx watch checks at start
// (watch.Preflight) on the view of node, or of every node when all (no
// --node) and the model has nodes. results are the per-node verdicts (none for a
// model without nodes).
func validateModel(file, node string, all bool) (results []nodeResult, err error) {
	m, err := model.LoadFile(file)
	if err != nil {
		names := model.FileNodeNames(file)
		if !all && slices.Contains(names, node) {
			names = []string{node}
		}
		return perNode(names, err), err
	}
	if len(m.Nodes) == 0 {
		_, _, err = watch.Preflight(m, slog.Default())
		return nil, err
	}
	names := model.NodeNames(m)
	if !all {
		name, err := nodeName(node)
		if err != nil {
			return nil, err
		}
		names = []string{name}
	}
	var errs []error
	for _, n := range names {
		r := nodeResult{Name: n, Valid: true, Errors: []diagJSON{}}
		v, verr := model.NodeView(m, n)
		if verr == nil {
			_, _, verr = watch.Preflight(v, slog.Default())
		}
		if verr != nil {
			r.Valid, r.Errors = false, diagnostics(verr)
			if len(r.Errors) == 0 {
				r.Errors = []diagJSON{{File: file, Message: verr.Error()}}
			}
			if !slices.ContainsFunc(errs, func(e error) bool { return e.Error() == verr.Error() }) {
				errs = append(errs, verr) // said once when every node has it
			}
		}
		results = append(results, r)
	}
	return results, errors.Join(errs...)
}

// perNode sorts the errors of a model that did not load by node: an error
// without a node (the whole model's, or the fleet's) counts against every
// node.
func perNode(names []string, err error) []nodeResult {
	es, ok := model.AsErrors(err)
	if !ok || len(names) == 0 {
		return nil
	}
	var out []nodeResult
	for _, n := range names {
		r := nodeResult{Name: n, Valid: true, Errors: []diagJSON{}}
		for _, e := range es {
			if e.Node == "" || e.Node == n {
				r.Valid = false
				r.Errors = append(r.Errors, diagnostics(model.Errors{e})...)
			}
		}
		out = append(out, r)
	}
	return out
}

// nodeName is --node, or this host's name.
func nodeName(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	return model.DefaultNodeName()
}

// nodeList names the nodes of results: "node lb1" or "nodes lb1, lb2".
func nodeList(results []nodeResult) string {
	names := make([]string, len(results))
	for i, r := range results {
		names[i] = r.Name
	}
	if len(names) == 1 {
		return "node " + names[0]
	}
	return "nodes " + strings.Join(names, ", ")
}
