package apply

import (
	"context"
	"errors"
	"fmt"

	"github.com/lbx-dev/lbx/plan"
	"github.com/lbx-dev/lbx/state"
)

// SysctlKernel is a kernel whose settings (sysctls) lbx writes: those of
// its network namespace. Its Read fills State.Sysctls with the IPVS
// settings lbx models (state.IPVSSysctlKeys) that the kernel has.
type SysctlKernel interface {
	// WriteSysctl sets one setting: ErrNotFound when the kernel has no
	// such setting.
	WriteSysctl(ctx context.Context, k state.SysctlKey, value int) error
}

// writeSysctl carries out a sysctl change: creates and updates are the
// same write (a kernel setting always exists or never does).
func writeSysctl(ctx context.Context, k Kernel, c plan.Change) error {
	sk, ok := k.(SysctlKernel)
	if !ok {
		return fmt.Errorf("%s: this kernel handle cannot write sysctls", c.Address)
	}
	if c.AfterSysctl == nil {
		return fmt.Errorf("%s: cannot %s a sysctl (lbx only sets them)", c.Address, c.Action)
	}
	err := sk.WriteSysctl(ctx, c.AfterSysctl.Key, c.AfterSysctl.Value)
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%s: this kernel has no such setting (%s missing: ip_vs not loaded, or a kernel older than the setting); take it out of the model: %w",
			c.Address, c.AfterSysctl.Key.Path(), err)
	}
	return err
}

// WriteSysctl counts the write and passes it on.
func (c *countingKernel) WriteSysctl(ctx context.Context, k state.SysctlKey, value int) error {
	sk, ok := c.Kernel.(SysctlKernel)
	if !ok {
		return errors.New("this kernel handle cannot write sysctls")
	}
	c.writes++
	return sk.WriteSysctl(ctx, k, value)
}

// LoadIPVSSysctls gives the fake the IPVS settings a freshly loaded
// ip_vs has (a fake without them is a kernel without those files).
func (f *FakeKernel) LoadIPVSSysctls() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, v := range state.IPVSSysctlDefaults {
		f.st.SetSysctl(k, v)
	}
}

// WriteSysctl sets a setting the fake has; ErrNotFound for another, as
// the kernel's ENOENT on a missing /proc/sys file.
func (f *FakeKernel) WriteSysctl(ctx context.Context, k state.SysctlKey, value int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.write(); err != nil {
		return err
	}
	if _, ok := f.st.Sysctls[k]; !ok {
		return fmt.Errorf("%s: %w", k.Path(), ErrNotFound)
	}
	f.st.Sysctls[k] = value
	return nil
}
