// Package safefile reads and writes files that someone else may have
// pointed lbx at: it reads only regular files, up to a size limit, without
// ever blocking on a FIFO or reading a device without end; it writes
// without following a link (WriteFile).
package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// ErrNotRegular, ErrTooLarge and ErrNotPrivate are the refusals, for
// errors.Is.
var (
	ErrNotRegular = errors.New("not a regular file")
	ErrTooLarge   = errors.New("file too large")
	ErrNotPrivate = errors.New("not the process user's own file")
)

// Error is a refusal: Path is the file, Reason says why and what to do.
type Error struct {
	Path, Reason string
	Err          error // ErrNotRegular or ErrTooLarge
}

func (e *Error) Error() string { return e.Path + ": " + e.Reason }
func (e *Error) Unwrap() error { return e.Err }

// ReadFile returns the contents of path if it is a regular file of at most
// max bytes. A special file is refused before it is opened (opening some
// devices does something); the open is non-blocking (a FIFO swapped in
// meanwhile would otherwise hang it) and checked again with fstat on the
// descriptor; a file that grows past max while being read is refused too.
func ReadFile(path string, max int64) ([]byte, error) {
	return read(path, max, nil)
}

// ReadPrivateFile is ReadFile for a file whose contents lbx acts on as its
// own word (the ownership record says what it may delete): it must belong
// to the process's user or to root and be writable by nobody else, or
// another local user could have put it there.
func ReadPrivateFile(path string, max int64) ([]byte, error) {
	return read(path, max, private)
}

// private refuses a file of a user other than ours or root, or one that
// others may write.
func private(path string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if uid := os.Geteuid(); st.Uid != uint32(uid) && st.Uid != 0 {
		return &Error{Path: path, Err: ErrNotPrivate,
			Reason: fmt.Sprintf("owned by uid %d, neither lbx's user (uid %d) nor root; another user may have put it there: check it, then chown it or move it away", st.Uid, uid)}
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return &Error{Path: path, Err: ErrNotPrivate,
			Reason: fmt.Sprintf("writable by other users (mode %v); check it, then chmod go-w it", fi.Mode().Perm())}
	}
	return nil
}

func read(path string, max int64, extra func(string, fs.FileInfo) error) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := check(path, fi, max); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return nil, err
	}
	if err := check(path, fi, max); err != nil {
		return nil, err
	}
	if extra != nil {
		if err := extra(path, fi); err != nil {
			return nil, err
		}
	}
	data, err := readAll(f, fi.Size(), max)
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, tooLarge(path, max)
	}
	return data, nil
}

// readAll reads f to its end, or to one byte past max, into a buffer of
// the size fstat gave (and a byte to see the end): io.ReadAll grows its
// buffer from 512 bytes, allocating twice a large model's size on the way.
func readAll(f io.Reader, size, max int64) ([]byte, error) {
	data := make([]byte, 0, min(size, max)+1)
	for int64(len(data)) <= max {
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)] // grown since the fstat
		}
		n, err := f.Read(data[len(data):int(min(int64(cap(data)), max+1))])
		data = data[:len(data)+n]
		if err == io.EOF {
			return data, nil
		}
		if err != nil {
			return nil, err
		}
	}
	return data, nil
}

func check(path string, fi fs.FileInfo, max int64) error {
	if !fi.Mode().IsRegular() {
		return &Error{Path: path, Err: ErrNotRegular,
			Reason: fmt.Sprintf("%s, not a regular file; give the path of a regular file", kind(fi.Mode()))}
	}
	if fi.Size() > max {
		return tooLarge(path, max)
	}
	return nil
}

func tooLarge(path string, max int64) error {
	return &Error{Path: path, Err: ErrTooLarge,
		Reason: fmt.Sprintf("larger than %s, the limit for one file; check that this is the right file, or split it", Size(max))}
}

// Size formats a limit for messages: 64 MiB, 512 KiB, 100 bytes.
func Size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	}
	return "a special file"
}
