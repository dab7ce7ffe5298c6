package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/testkit"
)

// TestValidateRefusesWhatWatchRefuses: lbx validate (ExecReload's guard)
// refuses what lbx watch would refuse at start, with file:line, and lbx
// watch, started on the same file, refuses it too (before touching
// anything: it exits without a kernel to apply to).
func TestValidateRefusesWhatWatchRefuses(t *testing.T) {
	testkit.RequireRoot(t, "script security (files owned by root)")
	if _, err := exec.LookPath("unshare"); err != nil {
		testkit.Skip(t, "no unshare (util-linux)")
	}
	dir := buildBinaries(t)
	tmp := t.TempDir()
	open := filepath.Join(tmp, "open.sh")
	if err := os.WriteFile(open, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(open, 0o777)
	instance := func(extra string) string {
		return "vrrp_instances:\n  - name: VI_1\n    interface: lo\n    virtual_router_id: 51\n" + extra
	}
	vips := "    virtual_addresses: [{address: 10.9.9.9/32}]\n"
	for _, tc := range []struct {
		name  string
		model string
		says  string // "" = valid
		line  string // file:line in the error
	}{
		{"no virtual addresses, VRRPv3", "version: 1\n" + instance("    version: 3\n"), "no virtual_addresses", ":3:"},
		{"no virtual addresses, VRRPv2 (keepalived runs it)", "version: 1\n" + instance(""), "", ""},
		{"unsafe script under script security", "version: 1\nglobal: {enable_script_security: true, script_user: root}\n" +
			instance(vips+"    notify: {master: /bin/sh "+open+"}\n"), "is writable by everyone", ":8:"},
		{"unknown script user", "version: 1\nglobal: {script_user: no-such-user-lbx}\n" + instance(vips), "does not exist", ":2:"},
		{"unsafe script without script security", "version: 1\nglobal: {script_user: root}\n" +
			instance(vips+"    notify: {master: /bin/sh "+open+"}\n"), "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "m.yaml")
			if err := os.WriteFile(f, []byte(tc.model), 0o644); err != nil {
				t.Fatal(err)
			}
			stderr, code := run(t, filepath.Join(dir, "lbx"), "validate", "-f", f)
			if tc.says == "" {
				if code != 0 {
					t.Fatalf("exit %d:\n%s", code, stderr)
				}
				return
			}
			if code != 1 || !strings.Contains(stderr, f+tc.line) || !strings.Contains(stderr, tc.says) {
				t.Fatalf("exit %d, want 1 with %s%s ... %q:\n%s", code, f, tc.line, tc.says, stderr)
			}
			// lbx watch refuses the same model before it does anything.
			run := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			// In a network namespace of its own: were it not to refuse,
			// the host would keep nothing of it.
			cmd := exec.CommandContext(ctx, "unshare", "--net", filepath.Join(dir, "lbx"), "watch", "-f", f, "--run-dir", run, "--state-dir", t.TempDir())
			var out bytes.Buffer
			cmd.Stderr = &out
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || !strings.Contains(out.String(), tc.says) {
				t.Fatalf("lbx watch: %v, want a refusal saying %q:\n%s", err, tc.says, out.String())
			}
		})
	}
}
