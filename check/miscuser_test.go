package check

import (
	"context"
	"strconv"
	"testing"

	"github.com/lbx-dev/lbx/internal/script/scripttest"
	"github.com/lbx-dev/lbx/model"
)

// A MISC_CHECK runs as its own user, else as the model's default script
// user (script_user here), as keepalived; the user travels in the spec
// lbx-check is given.
func TestMiscRunsAsItsUser(t *testing.T) {
	nobody, dir := scripttest.Nobody(t)
	m, err := model.Parse([]byte(`version: 1
global: {script_user: nobody}
virtual_servers:
  - address: 10.0.0.1
    port: 80
    protocol: tcp
    real_servers:
      - address: 10.0.1.1
        checks:
          - {type: misc, path: "/bin/sh -c \"`+scripttest.WriteUID(dir, "default")+`\""}
      - address: 10.0.1.2
        checks:
          - {type: misc, path: "/bin/sh -c \"`+scripttest.WriteUID(dir, "own")+`\"", user: root}
`), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ts, err := TargetsFromModel(m)
	if err != nil || len(ts) != 2 {
		t.Fatalf("%d targets, %v", len(ts), err)
	}
	for i, tc := range []struct{ name, want string }{
		{"default", strconv.Itoa(int(nobody.Uid))},
		{"own", "0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// As lbx-check builds it: from the spec alone.
			ch, _, err := FromSpec(ts[i].Checks[0].Spec)
			if err != nil {
				t.Fatal(err)
			}
			if r := ch.Check(context.Background()); !r.Up {
				t.Fatalf("check down: %+v", r)
			}
			if got := scripttest.UID(t, dir, tc.name); got != tc.want {
				t.Errorf("ran as uid %q, want %s", got, tc.want)
			}
		})
	}
}
