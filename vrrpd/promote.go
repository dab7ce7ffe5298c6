package vrrpd

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/lbx-dev/lbx/internal/procsys"
)

// promoteSettings sets promote_secondaries on the interfaces of the
// instances that ask for it (model promote_secondaries, keepalived's
// keyword) and puts back, at stop, the ones it changed — as keepalived's
// set_promote_secondaries and reset_promote_secondaries do. With it set,
// the kernel deleting the first IPv4 address of a subnet (a VIP released
// by another tool, or by hand) promotes another address of that subnet
// instead of deleting them all. lbx's own deletes keep other addresses
// whether it is set or not (plan.Change.Keeps).
type promoteSettings struct {
	// dir holds one directory per interface (/proc/sys/net/ipv4/conf):
	// the namespace's, as the daemon runs in it.
	dir string
	// changed: the interfaces lbx set, and the value each had before;
	// an interface found set already is in seen only.
	changed map[string]string
	seen    map[string]bool
}

func newPromoteSettings() *promoteSettings {
	return &promoteSettings{dir: "/proc/sys/net/ipv4/conf", changed: map[string]string{}, seen: map[string]bool{}}
}

// set sets the setting on the interface of each instance that asks for
// it, before the instances add any address. A failure is logged, not
// fatal: the instance still runs, as in keepalived.
func (p *promoteSettings) set(insts []*Instance, log *slog.Logger) {
	for _, in := range insts {
		if !in.PromoteSecondaries || p.seen[in.Interface] {
			continue
		}
		path := filepath.Join(p.dir, in.Interface, "promote_secondaries")
		old, err := os.ReadFile(path)
		if err == nil && strings.TrimSpace(string(old)) != "1" {
			err = procsys.Write(path, "1")
		}
		if err != nil {
			// Not seen: a reload after the interface appears tries again.
			log.Warn("cannot set promote_secondaries", "instance", in.FSM.Name, "interface", in.Interface, "err", err)
			continue
		}
		p.seen[in.Interface] = true
		if v := strings.TrimSpace(string(old)); v != "1" {
			p.changed[in.Interface] = v
			log.Info("promote_secondaries set", "interface", in.Interface, "was", v)
		}
	}
}

// restore puts back the settings set changed (at stop, after the release).
func (p *promoteSettings) restore(log *slog.Logger) {
	for iface, old := range p.changed {
		err := procsys.Write(filepath.Join(p.dir, iface, "promote_secondaries"), old)
		if err != nil && !errors.Is(err, fs.ErrNotExist) { // a link gone took its setting with it
			log.Warn("cannot put promote_secondaries back", "interface", iface, "value", old, "err", err)
		}
		delete(p.changed, iface)
		delete(p.seen, iface)
	}
}
