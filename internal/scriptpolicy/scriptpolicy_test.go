package scriptpolicy

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/internal/testkit"
	"github.com/lbx-dev/lbx/model"
)

// modelWith is a model where one script (at the line marked # HERE) is
// cmd; every other script is safe.
func modelWith(safe, security, scriptUser, at, cmd string) string {
	s := map[string]string{"track": safe, "notify": safe, "group": safe, "quorum": safe, "rsnotify": safe, "misc": safe, "miscuser": ""}
	s[at] = cmd
	mark := func(k string) string {
		if k == at {
			return " # HERE"
		}
		return ""
	}
	user := ""
	if s["miscuser"] != "" {
		user = "\n            user: " + s["miscuser"] + mark("miscuser")
	}
	return fmt.Sprintf(`version: 1
global:
  enable_script_security: %s
  script_user: %s
scripts:
  chk:
    script: %s%s
vrrp_instances:
  - name: VI_1
    interface: eth0
    virtual_router_id: 51
    virtual_addresses: [{address: 10.0.0.1/24}]
    track_scripts: [{name: chk}]
    notify:
      master: %s%s
sync_groups:
  - name: G
    members: [VI_1]
    notify:
      backup: %s%s
virtual_servers:
  - address: 10.0.0.1
    port: 80
    protocol: tcp
    quorum:
      down_script: %s%s
    real_servers:
      - address: 10.0.1.1
        notify_up: %s%s
        checks:
          - type: misc
            path: %s%s%s
`, security, scriptUser, s["track"], mark("track"), s["notify"], mark("notify"), s["group"], mark("group"),
		s["quorum"], mark("quorum"), s["rsnotify"], mark("rsnotify"), s["misc"], mark("misc"), user)
}

func TestCheck(t *testing.T) {
	testkit.RequireRoot(t, "script policy (the scripts' files must be owned by root)")
	dir := t.TempDir()
	safe := filepath.Join(dir, "safe.sh")
	open := filepath.Join(dir, "open.sh")
	for _, p := range []string{safe, open} {
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(open, 0o757)
	for _, tc := range []struct {
		name       string
		security   string
		scriptUser string
		at, cmd    string
		want       string // in the error at the # HERE line; "" = valid
	}{
		{"all safe", "true", "root", "track", safe, ""},
		{"track script", "true", "root", "track", open, "is writable by everyone"},
		{"instance notify", "true", "root", "notify", "/bin/sh " + open, "is writable by everyone"},
		{"sync group notify", "true", "root", "group", "python3 " + open, "is writable by everyone"},
		{"quorum down", "true", "root", "quorum", open + " down", "is writable by everyone"},
		{"real server notify_up", "true", "root", "rsnotify", open, "is writable by everyone"},
		{"MISC_CHECK", "true", "root", "misc", open + " 10.0.1.1", "is writable by everyone"},
		{"MISC_CHECK's own user exists not", "true", "root", "miscuser", "no-such-user-lbx", "does not exist"},
		{"without script security: a warning", "false", "root", "track", open, ""},
		{"run as nobody: nothing to protect", "true", "nobody", "notify", open, ""},
		{"unknown script_user", "false", "no-such-user-lbx", "", "", "global.script_user"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y := modelWith(safe, tc.security, tc.scriptUser, tc.at, tc.cmd)
			m, err := model.Parse([]byte(y), "m.yaml")
			if err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			err = Check(m, slog.New(slog.NewTextHandler(&logs, nil)))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if tc.security == "false" && !strings.Contains(logs.String(), "SECURITY VIOLATION") {
					t.Errorf("no warning logged:\n%s", logs.String())
				}
				return
			}
			es, ok := model.AsErrors(err)
			if !ok || len(es) != 1 {
				t.Fatalf("err %v, want one field error", err)
			}
			line := 0
			for i, l := range strings.Split(y, "\n") {
				if strings.Contains(l, "# HERE") || (tc.at == "" && strings.Contains(l, "script_user")) {
					line = i + 1
				}
			}
			if es[0].Pos.Line != line || !strings.Contains(es[0].Error(), tc.want) {
				t.Fatalf("got %v (line %d), want %q at line %d", es[0], es[0].Pos.Line, tc.want, line)
			}
		})
	}
}
