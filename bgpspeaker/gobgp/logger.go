package gobgp

import (
	"log/slog"

	"github.com/osrg/gobgp/v3/pkg/log"
)

// logger puts GoBGP's log on lbx's slog (stderr). GoBGP's Info is chatty
// (every FSM step); it is logged at Debug, its warnings and errors as such.
type logger struct{ l *slog.Logger }

func newLogger(l *slog.Logger) log.Logger { return logger{l.With("component", "gobgp")} }

func attrs(f log.Fields) []any {
	out := make([]any, 0, 2*len(f))
	for k, v := range f {
		out = append(out, k, v)
	}
	return out
}

func (g logger) Panic(msg string, f log.Fields) { g.l.Error(msg, attrs(f)...); panic(msg) }
func (g logger) Fatal(msg string, f log.Fields) { g.l.Error(msg, attrs(f)...) }
func (g logger) Error(msg string, f log.Fields) { g.l.Error(msg, attrs(f)...) }
func (g logger) Warn(msg string, f log.Fields)  { g.l.Warn(msg, attrs(f)...) }
func (g logger) Info(msg string, f log.Fields)  { g.l.Debug(msg, attrs(f)...) }
func (g logger) Debug(msg string, f log.Fields) {}

func (logger) SetLevel(log.LogLevel)  {}
func (logger) GetLevel() log.LogLevel { return log.InfoLevel }
