package watch

import (
	"log/slog"

	"github.com/lbx-dev/lbx/check"
	"github.com/lbx-dev/lbx/internal/scriptpolicy"
	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/vrrpd"
)

// Preflight is everything lbx watch checks of a loaded model before it
// touches anything, at start and on a reload: its scripts (who runs them,
// enable_script_security), the VRRP configuration, the health checks.
// lbx validate calls it too, so that it refuses exactly what the daemon
// refuses (ExecReload=lbx validate). m.Positions must still be there:
// script refusals are model.Errors at file:line.
func Preflight(m *model.Model, log *slog.Logger) (*vrrpd.Config, []check.Target, error) {
	if err := scriptpolicy.Check(m, log); err != nil {
		return nil, nil, err
	}
	cfg, err := vrrpd.FromModel(m)
	if err != nil {
		return nil, nil, err
	}
	if err := vrrpd.CheckConfig(cfg); err != nil {
		return nil, nil, err
	}
	targets, err := check.TargetsFromModel(m)
	if err != nil {
		return nil, nil, err
	}
	return cfg, targets, nil
}
