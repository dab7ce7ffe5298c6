package check

import (
	"context"
	"io"
	"os"
	"syscall"
	"time"
)

// File is FILE_CHECK: an external agent writes a number to a file; 0 means
// up, any other number down (keepalived's FILE_CHECK with weight 0). The
// number is read as keepalived's process_track_file reads it: strtol with
// base 0 on the first 127 bytes, and a file that is missing, unreadable or
// empty, or text that is not a number, is 0: up. A file that is not a
// regular one is 0 without being read (a FIFO's read could wait for a
// writer). The file is read on every delay_loop (keepalived reacts to
// inotify instead).
type File struct{ Path string }

// fileReadLimit bounds the read: keepalived reads 127 bytes.
const fileReadLimit = 127

// Check implements Checker.
func (f *File) Check(ctx context.Context) Result {
	start := time.Now()
	if v := readTrackFile(f.Path); v != 0 {
		return down(start, "%s holds %d", f.Path, v)
	}
	return up(start)
}

// readTrackFile is the file's value, 0 when it cannot be read.
func readTrackFile(path string) int64 {
	// Non-blocking: opening a FIFO for reading would wait for a writer.
	fh, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return 0
	}
	defer fh.Close()
	if fi, err := fh.Stat(); err != nil || !fi.Mode().IsRegular() {
		return 0
	}
	b, err := io.ReadAll(io.LimitReader(fh, fileReadLimit))
	if err != nil {
		return 0
	}
	return fileValue(string(b))
}

// fileValue is C's strtol(s, NULL, 0): leading white space, a sign, then
// hexadecimal after 0x, octal after 0, else decimal, up to the first
// other character; no digits is 0. Past int64 it saturates, as strtol
// does at LONG_MAX.
func fileValue(s string) int64 {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] >= '\t' && s[i] <= '\r') {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	base := uint64(10)
	switch {
	case i+2 < len(s) && s[i] == '0' && (s[i+1] == 'x' || s[i+1] == 'X') && digitOf(s[i+2]) < 16:
		base, i = 16, i+2
	case i < len(s) && s[i] == '0':
		base = 8
	}
	var v uint64
	for ; i < len(s); i++ {
		d := digitOf(s[i])
		if d >= base {
			break
		}
		if v > (1<<63-1-d)/base {
			v = 1<<63 - 1
			continue
		}
		v = v*base + d
	}
	if neg {
		return -int64(v)
	}
	return int64(v)
}

// digitOf is c's value as a digit of base up to 16; 99 if none.
func digitOf(c byte) uint64 {
	switch {
	case c >= '0' && c <= '9':
		return uint64(c - '0')
	case c >= 'a' && c <= 'f':
		return uint64(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return uint64(c-'A') + 10
	}
	return 99
}
