package watch

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/lbx-dev/lbx/check"
	"github.com/lbx-dev/lbx/check/checkmodel"
	"github.com/lbx-dev/lbx/internal/scriptpolicy"
	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/vrrpd"
	"github.com/lbx-dev/lbx/vrrpd/vrrpmodel"
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
	cfg, err := vrrpmodel.FromModel(m)
	var ie *vrrpmodel.InstanceError
	if errors.As(err, &ie) {
		// At the instance's file:line, as validate prints errors.
		path := fmt.Sprintf("vrrp_instances[%d].%s", ie.Index, ie.Field)
		if m.Positions.At(path).Line == 0 {
			path = fmt.Sprintf("vrrp_instances[%d]", ie.Index)
		}
		return nil, nil, model.Errors{{File: m.File, Pos: m.Positions.At(path), Path: path, Msg: ie.Error()}}
	}
	if err != nil {
		return nil, nil, err
	}
	if err := vrrpd.CheckConfig(cfg); err != nil {
		return nil, nil, err
	}
	if err := bgpPreflight(m, log); err != nil {
		return nil, nil, err
	}
	targets, err := checkmodel.Targets(m)
	if err != nil {
		return nil, nil, err
	}
	return cfg, targets, nil
}
