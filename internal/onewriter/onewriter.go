// Package onewriter is lbx's one-writer lock: lbx apply and lbx watch
// (or lbx-vrrp) never write the kernel at once.
package onewriter

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Lock is the one-writer lock: an flock on a file under /run/lbx that also
// names its holder, so that a waiting apply can say who holds it.
type Lock struct {
	f *os.File
}

// LockHeldError is returned when the lock stays held past the timeout.
type LockHeldError struct {
	Path   string
	Holder string
}

func (e *LockHeldError) Error() string {
	h := e.Holder
	if h == "" {
		h = "an unknown process"
	}
	return fmt.Sprintf("another lbx holds the lock %s: %s; wait for it, or raise --lock-timeout", e.Path, h)
}

// Acquire takes the lock at path, waiting up to timeout.
func Acquire(ctx context.Context, path string, timeout time.Duration) (*Lock, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	// Not through a symlink: the holder's line is written into the file,
	// which must not be one another user points the lock's path at.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	deadline := time.Now().Add(timeout)
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if time.Now().After(deadline) {
			holder, _ := os.ReadFile(path)
			f.Close()
			return nil, &LockHeldError{Path: path, Holder: strings.TrimSpace(string(holder))}
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	cmdline, _ := os.ReadFile("/proc/self/cmdline")
	holder := fmt.Sprintf("pid %d (%s) since %s", os.Getpid(),
		strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " ")), time.Now().UTC().Format(time.RFC3339))
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(holder+"\n"), 0)
	}
	return &Lock{f: f}, nil
}

// Release frees the lock. The file stays (removing it would race with a
// waiter that opened it).
func (l *Lock) Release() {
	if l == nil || l.f == nil {
		return
	}
	l.f.Truncate(0)
	unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
	l.f.Close()
	l.f = nil
}
