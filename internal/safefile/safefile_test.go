package safefile

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/iotest"
)

// TestReadFile: regular files up to the limit are read; everything else is
// refused at once with the file's name and kind.
func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	link := filepath.Join(dir, "link")
	if err := os.Symlink(write("target", "abc"), link); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path string
		max        int64
		want       string // contents, or the error's text
		is         error
	}{
		{"regular", write("ok", "hello"), 5, "hello", nil},
		{"symlink to regular", link, 5, "abc", nil},
		{"one byte over", write("big", "hello!"), 5, "big: larger than 5 bytes", ErrTooLarge},
		{"fifo", fifo, 5, "fifo: a named pipe (FIFO), not a regular file", ErrNotRegular},
		{"socket", sock, 5, "sock: a socket, not a regular file", ErrNotRegular},
		{"char device", "/dev/zero", 5, "/dev/zero: a character device, not a regular file", ErrNotRegular},
		{"directory", dir, 5, "a directory, not a regular file", ErrNotRegular},
		{"missing", filepath.Join(dir, "nope"), 5, "no such file", os.ErrNotExist},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data, err := ReadFile(tc.path, tc.max)
			if tc.is == nil {
				if err != nil || string(data) != tc.want {
					t.Fatalf("got %q, %v; want %q", data, err, tc.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, tc.is) {
				t.Fatalf("error %v, want one containing %q and matching %v", err, tc.want, tc.is)
			}
		})
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{64 << 20: "64 MiB", 16 << 10: "16 KiB", 100: "100 bytes", 1<<20 + 1: "1048577 bytes"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}

// readAll reads to the end whatever fstat said (a file may grow or shrink
// between the two), in one allocation when the size was right, and stops
// one byte past max; short reads (iotest.OneByteReader) change nothing.
func TestReadAll(t *testing.T) {
	big := strings.Repeat("x", 1<<20)
	cases := []struct {
		name      string
		data      string
		size, max int64
		want      string
		allocs    float64 // at most; 0: not checked
	}{
		{"size right", big, 1 << 20, 2 << 20, big, 1},
		{"grown since the fstat", "hello world", 5, 20, "hello world", 0},
		{"shrunk since the fstat", "hi", 5, 10, "hi", 1},
		{"empty", "", 0, 10, "", 1},
		{"past max: one byte more, no further", "hello world", 5, 6, "hello w", 0},
		{"stated over max", "hello world", 11, 6, "hello w", 1},
	}
	for _, tc := range cases {
		for _, slow := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/one byte a read=%v", tc.name, slow), func(t *testing.T) {
				open := func() io.Reader {
					var r io.Reader = strings.NewReader(tc.data)
					if slow {
						r = iotest.OneByteReader(r)
					}
					return r
				}
				got, err := readAll(open(), tc.size, tc.max)
				if err != nil || string(got) != tc.want {
					t.Fatalf("got %q (%d bytes), %v; want %.20q (%d bytes)", got[:min(len(got), 20)], len(got), err, tc.want, len(tc.want))
				}
				if tc.allocs > 0 && !slow {
					if n := testing.AllocsPerRun(10, func() { readAll(open(), tc.size, tc.max) }); n > tc.allocs+1 { // + the reader
						t.Errorf("%v allocations; want the buffer's one", n)
					}
				}
			})
		}
	}
	failing := iotest.ErrReader(errors.New("disk on fire"))
	if _, err := readAll(failing, 5, 10); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("a failed read: %v", err)
	}
}

// TestReadPrivateFile: a file lbx acts on as its own word is read only if
// it belongs to the process's user and no one else may write it.
func TestReadPrivateFile(t *testing.T) {
	dir := t.TempDir()
	file := func(name string, mode os.FileMode, uid int) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("{}"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // past the umask
			t.Fatal(err)
		}
		if uid != os.Geteuid() {
			if err := os.Chown(p, uid, -1); err != nil {
				t.Skipf("chown to uid %d: %v (needs root)", uid, err)
			}
		}
		return p
	}
	me := os.Geteuid()
	cases := []struct {
		name, path string
		want       string // "" or the error's text
	}{
		{"own, 0644", file("own", 0o644, me), ""},
		{"own, group-writable", file("gw", 0o664, me), "writable by other users"},
		{"own, world-writable", file("ww", 0o646, me), "writable by other users"},
		{"another user's", file("theirs", 0o644, 65534), "owned by uid 65534"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data, err := ReadPrivateFile(tc.path, 10)
			if tc.want == "" {
				if err != nil || string(data) != "{}" {
					t.Fatalf("got %q, %v", data, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrNotPrivate) {
				t.Fatalf("error %v, want one containing %q and matching ErrNotPrivate", err, tc.want)
			}
		})
	}
}
