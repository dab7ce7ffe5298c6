package script

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// UnsafeError says why a script may not run: a file it runs or reads as
// code is one a non-root user could change (keepalived's
// enable_script_security), or a program it names does not exist.
type UnsafeError struct {
	Path string // the file or directory at fault
	Why  string // "is writable by everyone", "is owned by uid 1000", ...
}

func (e *UnsafeError) Error() string { return e.Path + " " + e.Why }

// CheckShell is Check of a command line run through /bin/sh -c: /bin/sh
// itself and every word of it that names a program or an existing file
// (a script given to an interpreter, `/bin/sh /x/evil.sh`, `python3
// x.py`, a file read by `<`; relative to /, where scripts run).
func CheckShell(cmdline string, u *User) error {
	words := []Word{{Text: "/bin/sh", Command: true}}
	return check(append(words, ShellWords(cmdline)...), u)
}

// CheckArgv is Check of a command run without a shell (MISC_CHECK):
// argv[0] and every argument that names an existing file.
func CheckArgv(argv []string, u *User) error {
	var words []Word
	for i, a := range argv {
		words = append(words, Word{Text: a, Command: i == 0})
	}
	return check(words, u)
}

func check(words []Word, u *User) error {
	for i, w := range words {
		if u.IsRoot() {
			if err := checkCode(words, i); err != nil {
				return err
			}
		}
		p, err := resolve(w)
		if err != nil {
			return err
		}
		if p == "" {
			continue
		}
		if err := checkFile(p, u); err != nil {
			return err
		}
	}
	return nil
}

// shells take the word after -c as a command line.
var shells = map[string]bool{"sh": true, "bash": true, "dash": true, "zsh": true, "ksh": true}

// checkCode refuses, for a script run as root, the code in words[i] that
// the file checks cannot see: a command substitution (`x`, $(x)) runs a
// program the word does not name, and a shell's -c argument or eval's
// words are command lines of their own, checked as such. (keepalived runs
// scripts without a shell, so none of this is keepalived syntax to keep.)
func checkCode(words []Word, i int) error {
	w := words[i]
	if strings.Contains(w.Text, "`") || strings.Contains(w.Text, "$(") {
		return &UnsafeError{Path: w.Text, Why: "runs a command substitution, which script security cannot check when the script runs as root: put the command in a script file"}
	}
	if i == 0 {
		return nil
	}
	prev := words[i-1]
	switch {
	case prev.Text == "-c" && i >= 2 && shells[filepath.Base(words[i-2].Text)]:
		return check(ShellWords(w.Text), Root)
	case prev.Command && prev.Text == "eval":
		var rest []string
		for _, r := range words[i:] {
			rest = append(rest, r.Text)
		}
		return check(ShellWords(strings.Join(rest, " ")), Root)
	}
	return nil
}

// resolve is the file a word names, "" for none: a command word is looked
// up in PATH (and must exist, as keepalived refuses a script it cannot
// find); another word counts only if it names an existing file.
func resolve(w Word) (string, error) {
	t := w.Text
	if t == "" || strings.ContainsAny(t, "$`*?[") || w.Output {
		return "", nil // expanded by the shell at run time, or written to
	}
	if w.Command && !strings.Contains(t, "/") {
		if shellBuiltins[t] {
			return "", nil
		}
		p, err := exec.LookPath(t)
		if err != nil {
			return "", &UnsafeError{Path: t, Why: "is not found in PATH (" + os.Getenv("PATH") + ")"}
		}
		t = p
	}
	if !filepath.IsAbs(t) {
		t = filepath.Join("/", t)
	}
	if _, err := os.Stat(t); err != nil {
		if w.Command {
			return "", &UnsafeError{Path: t, Why: "does not exist"}
		}
		return "", nil
	}
	return t, nil
}

// checkFile applies keepalived's rule (lib/notify.c check_script_secure):
// a file run by root, or setuid/setgid root, must not be changeable by
// anyone but root: it and every directory above it owned by root, not
// writable by a group other than root's, not writable by everyone unless a
// directory with the sticky bit (/tmp). The path as written is checked
// (following links, as stat does) and so is its fully resolved path, so a
// link in a safe directory cannot point into an unsafe one.
func checkFile(p string, u *User) error {
	fi, err := os.Stat(p)
	if err != nil {
		return &UnsafeError{Path: p, Why: "cannot be read: " + err.Error()}
	}
	if !u.IsRoot() && !setRoot(fi) {
		return nil // nothing gained by changing it: it runs as u
	}
	if err := checkChain(p); err != nil {
		return err
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return &UnsafeError{Path: p, Why: "cannot be resolved: " + err.Error()}
	}
	if real != p {
		return checkChain(real)
	}
	return nil
}

// setRoot: an executable that runs as root or root's group whoever starts it.
func setRoot(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	m := fi.Mode()
	return ok && ((m&os.ModeSetuid != 0 && st.Uid == 0 && m&0o100 != 0) || (m&os.ModeSetgid != 0 && st.Gid == 0 && m&0o010 != 0))
}

// checkChain checks / and every prefix of p down to p itself.
func checkChain(p string) error {
	p = filepath.Clean(p)
	var chain []string
	for q := p; ; q = filepath.Dir(q) {
		chain = append(chain, q)
		if q == "/" || q == "." {
			break
		}
	}
	for i := len(chain) - 1; i >= 0; i-- {
		if err := checkOne(chain[i]); err != nil {
			return err
		}
	}
	return nil
}

func checkOne(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return &UnsafeError{Path: p, Why: "cannot be read: " + err.Error()}
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return &UnsafeError{Path: p, Why: "has no owner to check"}
	}
	m := fi.Mode()
	// The sticky bit protects a directory's entries, never a file.
	guarded := m&os.ModeSticky != 0 && m.IsDir()
	switch {
	case st.Uid != 0:
		return &UnsafeError{Path: p, Why: fmt.Sprintf("is owned by uid %d, not root", st.Uid)}
	case !guarded && m.Perm()&0o002 != 0:
		return &UnsafeError{Path: p, Why: "is writable by everyone"}
	case !guarded && m.Perm()&0o020 != 0 && st.Gid != 0:
		return &UnsafeError{Path: p, Why: fmt.Sprintf("is writable by group %d", st.Gid)}
	}
	return nil
}

// IsUnsafe: err is a refusal of Check (not another failure).
func IsUnsafe(err error) bool {
	var u *UnsafeError
	return errors.As(err, &u)
}

// shellBuiltins are command words /bin/sh runs itself (nothing to look up).
var shellBuiltins = map[string]bool{
	"exit": true, "true": true, "false": true, ":": true, "test": true, "[": true,
	"echo": true, "printf": true, "cd": true, "read": true, "set": true, "shift": true,
	"export": true, "unset": true, "wait": true, "return": true, "local": true, "trap": true,
	"if": true, "then": true, "else": true, "elif": true, "fi": true, "for": true, "while": true,
	"until": true, "do": true, "done": true, "case": true, "esac": true, "in": true, "!": true,
	"{": true, "}": true, "kill": true, "exec": true, "command": true, "eval": true, ".": true,
}
