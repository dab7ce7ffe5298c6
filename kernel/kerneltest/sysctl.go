package kerneltest

import (
	"context"
	"fmt"

	"github.com/lbx-dev/lbx/kernel"
	"github.com/lbx-dev/lbx/state"
)

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
		return fmt.Errorf("%s: %w", k.Path(), kernel.ErrNotFound)
	}
	f.st.Sysctls[k] = value
	return nil
}
