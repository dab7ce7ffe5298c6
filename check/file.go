package check

import (
	"context"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// File is FILE_CHECK: an external agent writes a number to a file; 0 means
// up, any other number down. A missing or unreadable file is down; text that
// is not a number counts as 0, as keepalived's track_file. The file is read
// on every delay_loop (keepalived reacts to inotify instead).
type File struct{ Path string }

// fileReadLimit bounds the read: the value is one small integer.
const fileReadLimit = 128

// Check implements Checker.
func (f *File) Check(ctx context.Context) Result {
	start := time.Now()
	// Non-blocking: opening a FIFO for reading would wait for a writer.
	fh, err := os.OpenFile(f.Path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return down(start, "%v", err)
	}
	defer fh.Close()
	if fi, err := fh.Stat(); err != nil || !fi.Mode().IsRegular() {
		return down(start, "%s is not a regular file", f.Path)
	}
	b, err := io.ReadAll(io.LimitReader(fh, fileReadLimit))
	if err != nil {
		return down(start, "read %s: %v", f.Path, err)
	}
	if v := fileValue(string(b)); v != 0 {
		return down(start, "%s holds %d", f.Path, v)
	}
	return up(start)
}

// fileValue reads the leading integer of s; anything else is 0.
func fileValue(s string) int64 {
	s = strings.TrimSpace(s)
	end := 0
	for end < len(s) && (s[end] >= '0' && s[end] <= '9' || end == 0 && (s[0] == '-' || s[0] == '+')) {
		end++
	}
	v, err := strconv.ParseInt(s[:end], 10, 64)
	if err != nil {
		return 0
	}
	return v
}
