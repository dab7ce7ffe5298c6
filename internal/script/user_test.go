package script

import (
	"context"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/testkit"
)

// asNobody skips where a script cannot be switched to nobody (not root,
// or no such user).
func asNobody(t *testing.T) *User {
	t.Helper()
	testkit.RequireRoot(t, "switching a script's user")
	u, err := LookupUser("nobody", "")
	if err != nil {
		testkit.Skip(t, "no user nobody: "+err.Error())
	}
	return u
}

// A script given a user runs as that user: uid, gid, groups, HOME, from
// /, and cannot write where only root can.
func TestRunAsUser(t *testing.T) {
	u := asNobody(t)
	rootOnly := t.TempDir() // 0700 root: nobody may not even enter
	// A directory only nobody can write, for the script's proof.
	own, err := os.MkdirTemp("", "lbx-script-user-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(own) })
	if err := os.Chown(own, int(u.Uid), int(u.Gid)); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(own, 0o700); err != nil {
		t.Fatal(err)
	}
	proof := filepath.Join(own, "id")
	for _, tc := range []struct {
		name    string
		cmdline string
		want    string
		fails   bool
	}{
		{"identity", "id -u > " + proof + "; id -g; id -G; echo $HOME $USER; pwd", "", false},
		{"no root rights", "touch " + rootOnly + "/x", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Shell(context.Background(), tc.cmdline, Options{Timeout: 5 * time.Second, User: u})
			if tc.fails {
				if err == nil {
					t.Fatalf("ran with root's rights (output %q)", out)
				}
				if _, err := os.Stat(rootOnly + "/x"); err == nil {
					t.Fatal("the file was created")
				}
				return
			}
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			b, err := os.ReadFile(proof)
			if err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(int(u.Uid)) {
				t.Errorf("id -u wrote %q (%v), want %d", b, err, u.Uid)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			want := []string{strconv.Itoa(int(u.Gid)), groups(u), u.Home + " " + u.Name, "/"}
			if strings.Join(lines, "|") != strings.Join(want, "|") {
				t.Errorf("got %q, want %q", lines, want)
			}
		})
	}
}

func groups(u *User) string {
	var s []string
	for _, g := range u.Groups {
		s = append(s, strconv.Itoa(int(g)))
	}
	return strings.Join(s, " ")
}

func TestLookupUser(t *testing.T) {
	if _, err := user.Lookup("root"); err != nil {
		testkit.Skip(t, "no root in the user database")
	}
	for _, tc := range []struct {
		name, user, group string
		uid, gid          uint32
		err               string
	}{
		{"root", "root", "", 0, 0, ""},
		{"a group of its own", "root", "nogroup", 0, 65534, ""},
		{"unknown user", "no-such-user-lbx", "", 0, 0, `script user "no-such-user-lbx" does not exist`},
		{"unknown group", "root", "no-such-group-lbx", 0, 0, `script group "no-such-group-lbx" does not exist`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.group == "nogroup" {
				if _, err := user.LookupGroup("nogroup"); err != nil {
					testkit.Skip(t, "no group nogroup")
				}
			}
			u, err := LookupUser(tc.user, tc.group)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || u.Uid != tc.uid || u.Gid != tc.gid || u.Groups[len(u.Groups)-1] != tc.gid {
				t.Fatalf("got %+v, %v; want %d:%d", u, err, tc.uid, tc.gid)
			}
		})
	}
}

// keepalived 2.2.7: script_user if set (and it must exist), else
// keepalived_script if it exists, else root with a warning.
func TestDefaultUser(t *testing.T) {
	_, ksErr := user.Lookup(DefaultUserName)
	for _, tc := range []struct {
		name, user, group string
		want              string // user name; "" = an error
		warns             bool
	}{
		{"script_user", "nobody", "", "nobody", false},
		{"missing script_user", "no-such-user-lbx", "", "", false},
		{"group without user", "", "nogroup", "", false},
		{"unset", "", "", map[bool]string{true: DefaultUserName, false: "root"}[ksErr == nil], ksErr != nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, warning, err := DefaultUser(tc.user, tc.group)
			switch {
			case tc.want == "":
				if err == nil {
					t.Fatalf("got %v, want an error", u)
				}
			case err != nil:
				t.Fatal(err)
			case u.Name != tc.want || (warning != "") != tc.warns:
				t.Fatalf("got %v, warning %q; want %s, warning %v", u, warning, tc.want, tc.warns)
			}
		})
	}
}
