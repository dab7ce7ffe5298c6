package script

import (
	"fmt"
	"os/user"
	"strconv"
	"strings"
	"syscall"
)

// DefaultUserName is the user keepalived runs scripts as when script_user
// is not set, if it exists (otherwise root, with a warning).
const DefaultUserName = "keepalived_script"

// User is who a script runs as.
type User struct {
	Name   string
	Group  string // the group's name, for messages
	Uid    uint32
	Gid    uint32
	Groups []uint32 // supplementary groups
	Home   string
}

// Root is lbx's own user: a script run as Root is not switched to anyone.
var Root = &User{Name: "root", Group: "root", Home: "/root"}

// IsRoot: the script would run with root's privileges (uid or gid 0), the
// case keepalived's script security protects.
func (u *User) IsRoot() bool { return u == nil || u.Uid == 0 || u.Gid == 0 }

// String is "name:group (uid:gid)".
func (u *User) String() string {
	if u == nil {
		u = Root
	}
	return fmt.Sprintf("%s:%s (%d:%d)", u.Name, u.Group, u.Uid, u.Gid)
}

// credential is what SysProcAttr needs to run as u; nil for root itself
// (lbx runs as root: nothing to switch).
func (u *User) credential() *syscall.Credential {
	if u == nil || (u.Uid == 0 && u.Gid == 0 && len(u.Groups) == 0) {
		return nil
	}
	return &syscall.Credential{Uid: u.Uid, Gid: u.Gid, Groups: u.Groups}
}

// LookupUser resolves a script's user as keepalived writes it: name, and
// optionally group (default: the user's primary group). The supplementary
// groups are the user's, as a login would have them (keepalived keeps only
// the primary group; a script run as a user is expected to have that
// user's group rights, e.g. to read a socket of a group it belongs to).
func LookupUser(name, group string) (*User, error) {
	pw, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("script user %q does not exist", name)
	}
	uid, err1 := strconv.ParseUint(pw.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(pw.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("script user %q: uid %q gid %q are not numbers", name, pw.Uid, pw.Gid)
	}
	u := &User{Name: pw.Username, Uid: uint32(uid), Gid: uint32(gid), Home: pw.HomeDir}
	if g, err := user.LookupGroupId(pw.Gid); err == nil {
		u.Group = g.Name
	} else {
		u.Group = pw.Gid
	}
	if group != "" {
		g, err := user.LookupGroup(group)
		if err != nil {
			return nil, fmt.Errorf("script group %q does not exist", group)
		}
		n, err := strconv.ParseUint(g.Gid, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("script group %q: gid %q is not a number", group, g.Gid)
		}
		u.Gid, u.Group = uint32(n), g.Name
	}
	ids, _ := pw.GroupIds() // none known: only the primary group
	for _, s := range ids {
		if n, err := strconv.ParseUint(s, 10, 32); err == nil && uint32(n) != u.Gid {
			u.Groups = append(u.Groups, uint32(n))
		}
	}
	u.Groups = append(u.Groups, u.Gid)
	if u.Home == "" {
		u.Home = "/"
	}
	return u, nil
}

// ParseUserSpec splits "user", "user group" or "user:group" (how a
// MISC_CHECK's user is written in the model).
func ParseUserSpec(spec string) (name, group string, err error) {
	f := strings.FieldsFunc(spec, func(r rune) bool { return r == ' ' || r == '\t' || r == ':' })
	if len(f) == 0 || len(f) > 2 {
		return "", "", fmt.Errorf("user %q: want USER or USER GROUP", spec)
	}
	if len(f) == 2 {
		group = f[1]
	}
	return f[0], group, nil
}

// DefaultUser is who scripts run as when they name no user of their own,
// as keepalived 2.2.7 decides it: script_user (and script_group) if set,
// which must exist; otherwise keepalived_script if that user exists;
// otherwise root, with warning saying so (keepalived logs "default user
// 'keepalived_script' for script execution does not exist - please
// create"). The warning is empty when there is nothing to say.
func DefaultUser(scriptUser, scriptGroup string) (u *User, warning string, err error) {
	if scriptUser != "" {
		u, err := LookupUser(scriptUser, scriptGroup)
		if err != nil {
			return nil, "", fmt.Errorf("global.script_user: %v; create it or change script_user", err)
		}
		return u, "", nil
	}
	if scriptGroup != "" {
		return nil, "", fmt.Errorf("global.script_group %q needs global.script_user", scriptGroup)
	}
	if _, err := user.Lookup(DefaultUserName); err == nil {
		u, err := LookupUser(DefaultUserName, "")
		return u, "", err
	}
	return Root, "default user '" + DefaultUserName + "' for script execution does not exist: scripts run as root; create it or set global.script_user", nil
}
