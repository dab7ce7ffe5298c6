package watch

import (
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/script/scripttest"
	"github.com/lbx-dev/lbx/model"
)

// Quorum and real server notify scripts run as the model's default
// script user, the one Preflight resolved.
func TestEngineScriptsRunAsScriptUser(t *testing.T) {
	nobody, dir := scripttest.Nobody(t)
	m, err := model.Parse([]byte("version: 1\nglobal: {script_user: nobody}\n"), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, _, err := Preflight(m, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	e := &engine{log: slog.New(slog.DiscardHandler)}
	e.scriptUser.Store(cfg.ScriptUser)
	e.runScript(scripttest.WriteUID(dir, "quorum"), 5*time.Second)
	if got, want := scripttest.UID(t, dir, "quorum"), strconv.Itoa(int(nobody.Uid)); got != want {
		t.Errorf("ran as uid %q, want %s", got, want)
	}
}
