package check

import (
	"errors"
	"fmt"

	"github.com/lbx-dev/lbx/internal/script"
	"github.com/lbx-dev/lbx/model"
)

// TargetsFromModel builds a Target for every real server of m that has
// checks. A real server of a virtual server group is checked once and
// reported under each service of the group. Errors name the real server and
// check; all are returned together.
func TargetsFromModel(m *model.Model) ([]Target, error) {
	var (
		out  []Target
		errs []error
		def  string // the default script user, for MISC_CHECKs naming none
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
			t := Target{ID: model.RealID{Service: keys[0], Real: rk}, Alpha: vs.Alpha}
			for _, k := range keys[1:] {
				t.Also = append(t.Also, model.RealID{Service: k, Real: rk})
			}
			for _, c := range rs.Checks {
				if c == nil {
					continue
				}
				if c.Type == "misc" && c.User == "" {
					if def == "" {
						u, _, err := script.DefaultUser(m.Global.ScriptUser, m.Global.ScriptGroup)
						if err != nil {
							return nil, err
						}
						// The name, and the group only as written: a
						// primary group with no name (u.Group is then its
						// number) is found again from the user by lbx-check.
						def = u.Name
						if m.Global.ScriptUser != "" && m.Global.ScriptGroup != "" {
							def += " " + m.Global.ScriptGroup
						}
					}
					own := *c
					own.User = def // carried to lbx-check in the spec
					c = &own
				}
				ch, st, spec, err := FromModel(vs, rs, c)
				if err != nil {
					errs = append(errs, fmt.Errorf("virtual server %s: %w", keys[0], err))
					continue
				}
				t.Checks = append(t.Checks, Probe{Checker: ch, Settings: st, Spec: spec})
			}
			if len(t.Checks) > 0 {
				out = append(out, t)
			}
		}
	}
	return out, errors.Join(errs...)
}
