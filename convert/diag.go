// Package convert maps a keepalived configuration tree (package keepalived)
// to the lbx model and renders it as YAML.
//
// The mapping reproduces what keepalived 2.2 does with the file, not what it
// says: defaults are written out, keepalived's own corrections (UDP when no
// protocol is given, real-server ports of DR/TUN services reset to the
// service port, duplicate real servers dropped, quorum clamped...) are
// applied and reported, so that applying the model programs the same IPVS
// rules keepalived programs. Everything the model cannot hold is reported
// with file:line and left in the output as a comment.
package convert

import (
	"fmt"

	"github.com/lbx-dev/lbx/keepalived"
)

// Severity orders diagnostics.
type Severity int

const (
	// Warning: converted, but the user should know (legacy form, a
	// keepalived correction, a default that surprises).
	Warning Severity = iota
	// Unsupported: a keyword the model cannot express; left out and kept as
	// a comment. An error with Options.Strict.
	Unsupported
	// Error: invalid input; no model is produced.
	Error
	// Corrected: a value keepalived corrects and runs with (an unknown
	// scheduler run as wlc, `state SLAVE` run as BACKUP...). The model
	// gets keepalived's effective value and the warning names the probable
	// intent. An error with Options.Strict.
	Corrected
)

func (s Severity) String() string {
	switch s {
	case Warning:
		return "warning"
	case Unsupported, Corrected:
		return "warning"
	}
	return "error"
}

// Diagnostic is one finding, at the place in the keepalived file it is about.
type Diagnostic struct {
	Pos      keepalived.Pos
	Severity Severity
	Msg      string
}

// strictError: the diagnostic is an error under Options.Strict.
func (d Diagnostic) strictError() bool {
	return d.Severity == Unsupported || d.Severity == Corrected
}

func (d Diagnostic) String() string {
	return fmt.Sprintf("%s: %s: %s", d.Pos, d.Severity, d.Msg)
}

// ConversionError is returned when the configuration has errors (or, with
// Strict, keywords the model cannot express). Diagnostics lists them all.
type ConversionError struct {
	Errors int
}

func (e *ConversionError) Error() string {
	if e.Errors == 1 {
		return "1 error in the keepalived configuration; nothing converted"
	}
	return fmt.Sprintf("%d errors in the keepalived configuration; nothing converted", e.Errors)
}
