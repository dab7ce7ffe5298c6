package script

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckShell: keepalived's script security applied to every word of a
// command line, for a script run as root and as nobody.
func TestCheckShell(t *testing.T) {
	nobody := asNobody(t)
	dir := t.TempDir() // root's, 0700 (its parents: /tmp, sticky)
	file := func(name string, mode os.FileMode, uid int) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\nexit 0\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, uid, 0); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	safe := file("safe.sh", 0o755, 0)
	open := file("open.sh", 0o757, 0)
	groupW := file("group.sh", 0o775, 0)
	os.Chown(groupW, 0, int(nobody.Gid))
	owned := file("owned.sh", 0o755, int(nobody.Uid))
	suid := file("suid.sh", 0o757|os.ModeSetuid, 0)
	openDir := filepath.Join(dir, "opendir")
	os.Mkdir(openDir, 0o777)
	os.Chmod(openDir, 0o777)
	inOpen := filepath.Join(openDir, "x.sh")
	os.WriteFile(inOpen, []byte("exit 0\n"), 0o755)
	link := filepath.Join(dir, "link.sh")
	os.Symlink(inOpen, link)
	for _, tc := range []struct {
		name    string
		cmdline string
		user    *User
		path    string // refused at this path; "" = allowed
		why     string
	}{
		{"safe script with arguments", safe + " a b", Root, "", ""},
		{"builtins and PATH programs", "FOO=1 true && exit 0; id -u >/dev/null 2>&1", Root, "", ""},
		{"world-writable script", open, Root, open, "is writable by everyone"},
		{"interpreter's argument", "/bin/sh " + open, Root, open, "is writable by everyone"},
		{"interpreter from PATH", "python3 " + open + " --flag", Root, open, "is writable by everyone"},
		{"after a separator", "true; " + open, Root, open, "is writable by everyone"},
		{"read by the shell", "sh < " + open, Root, open, "is writable by everyone"},
		{"quoted", `"` + open + `"`, Root, open, "is writable by everyone"},
		{"written to, not run", "echo x > " + open, Root, "", ""},
		{"command substitution in backticks", "echo `" + open + "`", Root, "`" + open + "`", "runs a command substitution"},
		{"command substitution in double quotes", `echo "$(` + open + `)"`, Root, "$(" + open + ")", "runs a command substitution"},
		{"command substitution as nobody", "echo `" + open + "`", nobody, "", ""},
		{"a shell's -c", "/bin/sh -c '" + open + " x'", Root, open, "is writable by everyone"},
		{"bash -c from PATH", "bash -c \"true; " + open + "\"", Root, open, "is writable by everyone"},
		{"eval", "eval " + open, Root, open, "is writable by everyone"},
		{"prefix options", "nice -n 5 env -i " + safe + " a", Root, "", ""},
		{"prefix options, then an unsafe command", "nice -n 5 " + open, Root, open, "is writable by everyone"},
		{"group-writable, group not root", groupW, Root, groupW, "is writable by group"},
		{"owned by another user", "exec " + owned, Root, owned, "is owned by uid"},
		{"in a world-writable directory", inOpen, Root, openDir, "is writable by everyone"},
		{"link into a world-writable directory", link, Root, openDir, "is writable by everyone"},
		{"unknown program", "no-such-program-lbx x", Root, "no-such-program-lbx", "is not found in PATH"},
		{"missing script", dir + "/missing.sh", Root, dir + "/missing.sh", "does not exist"},
		{"expansions are the shell's", "$HOME/x.sh", Root, "", ""},
		// keepalived protects root only: a script that runs as nobody
		// gains nothing from a file nobody can change...
		{"unsafe, run as nobody", open, nobody, "", ""},
		// ...unless it is setuid root.
		{"setuid root, run as nobody", suid, nobody, suid, "is writable by everyone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckShell(tc.cmdline, tc.user)
			if tc.path == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ue *UnsafeError
			if err == nil || !IsUnsafe(err) {
				t.Fatalf("err %v, want %s %s", err, tc.path, tc.why)
			}
			ue = err.(*UnsafeError)
			if ue.Path != tc.path || !strings.HasPrefix(ue.Why, tc.why) {
				t.Fatalf("refused %q %q, want %q %q", ue.Path, ue.Why, tc.path, tc.why)
			}
		})
	}
}

func TestCheckArgv(t *testing.T) {
	asNobody(t)
	dir := t.TempDir()
	open := filepath.Join(dir, "open.py")
	os.WriteFile(open, []byte("\n"), 0o644)
	os.Chmod(open, 0o666)
	for _, tc := range []struct {
		argv []string
		bad  bool
	}{
		{[]string{"/usr/bin/python3", open}, true},
		{[]string{"/bin/true", "x"}, false},
		{[]string{"no-such-program-lbx"}, true},
	} {
		if err := CheckArgv(tc.argv, Root); (err != nil) != tc.bad {
			t.Errorf("CheckArgv(%q) = %v, want refused %v", tc.argv, err, tc.bad)
		}
	}
}

func TestShellWords(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // words; * marks a command, > an output target
	}{
		{`/bin/sh /x/evil.sh`, `*/bin/sh /x/evil.sh`},
		{`A=1 B=2 cmd arg`, `*cmd arg`},
		{`a; b && c | d`, `*a *b *c *d`},
		{`echo "x y" 'z' w\ v`, `*echo x|y z w|v`},
		{`cmd >out 2>&1 <in`, `*cmd >out >1 in`},
		{`exec nice /bin/x y`, `*exec *nice */bin/x y`},
		{`nice -n 5 env -i -u HOME X=1 /bin/x -n`, `*nice -n 5 *env -i -u HOME */bin/x -n`},
		{`time -p /bin/x; nice /bin/y`, `*time -p */bin/x *nice */bin/y`},
		{`if test -x /a; then /b; fi`, `*if *test -x /a *then */b *fi`},
	} {
		var got []string
		for _, w := range ShellWords(tc.in) {
			s := w.Text
			if w.Command {
				s = "*" + s
			}
			if w.Output {
				s = ">" + s
			}
			got = append(got, s)
		}
		want := strings.Fields(tc.want)
		for i := range want {
			want[i] = strings.ReplaceAll(want[i], "|", " ")
		}
		if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
			t.Errorf("ShellWords(%q) = %q, want %q", tc.in, got, want)
		}
	}
}
