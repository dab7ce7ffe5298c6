package plan

import (
	"fmt"

	"github.com/lbx-dev/lbx/state"
)

// KindSysctl is a kernel setting (IPVS's net.ipv4.vs.*).
const KindSysctl Kind = "sysctl"

// SysctlAddress is a setting's address in plans:
// "sysctl.net.ipv4.vs.sloppy_tcp".
func SysctlAddress(k state.SysctlKey) string { return "sysctl." + k.String() }

// sysctlScope is the settings a plan is about: those the model names.
// lbx owns no setting: one that leaves the model keeps the kernel's
// value, so the live ones are never in scope by themselves.
func sysctlScope(desired *state.State) []state.SysctlKey {
	if len(desired.Sysctls) == 0 {
		return nil
	}
	return desired.SysctlKeys()
}

// diffSysctls plans the settings in scope: an update where the kernel's
// value differs, a create where the live state has none (an export made
// before lbx read sysctls, or a kernel without the setting, whose write
// then fails naming it).
func diffSysctls(desired, live *state.State, scope []state.SysctlKey) []Change {
	var out []Change
	for _, k := range scope {
		want := state.Sysctl{Key: k, Value: desired.Sysctls[k]}
		v, ok := live.Sysctls[k]
		switch {
		case !ok:
			out = append(out, Change{Address: SysctlAddress(k), Kind: KindSysctl, Action: Create, AfterSysctl: &want})
		case v != want.Value:
			have := state.Sysctl{Key: k, Value: v}
			out = append(out, Change{Address: SysctlAddress(k), Kind: KindSysctl, Action: Update, BeforeSysctl: &have, AfterSysctl: &want, Fields: []string{"value"}})
		}
	}
	return out
}

// describeSysctl is a setting's plan line: "0 -> 1", or "= 1" for a
// create.
func describeSysctl(c Change) string {
	if c.BeforeSysctl == nil {
		return fmt.Sprintf("= %d", c.AfterSysctl.Value)
	}
	return fmt.Sprintf("%d -> %d", c.BeforeSysctl.Value, c.AfterSysctl.Value)
}
