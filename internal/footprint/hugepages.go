package footprint

import (
	"fmt"

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
