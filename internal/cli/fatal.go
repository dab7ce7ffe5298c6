package cli

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Fatal prints the error that ends a command, on w (stderr): with the
// json log format one log record (level ERROR, msg, err, exit_code, and
// command if known), so that a log shipper reading --log-format json
// sees the failure too; otherwise one line "prog: err".
func Fatal(w io.Writer, format, prog, command string, err error, code int) {
	if !strings.EqualFold(format, "json") {
		fmt.Fprintf(w, "%s: %v\n", prog, err)
		return
	}
	attrs := []any{"err", err.Error(), "exit_code", code}
	if command != "" {
		attrs = append(attrs, "command", command)
	}
	// A handler of its own: the error may come before SetupLogging ran
	// (a flag that does not parse), or SetupLogging refused the level.
	slog.New(slog.NewJSONHandler(w, nil)).Error(prog+" failed", attrs...)
}

// LogFormatOf reads --log-format from a command line as given, for the
// errors raised before (or while) flags are parsed: "json" if the last
// --log-format (or -log-format) before "--" says json, else "text" (an
// unknown value is reported in text, the format that needs no flag).
func LogFormatOf(args []string) string {
	format := "text"
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "log-format" {
			continue
		}
		if !hasValue {
			if i+1 >= len(args) {
				break
			}
			i++
			value = args[i]
		}
		format = "text"
		if strings.EqualFold(value, "json") {
			format = "json"
		}
	}
	return format
}
