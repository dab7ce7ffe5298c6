// Package checkmodel builds lbx watch's health checks from the model:
// keepalived's inheritance and lbx's defaults applied (Effective), then
// the one conversion to the checker's plain settings (Spec), from which
// package check builds the checkers. It runs in lbx watch only: the
// checker process is given the settings and links no model code.
package checkmodel

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/lbx-dev/lbx/check"
	"github.com/lbx-dev/lbx/internal/script"
	"github.com/lbx-dev/lbx/model"
)

// Targets builds a check.Target for every real server of m that has
// checks. A real server of a virtual server group is checked once and
// reported under each service of the group. Errors name the real server and
// check; all are returned together.
func Targets(m *model.Model) ([]check.Target, error) {
	var (
		out  []check.Target
		errs []error
		b    = NewBuilder(m)
	)
	for _, vs := range m.VirtualServers {
		if vs == nil {
			continue
		}
		keys := m.ServiceKeys(vs)
		if len(keys) == 0 {
			continue
		}
		for _, rs := range vs.RealServers {
			if rs == nil || len(rs.Checks) == 0 {
				continue
			}
			rk := rs.Key(vs)
			t := check.Target{ID: model.RealID{Service: keys[0], Real: rk}, Alpha: vs.Alpha}
			for _, k := range keys[1:] {
				t.Also = append(t.Also, model.RealID{Service: k, Real: rk})
			}
			for _, c := range rs.Checks {
				if c == nil {
					continue
				}
				p, _, err := b.Build(vs, rs, c)
				var du defaultUserError
				if errors.As(err, &du) {
					return nil, du.error
				}
				if err != nil {
					errs = append(errs, fmt.Errorf("virtual server %s: %w", keys[0], err))
					continue
				}
				t.Checks = append(t.Checks, p)
			}
			if len(t.Checks) > 0 {
				out = append(out, t)
			}
		}
	}
	return out, errors.Join(errs...)
}

// Builder builds the checks of one model; it looks the default script
// user up once.
type Builder struct {
	m       *model.Model
	defUser string
	userErr error
	looked  bool
}

// NewBuilder makes a builder of m's checks.
func NewBuilder(m *model.Model) *Builder { return &Builder{m: m} }

// defaultUserError is a default script user that cannot be found: the
// whole model's misc checks fail alike, so Targets stops at the first.
type defaultUserError struct{ error }

// Build builds the checker of c, a check of real server rs of virtual
// server vs: the probe lbx watch runs (its Spec is what lbx-check is
// given) and the effective check in the model's form (lbx's daemon view
// shows it). The model is assumed validated; what validation cannot see
// (a bad payload, an unknown user) is an error naming the check.
func (b *Builder) Build(vs *model.VirtualServer, rs *model.RealServer, c *model.Check) (check.Probe, model.Check, error) {
	where := fmt.Sprintf("real server %s check %s", netip.AddrPortFrom(rs.Address.Addr, uint16(rs.EffectivePort(vs))), c.Type)
	if c.Type == "misc" && c.User == "" {
		u, err := b.defaultUser()
		if err != nil {
			return check.Probe{}, model.Check{}, err
		}
		own := *c
		own.User = u // carried to lbx-check in the spec
		c = &own
	}
	e := Effective(vs, rs, c)
	s := Spec(e)
	ch, st, err := check.Build(s)
	if err != nil {
		return check.Probe{}, model.Check{}, fmt.Errorf("%s: %w", where, err)
	}
	return check.Probe{Checker: ch, Settings: st, Spec: s}, e, nil
}

// defaultUser is the script user of a MISC_CHECK naming none: the name,
// and the group only as written (a primary group with no name, whose
// number script.DefaultUser gives, is found again from the user by
// lbx-check).
func (b *Builder) defaultUser() (string, error) {
	if !b.looked {
		b.looked = true
		g := b.m.Global
		u, _, err := script.DefaultUser(g.ScriptUser, g.ScriptGroup)
		if err != nil {
			b.userErr = defaultUserError{err}
		} else {
			b.defUser = u.Name
			if g.ScriptUser != "" && g.ScriptGroup != "" {
				b.defUser += " " + g.ScriptGroup
			}
		}
	}
	return b.defUser, b.userErr
}
