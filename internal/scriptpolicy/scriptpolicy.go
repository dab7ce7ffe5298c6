// Package scriptpolicy decides, for every script of a model, who it runs
// as and whether it may run at all, as keepalived 2.2.7 does: a script
// runs as its own user if it names one (vrrp_script user, MISC_CHECK
// user), else as global.script_user, else as keepalived_script if that
// user exists, else as root with a warning. Under enable_script_security a
// script that would run as root (or a setuid-root program) is refused when
// a non-root user could change any file its command line runs or reads as
// code, or any directory above one; without it, the same finding is a
// warning. lbx validate, lbx watch and a reload all call Check, so they
// refuse exactly the same models.
package scriptpolicy

import (
	"fmt"
	"log/slog"
	"sort"
	"strings"

	"github.com/lbx-dev/lbx/check"
	"github.com/lbx-dev/lbx/internal/script"
	"github.com/lbx-dev/lbx/model"
)

// Default is who m's scripts run as when they name no user, and a
// warning to log when that is root by default.
func Default(m *model.Model) (*script.User, string, error) {
	return script.DefaultUser(m.Global.ScriptUser, m.Global.ScriptGroup)
}

// UserOf is the user a script naming name (and group) runs as; def when
// it names none.
func UserOf(name, group string, def *script.User) (*script.User, error) {
	if name == "" {
		if group != "" {
			return nil, fmt.Errorf("group %q needs a user", group)
		}
		return def, nil
	}
	return script.LookupUser(name, group)
}

// item is one script of a model: where it is written, its command, who
// runs it.
type item struct {
	path  string // field path, for the error's position
	shell string // a command line run by /bin/sh -c
	argv  string // or a MISC_CHECK command (no shell)
	user  *script.User
}

// Check resolves every script's user and checks every script of m; it
// returns model.Errors at each script's file:line, and logs what is only
// a warning (unsafe scripts without enable_script_security, the root
// default).
func Check(m *model.Model, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	var errs model.Errors
	fail := func(path, format string, args ...any) {
		errs = append(errs, &model.FieldError{File: m.File, Pos: m.Positions.At(path), Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	def, warning, err := Default(m)
	if err != nil {
		fail("global.script_user", "%v", err)
		return errs
	}
	items, bad := collect(m, def)
	for _, b := range bad {
		fail(b.path, "%v", b.err)
	}
	if warning != "" && len(items) > 0 {
		log.Warn(warning)
	}
	secure := m.Global.EnableScriptSecurity != nil && *m.Global.EnableScriptSecurity
	for _, it := range items {
		err := checkItem(it)
		switch {
		case err == nil:
		case secure:
			fail(it.path, "script %q (run as %s) refused by enable_script_security: %v; %s", it.cmd(), it.user, err, advice(err))
		default:
			log.Warn("SECURITY VIOLATION: script is unsafe; set global.enable_script_security to refuse it", "where", where(m, it.path), "script", it.cmd(), "user", it.user.String(), "err", err)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

func (it item) cmd() string {
	if it.argv != "" {
		return it.argv
	}
	return it.shell
}

func checkItem(it item) error {
	if it.argv == "" {
		return script.CheckShell(it.shell, it.user)
	}
	argv, err := check.SplitCommand(it.argv)
	if err != nil {
		return err
	}
	return script.CheckArgv(argv, it.user)
}

func advice(err error) string {
	if u, ok := err.(*script.UnsafeError); ok && (strings.HasPrefix(u.Why, "is not found") || u.Why == "does not exist") {
		return "give the full path of an existing program"
	}
	return "make it and every directory above it owned by root and writable only by root, or run the script as another user (script_user, or the script's own user)"
}

func where(m *model.Model, path string) string {
	if p := m.Positions.At(path); p.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", m.File, p.Line, p.Col, path)
	}
	return path
}

type badUser struct {
	path string
	err  error
}

// collect lists every script of m with the user it runs as.
func collect(m *model.Model, def *script.User) ([]item, []badUser) {
	var (
		items []item
		bad   []badUser
	)
	shell := func(path, cmd string) {
		if cmd != "" {
			items = append(items, item{path: path, shell: cmd, user: def})
		}
	}
	notify := func(p string, n model.Notify) {
		shell(p+".master", n.Master)
		shell(p+".backup", n.Backup)
		shell(p+".fault", n.Fault)
		shell(p+".stop", n.Stop)
		shell(p+".any", n.Any)
	}
	for _, name := range sortedNames(m.Scripts) {
		s, p := m.Scripts[name], "scripts."+name
		if s == nil || s.Script == "" {
			continue
		}
		u, err := UserOf(s.User, s.Group, def)
		if err != nil {
			bad = append(bad, badUser{p + ".user", err})
			continue
		}
		items = append(items, item{path: p + ".script", shell: s.Script, user: u})
	}
	for i, in := range m.VRRPInstances {
		if in != nil {
			notify(fmt.Sprintf("vrrp_instances[%d].notify", i), in.Notify)
		}
	}
	for i, g := range m.SyncGroups {
		if g != nil {
			notify(fmt.Sprintf("sync_groups[%d].notify", i), g.Notify)
		}
	}
	for i, vs := range m.VirtualServers {
		if vs == nil {
			continue
		}
		p := fmt.Sprintf("virtual_servers[%d]", i)
		if q := vs.Quorum; q != nil {
			shell(p+".quorum.up_script", q.UpScript)
			shell(p+".quorum.down_script", q.DownScript)
		}
		for j, rs := range vs.RealServers {
			if rs == nil {
				continue
			}
			rp := fmt.Sprintf("%s.real_servers[%d]", p, j)
			shell(rp+".notify_up", rs.NotifyUp)
			shell(rp+".notify_down", rs.NotifyDown)
			for k, c := range rs.Checks {
				if c == nil || c.Type != "misc" || c.Path == "" {
					continue
				}
				cp := fmt.Sprintf("%s.checks[%d]", rp, k)
				u := def
				if c.User != "" {
					name, group, err := script.ParseUserSpec(c.User)
					if err == nil {
						u, err = script.LookupUser(name, group)
					}
					if err != nil {
						bad = append(bad, badUser{cp + ".user", err})
						continue
					}
				}
				items = append(items, item{path: cp + ".path", argv: c.Path, user: u})
			}
		}
	}
	return items, bad
}

func sortedNames(m map[string]*model.Script) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
