package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/lbx-dev/lbx/convert"
	"github.com/lbx-dev/lbx/internal/cli"
)

// directors pairs convert's files with --node-names: one file per
// director (names in file order, or each file's router_id), or one file
// read once per name (its @NAME lines selecting each node's values).
func directors(files, names []string) ([]convert.Director, error) {
	switch {
	case len(names) == 0:
		out := make([]convert.Director, len(files))
		for i, f := range files {
			out[i] = convert.Director{Path: f}
		}
		return out, nil
	case len(files) == 1:
		out := make([]convert.Director, len(names))
		for i, n := range names {
			out[i] = convert.Director{Path: files[0], Node: n}
		}
		return out, nil
	case len(files) == len(names):
		out := make([]convert.Director, len(files))
		for i, f := range files {
			out[i] = convert.Director{Path: f, Node: names[i]}
		}
		return out, nil
	}
	return nil, fmt.Errorf("%d files and %d --node-names: give one name per file, or one file with a name per director", len(files), len(names))
}

// convertFiles converts one keepalived.conf, or a fleet's (several files,
// or --node-names) into one model with nodes.
func convertFiles(files, names []string, opt convert.Options) (*convert.Result, string, error) {
	if len(files) == 1 && len(names) == 0 {
		res, err := convert.File(files[0], opt)
		return res, files[0], err
	}
	dirs, err := directors(files, names)
	if err != nil {
		return nil, "", err
	}
	res, err := convert.Fleet(dirs, opt)
	return res, strings.Join(files, ", "), err
}

// checkFleet prints a converted fleet model and validates it: an error
// is then the directors' disagreement (a VRID, a password, a priority
// twice), which the fleet checks exist to catch, positioned in the model
// printed on stdout.
func checkFleet(stdout io.Writer, out []byte) error {
	_, _ = stdout.Write(out)
	if _, err := convert.Validate(out, "stdout"); err != nil {
		return cli.Exit(cli.ExitError1, fmt.Errorf("the directors' configurations disagree; fix the model printed on stdout (or the keepalived files) where these say:\n%v", err))
	}
	return nil
}
