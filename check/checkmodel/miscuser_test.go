package checkmodel

import (
	"context"
	"strconv"
	"testing"

	"github.com/lbx-dev/lbx/check"
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
	ts, err := Targets(m)
	if err != nil || len(ts) != 2 {
		t.Fatalf("%d targets, %v", len(ts), err)
	}
	for i, tc := range []struct{ name, want string }{
		{"default", strconv.Itoa(int(nobody.Uid))},
		{"own", "0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// As lbx-check builds it: from the spec alone.
			ch, _, err := check.Build(ts[i].Checks[0].Spec)
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

// The default user travels as written: the name, and a group only when
// script_group names one (a primary group without a name in /etc/group
// would otherwise travel as a number that lbx-check cannot look up).
func TestMiscDefaultUserInSpec(t *testing.T) {
	for _, tc := range []struct{ global, want string }{
		{"{script_user: nobody}", "nobody"},
		{"{script_user: nobody, script_group: nogroup}", "nobody nogroup"},
	} {
		m, err := model.Parse([]byte(`version: 1
global: `+tc.global+`
virtual_servers:
  - address: 10.0.0.1
    port: 80
    protocol: tcp
    real_servers:
      - address: 10.0.1.1
        checks:
          - {type: misc, path: /bin/true}
`), "m.yaml")
		if err != nil {
			t.Fatal(err)
		}
		ts, err := Targets(m)
		if err != nil {
			t.Fatal(err)
		}
		if got := ts[0].Checks[0].Spec.User; got != tc.want {
			t.Errorf("global %s: the spec's user is %q, want %q", tc.global, got, tc.want)
		}
	}
}
