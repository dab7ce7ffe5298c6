package main

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// dialAll opens n connections to addr without any being accepted and
// returns how many the kernel completed: a full accept queue drops the SYN,
// whose retransmission comes after 1 s, past the timeout.
func dialAll(t *testing.T, addr string, n int) int {
	t.Helper()
	ok := 0
	for i := 0; i < n; i++ {
		c, err := net.DialTimeout("tcp", addr, 900*time.Millisecond)
		if err != nil {
			continue
		}
		t.Cleanup(func() { c.Close() })
		ok++
	}
	return ok
}

// TestRelisten: a listener with a backlog of 1 takes two connections
// unaccepted; raised by relisten (through pidfd_getfd, as for another
// process), it takes the next eight.
func TestRelisten(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	raw, err := ln.(*net.TCPListener).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var lerr error
	if err := raw.Control(func(fd uintptr) { lerr = unix.Listen(int(fd), 1) }); err != nil || lerr != nil {
		t.Fatal(err, lerr)
	}
	if got := dialAll(t, ln.Addr().String(), 4); got > 2 {
		t.Fatalf("backlog 1 completed %d connections, want at most 2 (the test cannot tell a raised backlog)", got)
	}
	n, err := relisten(os.Getpid(), 64)
	if errors.Is(err, unix.ENOSYS) {
		t.Skipf("no pidfd_getfd before Linux 5.6: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if n < 1 {
		t.Fatalf("relisten found %d listening sockets, want the test's", n)
	}
	if got := dialAll(t, ln.Addr().String(), 8); got != 8 {
		t.Fatalf("after relisten 64: %d of 8 connections completed", got)
	}
}
