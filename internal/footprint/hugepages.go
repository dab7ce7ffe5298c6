package footprint

import (
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// NoHugePages opts the calling process out of transparent huge pages
// (prctl PR_SET_THP_DISABLE; see the package comment). The setting covers
// every mapping of the process, is inherited by the processes it starts
// (lbx-check, scripts) and survives exec. Call it first thing in main, before
// the heap grows. An error (a kernel older than 3.15) costs memory only.
func NoHugePages() error {
	if err := unix.Prctl(unix.PR_SET_THP_DISABLE, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("turning transparent huge pages off (prctl PR_SET_THP_DISABLE): %w", err)
	}
	return nil
}

// WithoutHugePages makes this process run without transparent huge pages
// from its first page on. NoHugePages covers only the faults after it, and
// by main the Go runtime has touched its first heap and metadata pages:
// where the kernel's THP mode is "always", those came in as huge pages (in
// the bench VM, two of them, 4 MiB of lbx watch's 8 MiB anonymous peak at
// 500 servers, held until the start's Settle). So it sets the flag, which
// survives exec, and execs this same binary (/proc/self/exe, whatever its
// path now holds) with the same arguments and environment: the same
// process, its PID and what systemd gave it kept, nothing of its own
// opened yet. It returns nil at once when the flag is already set (in the
// second image, or when a parent set it), and an error when the flag
// could not be set (nothing is re-executed) or the exec failed. Call it
// first thing, before the process opens anything it needs.
func WithoutHugePages() error {
	if on, err := unix.PrctlRetInt(unix.PR_GET_THP_DISABLE, 0, 0, 0, 0); err == nil && on == 1 {
		return nil
	}
	if err := NoHugePages(); err != nil {
		return err
	}
	if err := syscall.Exec("/proc/self/exe", os.Args, os.Environ()); err != nil {
		return fmt.Errorf("re-executing without transparent huge pages: %w", err)
	}
	return nil // not reached: exec replaced the process
}
