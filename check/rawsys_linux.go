package check

import (
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The event loop's system calls, made raw. None of them can block: the
// sockets are non-blocking, close has no linger, epoll_pwait is called with
// a zero timeout (the loop sleeps on its waiter instead: waiter_linux.go). Made
// through x/sys/unix's wrappers, each would tell the runtime it may block
// (entersyscall): when the process was idle, that wakes the runtime's
// monitor thread, which then polls every 20 µs for a while. In the bench
// VM that was most of lbx's 1,800 context switches and 1,200 nanosleeps a
// second at 200 probes a second (keepalived: 190 and none).

func rawErr(e unix.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

func rawSocket(family, typ int) (int, error) {
	fd, _, e := unix.RawSyscall(unix.SYS_SOCKET, uintptr(family), uintptr(typ), 0)
	if e != 0 {
		return -1, e
	}
	return int(fd), nil
}

// rawConnect starts a connection to ap (EINPROGRESS on a non-blocking
// socket is the usual answer).
func rawConnect(fd int, ap netip.AddrPort) error {
	var sa unsafe.Pointer
	var size uintptr
	if a := ap.Addr(); a.Is4() {
		sa4 := unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: a.As4()}
		putPort(&sa4.Port, ap.Port())
		sa, size = unsafe.Pointer(&sa4), unsafe.Sizeof(sa4)
	} else {
		sa6 := unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: a.As16()}
		putPort(&sa6.Port, ap.Port())
		sa, size = unsafe.Pointer(&sa6), unsafe.Sizeof(sa6)
	}
	_, _, e := unix.RawSyscall(unix.SYS_CONNECT, uintptr(fd), uintptr(sa), size)
	return rawErr(e)
}

// putPort stores port in network byte order, as sockaddr wants it.
func putPort(p *uint16, port uint16) {
	b := (*[2]byte)(unsafe.Pointer(p))
	b[0], b[1] = byte(port>>8), byte(port)
}

func rawRead(fd int, b []byte) (int, error)  { return rawIO(unix.SYS_READ, fd, b) }
func rawWrite(fd int, b []byte) (int, error) { return rawIO(unix.SYS_WRITE, fd, b) }

// rawIO is read(2) or write(2) of b.
func rawIO(trap uintptr, fd int, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	n, _, e := unix.RawSyscall(trap, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}

func rawClose(fd int) {
	unix.RawSyscall(unix.SYS_CLOSE, uintptr(fd), 0, 0)
}

// closeWithReset closes the socket with a reset (SO_LINGER on, 0 s): the
// connection ends at once on both ends, with no FIN exchange and no
// TIME_WAIT socket left on either.
func closeWithReset(fd int) {
	l := unix.Linger{Onoff: 1, Linger: 0}
	unix.RawSyscall6(unix.SYS_SETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_LINGER, uintptr(unsafe.Pointer(&l)), unsafe.Sizeof(l), 0)
	rawClose(fd)
}

// rawDisconnect ends the socket's connection (connect to AF_UNSPEC): a
// reset when it was connected, as closeWithReset sends, and the socket is
// left unbound and ready to connect again.
func rawDisconnect(fd int) error {
	sa := unix.RawSockaddrInet4{Family: unix.AF_UNSPEC}
	_, _, e := unix.RawSyscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&sa)), unsafe.Sizeof(sa))
	return rawErr(e)
}

// rawSoError is the socket's pending error (SO_ERROR): why a connect
// failed, 0 once it succeeded.
func rawSoError(fd int) (int, error) {
	var v int32
	l := uint32(unsafe.Sizeof(v))
	_, _, e := unix.RawSyscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_ERROR, uintptr(unsafe.Pointer(&v)), uintptr(unsafe.Pointer(&l)), 0)
	return int(v), rawErr(e)
}

func rawEpollAdd(epfd, fd int, events uint32) error {
	return rawEpollCtl(epfd, unix.EPOLL_CTL_ADD, fd, events)
}

// rawEpollCtl is epoll_ctl(2) of fd with events (op ADD or MOD).
func rawEpollCtl(epfd, op, fd int, events uint32) error {
	ev := unix.EpollEvent{Events: events, Fd: int32(fd)}
	_, _, e := unix.RawSyscall6(unix.SYS_EPOLL_CTL, uintptr(epfd), uintptr(op), uintptr(fd), uintptr(unsafe.Pointer(&ev)), 0, 0)
	return rawErr(e)
}

// rawEpollPoll collects the events ready now (timeout 0: never blocks).
func rawEpollPoll(epfd int, events []unix.EpollEvent) int {
	n, _, e := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	if e != 0 {
		return 0 // EINTR: the caller's loop comes round again
	}
	return int(n)
}
