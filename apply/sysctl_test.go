package apply

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/kernel"
	"github.com/lbx-dev/lbx/kernel/kerneltest"
	"github.com/lbx-dev/lbx/plan"
	"github.com/lbx-dev/lbx/state"
)

// TestSysctlApply: apply writes the settings the model names (one write
// each), a second apply writes nothing, a setting the model leaves out
// keeps the kernel's value, and a kernel without the setting fails with
// an error that names it and says what to do.
func TestSysctlApply(t *testing.T) {
	const svc = "virtual_servers:\n  - {address: 10.0.0.1, port: 80, real_servers: [{address: 10.1.0.1}]}\n"
	cases := []struct {
		name    string
		ipvs    bool // the fake has IPVS's settings
		model   string
		want    map[string]int // the fake's values after the apply
		writes  int
		errText string
	}{
		{"scale-out", true, "ipvs: {sysctls: {sloppy_tcp: true, sloppy_sctp: true}}\n",
			map[string]int{"sloppy_tcp": 1, "sloppy_sctp": 1, "pmtu_disc": 1, "conn_reuse_mode": 1}, 4, ""},
		{"numbers and offs", true, "ipvs: {sysctls: {conn_reuse_mode: 0, pmtu_disc: false, expire_nodest_conn: true}}\n",
			map[string]int{"conn_reuse_mode": 0, "pmtu_disc": 0, "expire_nodest_conn": 1, "sloppy_tcp": 0}, 5, ""},
		{"already the kernel's", true, "ipvs: {sysctls: {snat_reroute: true}}\n", map[string]int{"snat_reroute": 1}, 2, ""},
		{"kernel without the setting", false, "ipvs: {sysctls: {sloppy_tcp: true}}\n", nil, 1,
			"sysctl.net.ipv4.vs.sloppy_tcp: this kernel has no such setting (/proc/sys/net/ipv4/vs/sloppy_tcp missing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k := kerneltest.NewFakeKernel()
			if tc.ipvs {
				k.LoadIPVSSysctls()
			}
			y := "version: 1\n" + tc.model + svc
			_, res, err := reconcile(t, k, y, nil)
			if tc.errText != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errText) || !errors.Is(err, kernel.ErrNotFound) {
					t.Fatalf("error %v, want %q in it", err, tc.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.KernelWrites != tc.writes {
				t.Errorf("%d kernel writes, want %d", res.KernelWrites, tc.writes)
			}
			got := k.State().Sysctls
			for name, v := range tc.want {
				if got[state.IPVSSysctl(name)] != v {
					t.Errorf("net.ipv4.vs.%s is %d, want %d", name, got[state.IPVSSysctl(name)], v)
				}
			}
			p, res, err := reconcile(t, k, y, nil)
			if err != nil || !p.Empty() || res.KernelWrites != 0 {
				t.Errorf("second apply: %v, %d writes, changes %v", err, res.KernelWrites, p.Changes)
			}
		})
	}
}

// TestSysctlDrift: a setting changed behind lbx's back is planned and
// set back by the next reconcile, one write.
func TestSysctlDrift(t *testing.T) {
	k := kerneltest.NewFakeKernel()
	k.LoadIPVSSysctls()
	y := "version: 1\nipvs: {sysctls: {sloppy_tcp: true}}\n"
	if _, _, err := reconcile(t, k, y, nil); err != nil {
		t.Fatal(err)
	}
	k.Mutate(func(st *state.State) { st.SetSysctl(state.IPVSSysctl("sloppy_tcp"), 0) })
	p, res, err := reconcile(t, k, y, nil)
	if err != nil || len(p.Changes) != 1 || p.Changes[0].Action != plan.Update || res.KernelWrites != 1 {
		t.Fatalf("drift: %v, %d writes, changes %+v", err, res.KernelWrites, p.Changes)
	}
	if v := k.State().Sysctls[state.IPVSSysctl("sloppy_tcp")]; v != 1 {
		t.Errorf("sloppy_tcp %d after the repair, want 1", v)
	}
}

// TestSysctlNeedsSysctlKernel: a kernel handle that cannot write
// sysctls fails the change with a message, not a panic.
func TestSysctlNeedsSysctlKernel(t *testing.T) {
	c := plan.Change{Address: "sysctl.net.ipv4.vs.sloppy_tcp", Kind: plan.KindSysctl, Action: plan.Update,
		AfterSysctl: &state.Sysctl{Key: state.IPVSSysctl("sloppy_tcp"), Value: 1}}
	err := executeOne(context.Background(), noSysctls{kerneltest.NewFakeKernel()}, c)
	if err == nil || !strings.Contains(err.Error(), "cannot write sysctls") {
		t.Errorf("error %v, want one saying the handle cannot write sysctls", err)
	}
}

// noSysctls is a kernel without WriteSysctl.
type noSysctls struct{ kernel.Kernel }
