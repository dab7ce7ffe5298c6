// Package fdtest is test support for code that must survive running out of
// file descriptors: Exhaust fills the calling process's descriptor table
// for real (the kernel then answers EMFILE), and Count counts a process's
// open descriptors.
package fdtest

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
	"testing"
)

// Count returns the number of open file descriptors of process pid (0:
// this process), from /proc/PID/fd.
func Count(t testing.TB, pid int) int {
	t.Helper()
	dir := "/proc/self/fd"
	if pid != 0 {
		dir = fmt.Sprintf("/proc/%d/fd", pid)
	}
	e, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("count fds: %v", err)
	}
	return len(e)
}

// Exhaust fills this process's descriptor table: it lowers the soft
// RLIMIT_NOFILE to just above the highest descriptor in use and opens
// /dev/null until the kernel refuses with EMFILE. Until release (also
// run at cleanup) every call that needs a new descriptor in this process
// fails with EMFILE; release closes the fillers and restores the limit.
// Make the descriptors the test needs (client sockets) before Exhaust.
// Not for parallel tests: the whole process is out of descriptors.
func Exhaust(t testing.TB) (release func()) {
	t.Helper()
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	top := highest(t)
	lowered := old
	lowered.Cur = uint64(top) + 8
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lowered); err != nil {
		t.Fatalf("lower RLIMIT_NOFILE: %v", err)
	}
	var fillers []int
	for {
		fd, err := syscall.Open(os.DevNull, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err == syscall.EMFILE {
			break
		}
		if err != nil {
			t.Fatalf("fill the fd table: %v", err)
		}
		fillers = append(fillers, fd)
	}
	done := false
	release = func() {
		if done {
			return
		}
		done = true
		for _, fd := range fillers {
			syscall.Close(fd)
		}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
			t.Errorf("restore RLIMIT_NOFILE: %v", err)
		}
	}
	t.Cleanup(release)
	return release
}

// highest returns the highest open descriptor of this process.
func highest(t testing.TB) int {
	t.Helper()
	e, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("list fds: %v", err)
	}
	top := 0
	for _, d := range e {
		if n, err := strconv.Atoi(d.Name()); err == nil {
			top = max(top, n)
		}
	}
	return top
}
