package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
	"time"
)

// TestProgressEmitter: Terraform's line on a terminal with -o text, a log
// record anywhere else; never on stdout.
func TestProgressEmitter(t *testing.T) {
	for _, tc := range []struct {
		output   string
		terminal bool
		line     string // on the terminal; "": a log record instead
	}{
		{"text", true, "Still draining real.tcp/10.0.0.1:80/10.1.0.2:80... [1m10s elapsed]\n"},
		{"text", false, ""},
		{"json", true, ""},
		{"json", false, ""},
	} {
		var term, logs bytes.Buffer
		old := slog.Default()
		slog.SetDefault(slog.New(slog.NewJSONHandler(&logs, nil)))
		progressEmitter(tc.output, tc.terminal, &term)("draining real.tcp/10.0.0.1:80/10.1.0.2:80", 70*time.Second)
		slog.SetDefault(old)
		if term.String() != tc.line {
			t.Errorf("-o %s, terminal %v: wrote %q, want %q", tc.output, tc.terminal, term.String(), tc.line)
		}
		if tc.line != "" {
			if logs.Len() != 0 {
				t.Errorf("-o %s, terminal %v: also logged %s", tc.output, tc.terminal, logs.String())
			}
			continue
		}
		var rec struct{ Level, Msg, Step, Elapsed string }
		if err := json.Unmarshal(logs.Bytes(), &rec); err != nil || rec.Level != "INFO" || rec.Msg != "still running" ||
			rec.Step != "draining real.tcp/10.0.0.1:80/10.1.0.2:80" || rec.Elapsed != "1m10s" {
			t.Errorf("-o %s, terminal %v: log %q (%v), want one info record of the step", tc.output, tc.terminal, logs.String(), err)
		}
	}
}
