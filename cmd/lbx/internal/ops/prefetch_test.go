package ops

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/lbx-dev/lbx/kernel"
	"github.com/lbx-dev/lbx/kernel/kerneltest"
	"github.com/lbx-dev/lbx/model"
)

// TestPrefetch: a plan whose read of the kernel began before the model
// was loaded is the plan made without it, from that one read; a read that
// failed fails the plan with its error.
func TestPrefetch(t *testing.T) {
	m, err := model.Parse([]byte("version: 1\nipvs: {sysctls: {sloppy_tcp: true}}\n"), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	refused := errors.New("netlink refused")
	for _, tc := range []struct {
		name     string
		prefetch bool
		openErr  error
	}{
		{"without", false, nil},
		{"with", true, nil},
		{"with, the read failing", true, refused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			k := kerneltest.NewFakeKernel()
			k.LoadIPVSSysctls()
			opens := 0
			tgt := Target{StateDir: dir, RunDir: dir, OpenKernel: func() (kernel.Kernel, error) {
				opens++
				return k, tc.openErr
			}}
			if tc.prefetch {
				tgt.Prefetch(context.Background())
			}
			p, _, _, err := Plan(context.Background(), m, tgt, false)
			if !errors.Is(err, tc.openErr) || (tc.openErr != nil) != (err != nil) {
				t.Fatalf("Plan: %v, want %v", err, tc.openErr)
			}
			if opens != 1 {
				t.Errorf("the kernel opened %d times, want once", opens)
			}
			if err != nil {
				return
			}
			want := []string{"sysctl"}
			var got []string
			for _, c := range p.Changes {
				got = append(got, string(c.Kind))
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("changes (-want +got):\n%s", d)
			}
		})
	}
}
