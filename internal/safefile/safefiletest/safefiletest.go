// Package safefiletest makes the files a bounded reader must refuse, for
// the tests of the readers built on internal/safefile.
package safefiletest

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// Specials makes in dir a named pipe and a sparse regular file one byte
// over max (no disk used), both named with ext ("fifo"+ext, "big"+ext).
func Specials(t testing.TB, dir, ext string, max int64) (fifo, big string) {
	t.Helper()
	fifo = filepath.Join(dir, "fifo"+ext)
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big = filepath.Join(dir, "big"+ext)
	if err := os.WriteFile(big, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, max+1); err != nil {
		t.Fatal(err)
	}
	return fifo, big
}
