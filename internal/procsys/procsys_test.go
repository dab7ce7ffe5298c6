package procsys

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "setting")
	if err := os.WriteFile(existing, []byte("0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path string
		want       string // the file's content after, "" for an error
		wantErr    error
	}{
		{"an existing setting is overwritten", existing, "1\n", nil},
		{"a missing setting is not created", filepath.Join(dir, "missing"), "", fs.ErrNotExist},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Write(tc.path, "1")
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Write: %v, want %v", err, tc.wantErr)
			}
			got, rerr := os.ReadFile(tc.path)
			if tc.want == "" {
				if rerr == nil {
					t.Fatalf("Write created %s", tc.path)
				}
				return
			}
			if string(got) != tc.want {
				t.Errorf("content %q, want %q", got, tc.want)
			}
		})
	}
}
