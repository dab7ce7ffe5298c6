// Command relisten raises the accept backlog of another process's
// listening TCP sockets: it takes a duplicate of each (pidfd_getfd, Linux
// 5.6 and later, root) and calls listen(2) on it again, which on Linux
// sets the backlog of the socket both processes share.
//
// The bench VM needs it for busybox httpd, which listens with a backlog of
// 9: with 500 real servers checked every second, that one queue overflowed
// about once a probe, each overflow cost a probe a 1 s SYN retransmission,
// and two in a row took a server down — the rig's limit, not the
// checkers'. Usage: relisten PID BACKLOG.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: relisten PID BACKLOG")
		os.Exit(2)
	}
	pid, err1 := strconv.Atoi(os.Args[1])
	backlog, err2 := strconv.Atoi(os.Args[2])
	if err1 != nil || err2 != nil || backlog < 1 {
		fmt.Fprintln(os.Stderr, "relisten: PID and BACKLOG are positive numbers")
		os.Exit(2)
	}
	n, err := relisten(pid, backlog)
	if err != nil {
		fmt.Fprintln(os.Stderr, "relisten:", err)
		os.Exit(1)
	}
	if n == 0 {
		fmt.Fprintf(os.Stderr, "relisten: process %d has no listening socket\n", pid)
		os.Exit(1)
	}
	fmt.Printf("relisten: %d listening socket(s) of process %d now have backlog %d\n", n, pid, backlog)
}

// relisten sets backlog on every listening socket of pid and returns how
// many it found.
func relisten(pid, backlog int) (int, error) {
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return 0, fmt.Errorf("pidfd_open %d: %w", pid, err)
	}
	defer unix.Close(pidfd)
	links, err := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", pid))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, l := range links {
		target, err := os.Readlink(l)
		if err != nil || !strings.HasPrefix(target, "socket:") {
			continue
		}
		remote, err := strconv.Atoi(filepath.Base(l))
		if err != nil {
			continue
		}
		fd, err := unix.PidfdGetfd(pidfd, remote, 0)
		if err != nil {
			return n, fmt.Errorf("pidfd_getfd %d of process %d: %w", remote, pid, err)
		}
		if on, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); err == nil && on == 1 {
			if err := unix.Listen(fd, backlog); err != nil {
				unix.Close(fd)
				return n, fmt.Errorf("listen on fd %d of process %d: %w", remote, pid, err)
			}
			n++
		}
		unix.Close(fd)
	}
	return n, nil
}
