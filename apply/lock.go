package apply

import (
	"context"
	"time"

	"github.com/lbx-dev/lbx/internal/onewriter"
)

// Lock is the one-writer lock (package onewriter).
type Lock = onewriter.Lock

// LockHeldError is returned when the lock stays held past the timeout.
type LockHeldError = onewriter.LockHeldError

// AcquireLock takes the one-writer lock at path, waiting up to timeout.
func AcquireLock(ctx context.Context, path string, timeout time.Duration) (*Lock, error) {
	return onewriter.Acquire(ctx, path, timeout)
}
