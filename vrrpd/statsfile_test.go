package vrrpd

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/lbx-dev/lbx/internal/clock"
)

// TestStatsFileNoLinks is issue 26 item 9: --stats-file never writes
// through a symbolic link a user planted at the file or at the temporary
// name it used to write first (stats.json.tmp), and is refused in a
// directory every user may write without the sticky bit.
func TestStatsFileNoLinks(t *testing.T) {
	tests := []struct {
		name    string
		dirMode os.FileMode
		link    string // name of a link to the victim file, if any
		written bool
	}{
		{name: "plain", dirMode: 0o755, written: true},
		{name: "link at the old temporary name", dirMode: 0o755, link: "stats.json.tmp", written: true},
		{name: "link at the file", dirMode: 0o755, link: "stats.json", written: true},
		{name: "world-writable directory", dirMode: 0o777},
		{name: "world-writable sticky directory", dirMode: 0o777 | os.ModeSticky, written: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			victim := filepath.Join(t.TempDir(), "victim")
			os.WriteFile(victim, []byte("precious"), 0o600)
			dir := filepath.Join(t.TempDir(), "d")
			os.Mkdir(dir, 0o755)
			if err := os.Chmod(dir, tc.dirMode); err != nil {
				t.Fatal(err)
			}
			if tc.link != "" {
				if err := os.Symlink(victim, filepath.Join(dir, tc.link)); err != nil {
					t.Fatal(err)
				}
			}
			file := filepath.Join(dir, "stats.json")
			d := &Daemon{opt: Options{StatsFile: file}, clk: clock.Real(), log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			d.Counters.inc(CounterKey{Name: "VI_1"}, "adverts_sent")
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			d.writeStats(ctx) // writes once, then sees the stop

			if b, _ := os.ReadFile(victim); string(b) != "precious" {
				t.Errorf("the link's target was written: %q", b)
			}
			fi, err := os.Lstat(file)
			if !tc.written {
				if err == nil {
					t.Errorf("stats file written in a %v directory", tc.dirMode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !fi.Mode().IsRegular() {
				t.Fatalf("stats file of mode %v; want a regular file", fi.Mode())
			}
			var got map[string]uint64
			b, _ := os.ReadFile(file)
			if err := json.Unmarshal(b, &got); err != nil || got["adverts_sent"] != 1 {
				t.Errorf("stats file %q (%v); want adverts_sent 1", b, err)
			}
			for _, e := range mustReadDir(t, dir) {
				if e.Name() != "stats.json" && e.Name() != tc.link {
					t.Errorf("left in the directory: %s", e.Name())
				}
			}
		})
	}
}

func mustReadDir(t *testing.T, dir string) []os.DirEntry {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return ents
}
