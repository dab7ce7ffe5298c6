package watch

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/internal/testkit"
	"github.com/lbx-dev/lbx/model"
)

// TestBGPPreflight: what lbx watch (and lbx validate) refuse of a bgp
// section beyond the model's own checks, at the field's line: a speaker
// binary not found, a password file that does not read.
func TestBGPPreflight(t *testing.T) {
	dir := t.TempDir()
	good, empty := filepath.Join(dir, "pw"), filepath.Join(dir, "empty")
	if err := os.WriteFile(good, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := testkit.Binaries(t, "./cmd/lbx-bgp") // lbx-bgp, found on PATH (the test binary has none next to it)
	speaker := func(pw string) string {
		return "  local_as: 65001\n  router_id: 10.0.0.1\n  peers: [{address: 10.0.0.254, as: 65000, password_file: " + pw + "}]\n"
	}
	cases := []struct {
		name, bgp, path string
		want            string // "" accepted
	}{
		{"kernel announcer needs no lbx-bgp", "  announcer: kernel\n  kernel: {table: 100}\n", "/nonexistent", ""},
		{"speaker with its password", speaker(good), bin, ""},
		{"no lbx-bgp", speaker(good), "/nonexistent", "m.yaml:4:3: bgp: lbx-bgp (lbx's BGP speaker) is neither next to lbx nor on PATH"},
		{"missing password file", speaker(dir + "/nope"), bin, "m.yaml:6:59: bgp.peers[0].password_file: open " + dir + "/nope: no such file"},
		{"empty password file", speaker(empty), bin, "bgp.peers[0].password_file: " + empty + ": want one line of 1 to 80 bytes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("PATH", tc.path)
			y := "version: 1\naddresses: [{address: 192.0.2.10/32, interface: lo}]\nbgp:\n" + tc.bgp + "  announcements: [{prefix: 192.0.2.10/32}]\n"
			m, err := model.Parse([]byte(y), "m.yaml")
			if err != nil {
				t.Fatal(err)
			}
			err = bgpPreflight(m, slog.New(slog.DiscardHandler))
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want %q in it", err, tc.want)
			}
		})
	}
}
