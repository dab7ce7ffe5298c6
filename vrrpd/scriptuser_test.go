package vrrpd

import (
	"context"
	"log/slog"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/script"
	"github.com/lbx-dev/lbx/internal/script/scripttest"
	"github.com/lbx-dev/lbx/vrrpd/fsm"
)

// Track and notify scripts run as their configuration says (the
// default script user, or a vrrp_script's own), not as lbx's root.
// (vrrpd/vrrpmodel's TestScriptUsers: the model's script_user and user
// become these.)
func TestScriptsRunAsTheirUser(t *testing.T) {
	nobody, dir := scripttest.Nobody(t)
	root, err := script.LookupUser("root", "")
	if err != nil {
		t.Fatal(err)
	}
	tracked := func(name string, u *script.User) *ScriptConfig {
		return &ScriptConfig{Name: name, Command: scripttest.WriteUID(dir, name), Interval: time.Second, Timeout: time.Second, Rise: 1, Fall: 1, User: u}
	}
	cfg := &Config{
		Instances: []*Instance{{FSM: fsm.Config{Name: "VI_1", VRID: 51, Version: 2, Priority: 100, AdvertInt: time.Second}, Interface: "lo",
			Addrs: []netip.Addr{netip.MustParseAddr("10.9.9.9")}}},
		Scripts:    map[string]*ScriptConfig{"chk": tracked("chk", nobody), "own": tracked("own", root)},
		ScriptUser: nobody,
	}
	d, err := New(cfg, Options{Reconciler: nopReconciler{}, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	nobodyID := strconv.Itoa(int(nobody.Uid))
	for _, tc := range []struct {
		name string
		run  func()
		want string
	}{
		{"chk", func() {
			runOnce(context.Background(), cfg.Scripts["chk"].Command, time.Second, cfg.Scripts["chk"].User)
		}, nobodyID},
		{"own", func() {
			runOnce(context.Background(), cfg.Scripts["own"].Command, time.Second, cfg.Scripts["own"].User)
		}, "0"},
		{"notify", func() {
			d.runNotify(context.Background(), []string{"/bin/sh", "-c", scripttest.WriteUID(dir, "notify")})
		}, nobodyID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.run()
			if got := scripttest.UID(t, dir, tc.name); got != tc.want {
				t.Errorf("ran as uid %q, want %s", got, tc.want)
			}
		})
	}
}
