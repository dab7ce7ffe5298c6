package kernel

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/vishvananda/netns"

	"github.com/lbx-dev/lbx/state"
)

// inNetns runs fn on an OS thread in the network namespace at nsPath (""
// : the caller's). A file under /proc/sys/net is the setting of the
// namespace of the thread that opens it. The thread is locked and never
// unlocked: Go ends it with its goroutine, so no thread is left in the
// wrong namespace, even if fn panics.
func inNetns(nsPath string, fn func() error) error {
	if nsPath == "" {
		return fn()
	}
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		target, err := netns.GetFromPath(nsPath)
		if err != nil {
			done <- fmt.Errorf("network namespace %s: %w", nsPath, err)
			return
		}
		defer target.Close()
		if err := netns.Set(target); err != nil {
			done <- fmt.Errorf("enter network namespace %s: %w", nsPath, err)
			return
		}
		done <- fn()
	}()
	return <-done
}

// readIPVSSysctls fills st with the IPVS settings lbx models that the
// kernel has (all of them once ip_vs is loaded; a kernel older than one
// setting lacks its file).
func (k *NetKernel) readIPVSSysctls(st *state.State) error {
	return inNetns(k.netnsPath, func() error {
		for _, key := range state.IPVSSysctlKeys() {
			data, err := os.ReadFile(key.Path())
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return fmt.Errorf("read %s: %w", key.Path(), err)
			}
			v, err := strconv.Atoi(strings.TrimSpace(string(data)))
			if err != nil {
				return fmt.Errorf("read %s: not an integer: %q", key.Path(), data)
			}
			st.SetSysctl(key, v)
		}
		return nil
	})
}

// WriteSysctl writes a setting of the kernel's network namespace.
func (k *NetKernel) WriteSysctl(ctx context.Context, key state.SysctlKey, value int) error {
	return inNetns(k.netnsPath, func() error {
		f, err := os.OpenFile(key.Path(), os.O_WRONLY, 0)
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s: %w", key.Path(), ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("write %s: %w", key, err)
		}
		_, err = f.WriteString(strconv.Itoa(value) + "\n")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("write %s = %d: %w", key, value, err)
		}
		return nil
	})
}
