// Package cli holds what every lbx command shares: exit codes, logging
// setup and the report of a fatal error. Commands stay thin; this keeps
// their conventions identical. It imports no flag library: lbx-check
// links it, and every package linked costs that process resident pages
// (the -o flag of lbx's cobra commands is cmd/lbx's output.go).
package cli

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
)

// Exit codes, documented in the README.
const (
	ExitOK      = 0 // success; plan: no changes
	ExitError1  = 1 // error (invalid model, kernel error, ...)
	ExitChanges = 2 // plan --detailed-exitcode: changes present
	ExitStale   = 3 // apply PLANFILE: the live state changed since the plan
	ExitLocked  = 4 // another lbx holds the lock past --lock-timeout
	ExitPartial = 5 // apply stopped part-way; the report says what was done
)

// ExitError carries an exit code up to main. Err, if set, is printed on
// stderr as one line.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// Exit builds an ExitError.
func Exit(code int, err error) error { return &ExitError{Code: code, Err: err} }

// SetupLogging installs the default slog logger on w (stderr).
func SetupLogging(w io.Writer, level, format string) error {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	var h slog.Handler
	switch strings.ToLower(format) {
	case "text", "":
		h = slog.NewTextHandler(w, opts)
	case "json":
		h = slog.NewJSONHandler(w, opts)
	default:
		return fmt.Errorf("--log-format %q: want text or json", format)
	}
	slog.SetDefault(slog.New(h))
	return nil
}

// Color reports whether output to f may use colour: a terminal and no
// NO_COLOR (https://no-color.org).
func Color(f *os.File) bool {
	if _, ok := os.LookupEnv("NO_COLOR"); ok {
		return false
	}
	if os.Getenv("TERM") == "dumb" {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// IsTerminal reports whether f is a terminal.
func IsTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// DaemonProcs is the GOMAXPROCS lbx watch and its checker process set; 0 leaves it to the
// runtime, which reads an operator's GOMAXPROCS itself. One P: the daemon
// is an event loop whose work comes in wake-ups of a few microseconds
// each. With more than one P the Go scheduler wakes an idle thread to look
// for work on every one of them; in the bench VM that tripled the
// checker's context switches and cost a fifth more CPU a probe, for no
// parallelism a checker needs. (GOGC=50 was measured too and not kept: 1-2
// MB less peak RSS of 21-23, for 5 % more CPU a probe in make bench-watch.)
func DaemonProcs(getenv func(string) string) int {
	if getenv("GOMAXPROCS") == "" {
		return 1
	}
	return 0
}
