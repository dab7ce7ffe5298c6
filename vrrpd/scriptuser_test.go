package vrrpd

import (
	"context"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/script/scripttest"
	"github.com/lbx-dev/lbx/model"
)

// Track and notify scripts run as the model says (keepalived's
// script_user and a vrrp_script's own user), not as lbx's root.
func TestScriptsRunAsTheirUser(t *testing.T) {
	nobody, dir := scripttest.Nobody(t)
	m, err := model.Parse([]byte(`version: 1
global: {script_user: nobody}
scripts:
  chk: {script: "`+scripttest.WriteUID(dir, "chk")+`"}
  own: {script: "`+scripttest.WriteUID(dir, "own")+`", user: root}
vrrp_instances:
  - name: VI_1
    interface: lo
    virtual_router_id: 51
    virtual_addresses: [{address: 10.9.9.9/32}]
    track_scripts: [{name: chk}, {name: own}]
`), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := FromModel(m)
	if err != nil {
		t.Fatal(err)
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
