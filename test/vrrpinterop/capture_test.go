package vrrpinterop

import (
	"syscall"
	"testing"

	"github.com/lbx-dev/lbx/internal/nstest"
)

// socketIn opens a socket in ns (a raw or packet socket that sees ns's
// traffic).
func socketIn(tb testing.TB, ns *nstest.NS, domain, typ, proto int) int {
	tb.Helper()
	var fd int
	var err error
	ns.In(tb, func() { fd, err = syscall.Socket(domain, typ, proto) })
	if err != nil {
		tb.Fatal(err)
	}
	return fd
}

// capture hands every packet read from fd to seen, from a goroutine,
// until the test ends: its cleanup closes fd, which ends the read.
func capture(tb testing.TB, fd int, seen func(pkt []byte)) {
	tb.Cleanup(func() { syscall.Close(fd) })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, _, err := syscall.Recvfrom(fd, buf, 0)
			if err != nil {
				return
			}
			seen(buf[:n])
		}
	}()
}
