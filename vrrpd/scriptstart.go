package vrrpd

import (
	"errors"
	"os/exec"
	"syscall"

	"github.com/lbx-dev/lbx/internal/script"
)

// startShortage reports whether a script's error is a failure to start it
// for want of a resource (file descriptors, memory, processes): the script
// never ran, so it says nothing about what it checks and must not count as
// its failure. A script that ran and failed, or timed out, or could not
// start for another reason (no /bin/sh, permission), is no shortage.
func startShortage(err error) bool {
	var ee *exec.ExitError
	if err == nil || errors.As(err, &ee) || errors.Is(err, script.ErrTimeout) || errors.Is(err, script.ErrStopped) {
		return false
	}
	for _, e := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOMEM, syscall.EAGAIN, syscall.ENOBUFS} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
