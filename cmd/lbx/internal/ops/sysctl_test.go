package ops

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/lbx-dev/lbx/kernel"
	"github.com/lbx-dev/lbx/kernel/kerneltest"
	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/plan"
	"github.com/lbx-dev/lbx/state"
)

// TestSavedSysctlPlan: a saved plan that sets a sysctl applies while the
// kernel's value is the one it was made against, and is stale once
// someone changed that value (its fingerprint covers the setting).
func TestSavedSysctlPlan(t *testing.T) {
	cases := []struct {
		name   string
		drift  int // sloppy_tcp written after the plan; -1: none
		stale  bool
		result int // sloppy_tcp after the apply
	}{
		{"as planned", -1, false, 1},
		{"changed since", 1, true, 1},
		{"changed and back", 0, false, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			k := kerneltest.NewFakeKernel()
			k.LoadIPVSSysctls()
			tgt := Target{StateDir: dir, RunDir: dir, OpenKernel: func() (kernel.Kernel, error) { return k, nil }}
			m, err := model.Parse([]byte("version: 1\nipvs: {sysctls: {sloppy_tcp: true}}\n"), "m.yaml")
			if err != nil {
				t.Fatal(err)
			}
			p, _, _, err := Plan(context.Background(), m, tgt, false)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Changes) != 1 || p.Changes[0].Kind != plan.KindSysctl {
				t.Fatalf("plan %+v, want the one sysctl change", p.Changes)
			}
			saved := filepath.Join(dir, "p.json")
			if err := plan.Save(saved, p, "", "m.yaml"); err != nil {
				t.Fatal(err)
			}
			if tc.drift >= 0 {
				k.Mutate(func(st *state.State) { st.SetSysctl(state.IPVSSysctl("sloppy_tcp"), tc.drift) })
			}
			_, err = ApplySaved(context.Background(), saved, tgt, 0, nil)
			var stale *StaleError
			if errors.As(err, &stale) != tc.stale || (!tc.stale && err != nil) {
				t.Fatalf("apply: %v, want stale %v", err, tc.stale)
			}
			if v := k.State().Sysctls[state.IPVSSysctl("sloppy_tcp")]; v != tc.result {
				t.Errorf("sloppy_tcp %d, want %d", v, tc.result)
			}
		})
	}
}
