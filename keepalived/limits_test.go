package keepalived

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/internal/safefile/safefiletest"
)

// dag is a chain of n files, each including the next twice: 2^n file reads
// if includes cost nothing.
func dag(n int, leaf string) memFS {
	files := memFS{}
	for i := 0; i < n; i++ {
		files[fmt.Sprintf("d%d.conf", i)] = fmt.Sprintf("include d%[1]d.conf\ninclude d%[1]d.conf\n", i+1)
	}
	files[fmt.Sprintf("d%d.conf", n)] = leaf
	return files
}

// TestIncludeWork: includes count toward the work limit, and the bytes read
// toward a total, so an include DAG is refused after bounded work (it was
// exponential).
func TestIncludeWork(t *testing.T) {
	megaLine := "! " + strings.Repeat("x", 1<<20-3) + "\n"
	cases := []struct {
		name     string
		files    memFS
		maxReads int
		want     string
	}{
		{"include DAG 2^20", dag(20, "! leaf\n"), maxWork/includeWork + 1, ".conf:1: error: configuration expands to more than"},
		{"1 MiB file read 2^7 times", dag(7, megaLine), 2*(maxTotalBytes>>20) + 8, "included files add up to more than 64 MiB"}, // a DAG file read before each leaf
		{"file over the per-file limit", memFS{"d0.conf": strings.Repeat("!\n", maxFileBytes/2+1)}, 2, "d0.conf: larger than 16 MiB"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.files["main.conf"] = "include d0.conf\n"
			opt := tc.files.opts("h")
			reads := 0
			read := opt.ReadFile
			opt.ReadFile = func(name string) ([]byte, error) {
				reads++
				return read(name)
			}
			_, err := ParseFile("main.conf", opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v\nwant it to contain %q", err, tc.want)
			}
			if reads > tc.maxReads {
				t.Errorf("%d files read, want at most %d", reads, tc.maxReads)
			}
		})
	}
}

// TestIncludeSpecialFiles: the real file system, where an include of a
// device or FIFO used to read without end or block for ever; they are
// refused at the include's line, as is a main file that is not regular.
func TestIncludeSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	fifo, _ := safefiletest.Specials(t, dir, ".conf", maxFileBytes)
	cases := []struct{ name, main, want string }{
		{"include /dev/zero", "global_defs {\n}\ninclude /dev/zero\n", "main.conf:3: error: cannot include /dev/zero: a character device, not a regular file"},
		{"include a FIFO", "include fifo.conf\n", "main.conf:1: error: cannot include " + fifo + ": a named pipe (FIFO), not a regular file"},
		{"include a FIFO by glob", "include fifo.*\n", "main.conf:1: error: cannot include " + fifo + ": a named pipe (FIFO)"},
		{"include a directory", "include " + dir + "\n", "a directory, not a regular file"},
		{"include a file over the limit", "include big.conf\n", "big.conf: larger than 16 MiB"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			main := filepath.Join(dir, "main.conf")
			if err := os.WriteFile(main, []byte(tc.main), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := ParseFile(main, Options{ConfigID: "h"})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
	t.Run("main file a FIFO", func(t *testing.T) {
		_, err := ParseFile(fifo, Options{ConfigID: "h"})
		if want := fifo + ": a named pipe (FIFO), not a regular file"; err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("error %v\nwant it to contain %q", err, want)
		}
	})
	t.Run("missing include still only warns", func(t *testing.T) {
		res, err := Parse([]byte("include nope.conf\n"), filepath.Join(dir, "m.conf"), Options{ConfigID: "h"})
		if err != nil || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0].Msg, "matches no file") {
			t.Fatalf("got %v, %+v; want one warning", err, res)
		}
	})
}
