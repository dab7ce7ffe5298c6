package main

import (
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"syscall"

	"github.com/lbx-dev/lbx/internal/cli"
	"github.com/lbx-dev/lbx/kernel"
	"github.com/lbx-dev/lbx/model"
)

// The format_version of the documents that had none before; plan's is
// plan.FormatVersion, status's statusd.FormatVersion, export's and
// convert's model.Version. One constant per document kind: each changes
// only when its own fields change (docs/plan-apply.md).
const (
	validateFormatVersion = "1.0"
	applyFormatVersion    = "1.0"
	versionFormatVersion  = "1.0"
)

// errorJSON is the error of a failure document (-o json): what main
// prints on stderr, the exit code, a kind for wrappers to branch on, and
// the model's positioned errors.
type errorJSON struct {
	Message     string     `json:"message"`
	Code        int        `json:"code"`
	Kind        string     `json:"kind"`
	Diagnostics []diagJSON `json:"diagnostics"`
}

// diagJSON is one positioned error of a model.
type diagJSON struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
	// Node is the node whose view has the error (a model with nodes).
	Node string `json:"node,omitempty"`
}

// usageError is a command line cobra could not parse.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// newErrorJSON describes err, which ends a command with exit code code.
func newErrorJSON(err error, code int) *errorJSON {
	return &errorJSON{Message: err.Error(), Code: code, Kind: errorKind(err, code), Diagnostics: diagnostics(err)}
}

// diagnostics lists a model's positioned errors (none for other errors).
func diagnostics(err error) []diagJSON {
	out := []diagJSON{}
	es, ok := model.AsErrors(err)
	if !ok {
		return out
	}
	for _, e := range es {
		out = append(out, diagJSON{File: e.File, Line: e.Pos.Line, Column: e.Pos.Col, Path: e.Path, Message: e.Msg, Node: e.Node})
	}
	return out
}

// errorKind names what went wrong, for a wrapper to branch on without
// reading the message: invalid_model, no_ipvs, locked, stale_plan,
// partial, kernel, usage, or error for anything else.
func errorKind(err error, code int) string {
	var (
		es      model.Errors
		noIPVS  *kernel.IPVSUnavailableError
		usage   usageError
		errno   syscall.Errno
		pathErr *fs.PathError
	)
	switch {
	case errors.As(err, &es):
		return "invalid_model"
	case errors.As(err, &noIPVS), errors.Is(err, kernel.ErrAddressesOnly):
		return "no_ipvs"
	case code == cli.ExitLocked:
		return "locked"
	case code == cli.ExitStale:
		return "stale_plan"
	case code == cli.ExitPartial:
		return "partial"
	case errors.As(err, &usage):
		return "usage"
	case errors.As(err, &pathErr):
		return "error" // a file's, not the kernel's networking
	case errors.As(err, &errno):
		return "kernel"
	}
	return "error"
}

// failureDoc is what a command with -o json prints when it fails before
// it has a document of its own to print.
type failureDoc struct {
	FormatVersion any        `json:"format_version"`
	OK            bool       `json:"ok"`
	Error         *errorJSON `json:"error"`
}

// writeJSON prints one indented JSON document.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// exitParts splits an error returned by a command into what main prints
// and the exit code.
func exitParts(err error) (error, int) {
	var ec *cli.ExitError
	if errors.As(err, &ec) {
		if ec.Err == nil {
			return err, ec.Code
		}
		return ec.Err, ec.Code
	}
	return err, cli.ExitError1
}
