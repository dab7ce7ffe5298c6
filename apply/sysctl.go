package apply

import (
	"context"
	"errors"
	"fmt"

	"github.com/lbx-dev/lbx/kernel"
	"github.com/lbx-dev/lbx/plan"
	"github.com/lbx-dev/lbx/state"
)

// writeSysctl carries out a sysctl change: creates and updates are the
// same write (a kernel setting always exists or never does).
func writeSysctl(ctx context.Context, k kernel.Kernel, c plan.Change) error {
	sk, ok := k.(kernel.SysctlKernel)
	if !ok {
		return fmt.Errorf("%s: this kernel handle cannot write sysctls", c.Address)
	}
	if c.AfterSysctl == nil {
		return fmt.Errorf("%s: cannot %s a sysctl (lbx only sets them)", c.Address, c.Action)
	}
	err := sk.WriteSysctl(ctx, c.AfterSysctl.Key, c.AfterSysctl.Value)
	if errors.Is(err, kernel.ErrNotFound) {
		return fmt.Errorf("%s: this kernel has no such setting (%s missing: ip_vs not loaded, or a kernel older than the setting); take it out of the model: %w",
			c.Address, c.AfterSysctl.Key.Path(), err)
	}
	return err
}

// WriteSysctl counts the write and passes it on.
func (c *countingKernel) WriteSysctl(ctx context.Context, k state.SysctlKey, value int) error {
	sk, ok := c.Kernel.(kernel.SysctlKernel)
	if !ok {
		return errors.New("this kernel handle cannot write sysctls")
	}
	c.writes++
	return sk.WriteSysctl(ctx, k, value)
}
