package vrrponly

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/buildinfo"
	"github.com/lbx-dev/lbx/ownership"
	"github.com/lbx-dev/lbx/state"
	"github.com/lbx-dev/lbx/vrrpd"
	"github.com/lbx-dev/lbx/vrrpd/fsm"
)

// memKernel is the links' addresses in memory; fail makes Add fail for
// the address given.
type memKernel struct {
	live map[state.AddressKey]state.Address
	fail string
	// failDeletes makes that many Deletes fail.
	failDeletes int
	log         []string
	read        map[state.AddressKey]state.Address // Read's
}

// Read returns one map, refilled at each read, as netlinkKernel does: a
// caller that kept it past the next read would see it change.
func (k *memKernel) Read(context.Context) (map[state.AddressKey]state.Address, error) {
	if k.read == nil {
		k.read = map[state.AddressKey]state.Address{}
	}
	clear(k.read)
	maps.Copy(k.read, k.live)
	return k.read, nil
}

func (k *memKernel) Add(_ context.Context, a state.Address) error {
	if a.Key.Addr.String() == k.fail {
		return errors.New("add refused")
	}
	k.live[a.Key] = a
	k.log = append(k.log, "+"+a.Key.String())
	return nil
}

func (k *memKernel) Delete(_ context.Context, a state.Address, _ bool) error {
	if k.failDeletes > 0 {
		k.failDeletes--
		return errors.New("delete refused")
	}
	delete(k.live, a.Key)
	k.log = append(k.log, "-"+a.Key.String())
	return nil
}

// twoInstances is a spec of VI_1 (10.0.0.1, excluded 10.0.0.11) and
// VI_2 (10.0.0.2) on eth0.
func twoInstances() *Spec {
	in := func(name string, vrid uint8) *vrrpd.Instance {
		return &vrrpd.Instance{FSM: fsm.Config{Name: name, VRID: vrid, Version: 3, Priority: 100}, Interface: "eth0"}
	}
	s := &Spec{Config: &vrrpd.Config{Instances: []*vrrpd.Instance{in("VI_1", 1), in("VI_2", 2)}},
		Addresses: map[string][]state.Address{
			"VI_1": {addr("eth0/10.0.0.1/32"), addr("eth0/10.0.0.11/32")},
			"VI_2": {addr("eth0/10.0.0.2/32")},
		}}
	s.labelAddresses() // as ParseSpec does
	return s
}

func newTestDaemon(t *testing.T, spec *Spec, k *memKernel) *daemon {
	t.Helper()
	rec, err := ownership.Open(t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	return &daemon{log: slog.New(slog.DiscardHandler), k: k, record: rec, spec: spec, declared: spec.declared()}
}

func owned(d *daemon) []string {
	var out []string
	for k := range d.record.OwnedAddresses() {
		out = append(out, k.String())
	}
	slices.Sort(out)
	return out
}

func TestReconcile(t *testing.T) {
	k := &memKernel{live: addrs("eth0/192.168.1.1/24", "eth0/10.0.0.9/32", "eth0/10.0.0.5/32")}
	spec := twoInstances()
	d := newTestDaemon(t, spec, k)
	// An address an earlier model declared is lbx's; 10.0.0.9 is not.
	if err := d.record.Claim(keys(keySet("eth0/10.0.0.5/32"))); err != nil {
		t.Fatal(err)
	}
	d.states = map[string]string{"VI_1": "MASTER", "VI_2": "BACKUP"}
	if err := d.reconcile(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []string{"-eth0/10.0.0.5", "+eth0/10.0.0.1", "+eth0/10.0.0.11"}
	if !slices.Equal(k.log, want) {
		t.Errorf("kernel writes %q, want %q", k.log, want)
	}
	if got := owned(d); !slices.Equal(got, nil) {
		t.Errorf("owned after the release of an undeclared address: %q, want none (the model's are claimed at start, not here)", got)
	}
	if d.last == nil || d.last.Result != "changed" || d.last.Changes != 3 || d.last.KernelWrites != 3 {
		t.Errorf("last reconcile %+v", d.last)
	}

	// VI_1 resigns, VI_2 takes over: VI_1's addresses go.
	k.log = nil
	d.states = map[string]string{"VI_1": "BACKUP", "VI_2": "MASTER"}
	if err := d.reconcile(context.Background()); err != nil {
		t.Fatal(err)
	}
	want = []string{"-eth0/10.0.0.1", "-eth0/10.0.0.11", "+eth0/10.0.0.2"}
	if !slices.Equal(k.log, want) {
		t.Errorf("kernel writes %q, want %q", k.log, want)
	}

	// Nothing to do: a noop, no write.
	k.log = nil
	if err := d.reconcile(context.Background()); err != nil || len(k.log) > 0 || d.last.Result != "noop" {
		t.Errorf("second reconcile: err %v, writes %q, result %s", err, k.log, d.last.Result)
	}
}

func TestReconcileReportsAFailedAdd(t *testing.T) {
	k := &memKernel{live: addrs(), fail: "10.0.0.11"}
	d := newTestDaemon(t, twoInstances(), k)
	d.states = map[string]string{"VI_1": "MASTER"}
	err := d.reconcile(context.Background())
	if err == nil || !strings.Contains(err.Error(), "add refused") || !strings.Contains(err.Error(), "vrrp VI_1") {
		t.Fatalf("err = %v, want the failed add with its instance", err)
	}
	if _, ok := k.live[addr("eth0/10.0.0.1/32").Key]; !ok {
		t.Error("the other address of the instance was not added")
	}
	if d.last.Result != "error" || d.last.Error == "" {
		t.Errorf("last reconcile %+v", d.last)
	}
}

func TestReleaseStale(t *testing.T) {
	k := &memKernel{live: addrs("eth0/10.0.0.1/32", "eth0/10.0.0.2/32", "eth0/10.0.0.9/32")}
	d := newTestDaemon(t, twoInstances(), k)
	d.releaseStale(context.Background())
	want := []string{"-eth0/10.0.0.1", "-eth0/10.0.0.2"}
	if !slices.Equal(k.log, want) {
		t.Errorf("kernel writes %q, want %q (the model's VRRP addresses, nothing else)", k.log, want)
	}
}

func TestDesired(t *testing.T) {
	spec := twoInstances()
	// The map of the last reconcile, reused: what it held goes.
	last := map[state.AddressKey]state.Address{addr("eth0/10.0.0.99/32").Key: addr("eth0/10.0.0.99/32")}
	got := slices.SortedFunc(maps.Keys(spec.desired(map[string]string{"VI_1": "MASTER", "VI_2": "FAULT"}, last)), compareKeys)
	want := []state.AddressKey{addr("eth0/10.0.0.1/32").Key, addr("eth0/10.0.0.11/32").Key}
	if !slices.Equal(got, want) {
		t.Errorf("desired %v, want %v", got, want)
	}
	if n := len(spec.declared()); n != 3 {
		t.Errorf("declared %d addresses, want 3", n)
	}
}

func TestReadSpec(t *testing.T) {
	var good bytes.Buffer
	if err := twoInstances().Write(&good); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, text, wantErr string }{
		{"good", good.String(), ""},
		{"another format", strings.Replace(good.String(), SpecFormat, "lbx-vrrp-spec/0", 1), "format"},
		{"cut short", good.String()[:good.Len()/2], "cut short"},
		{"empty", "", "cut short"},
		{"no configuration", `{"format":"` + SpecFormat + `"}`, "no configuration"},
		{"full needs none", `{"format":"` + SpecFormat + `","full":"virtual servers"}`, ""},
		{"an empty instance", `{"format":"` + SpecFormat + `","config":{"Instances":[null]}}`, "empty instance"},
		{"two instances on one VRID", `{"format":"` + SpecFormat + `","config":{"Instances":[{"FSM":{"Name":"a","VRID":1},"Interface":"eth0"},{"FSM":{"Name":"b","VRID":1},"Interface":"eth0"}]}}`, "already used"},
		{"not JSON", "vrrp_instance VI_1 {", "VRRP spec"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec, err := ReadSpec(strings.NewReader(tc.text))
			if err == nil && tc.name == "good" {
				if len(spec.Addresses) != 2 {
					t.Fatalf("addresses of %d instances read, want 2", len(spec.Addresses))
				}
				// The JSON does not carry Origin; the read gives it back.
				for name, list := range spec.Addresses {
					for _, a := range list {
						if a.Origin != "vrrp "+name {
							t.Errorf("%s's address %s: origin %q", name, a.Key, a.Origin)
						}
					}
				}
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("ReadSpec: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("ReadSpec error %v, want one with %q", err, tc.wantErr)
			}
		})
	}
}

// FuzzReadSpec: no input makes ReadSpec panic, and a spec it accepts
// has a configuration unless it hands over.
func FuzzReadSpec(f *testing.F) {
	var good bytes.Buffer
	twoInstances().Write(&good)
	f.Add(good.String())
	f.Add(`{"format":"` + SpecFormat + `","full":"bgp"}`)
	f.Add(`{"format":"` + SpecFormat + `","config":{"Instances":[null]}}`)
	f.Fuzz(func(t *testing.T, s string) {
		spec, err := ReadSpec(strings.NewReader(s))
		if err == nil && spec.Full == "" && spec.Config == nil {
			t.Fatalf("accepted a spec without configuration: %q", s)
		}
	})
}

// TestReleaseKeepsWhatTheModelDeclaresNow: a reconcile that took its
// snapshot before a reload must not forget what the reload claimed.
func TestReleaseKeepsWhatTheModelDeclaresNow(t *testing.T) {
	d := newTestDaemon(t, twoInstances(), &memKernel{live: addrs()})
	x := addr("eth0/10.0.0.1/32").Key
	y := addr("eth0/10.0.0.9/32").Key
	if err := d.record.Claim(keys(map[state.AddressKey]bool{x: true, y: true})); err != nil {
		t.Fatal(err)
	}
	gone := ownership.Empty()
	gone.Addresses[x], gone.Addresses[y] = true, true // as an older snapshot decided
	if err := d.release(gone); err != nil {
		t.Fatal(err)
	}
	if got := owned(d); !slices.Equal(got, []string{"eth0/10.0.0.1"}) {
		t.Errorf("owned after the release %q, want the declared eth0/10.0.0.1 kept, eth0/10.0.0.9 gone", got)
	}
}

func TestHandOverWhy(t *testing.T) {
	b := buildinfo.Build{Version: "v1"}
	for _, tc := range []struct {
		spec Spec
		want string
	}{
		{Spec{Build: b}, ""},
		{Spec{Build: b, Full: "virtual servers"}, "the model has virtual servers"},
		{Spec{Build: buildinfo.Build{Version: "v2"}}, "lbx is now v2, lbx-vrrp v1"},
	} {
		if got := handOverWhy(&tc.spec, b); got != tc.want {
			t.Errorf("handOverWhy(%+v) = %q, want %q", tc.spec, got, tc.want)
		}
	}
}

// TestReleaseAtStop: when the stop's reconcile failed, the addresses are
// released by the retries that follow (as STOP, whatever the last states
// said); a stop whose reconcile succeeded writes nothing more.
func TestReleaseAtStop(t *testing.T) {
	k := &memKernel{live: addrs("eth0/10.0.0.1/32", "eth0/10.0.0.11/32", "eth0/192.168.1.1/24")}
	d := newTestDaemon(t, twoInstances(), k)
	k.failDeletes = 3 // the stop's two deletes, and one more
	d.states = map[string]string{"VI_1": "STOP"}
	if err := d.reconcile(context.Background()); err == nil {
		t.Fatal("the stop's reconcile did not fail")
	}
	d.states = map[string]string{"VI_1": "MASTER"} // the loop's last word, stale
	d.releaseAtStop(time.Millisecond)
	if _, ok := k.live[addr("eth0/10.0.0.1/32").Key]; ok {
		t.Errorf("an address is left after the stop's retries: %v", k.log)
	}
	if _, ok := k.live[addr("eth0/192.168.1.1/24").Key]; !ok {
		t.Error("the link's own address was deleted")
	}
	k.log = nil
	d.releaseAtStop(time.Millisecond)
	if len(k.log) > 0 {
		t.Errorf("a stop whose reconcile succeeded wrote again: %v", k.log)
	}
}

// TestSendStatus: systemd's STATUS= line follows the states, and a loop
// turn that changed none formats nothing.
func TestSendStatus(t *testing.T) {
	d := newTestDaemon(t, twoInstances(), &memKernel{live: addrs()})
	for _, tc := range []struct {
		states map[string]string
		want   string
	}{
		{map[string]string{"VI_1": "BACKUP", "VI_2": "BACKUP"}, "0/2 VRRP MASTER"},
		{map[string]string{"VI_1": "MASTER", "VI_2": "BACKUP"}, "1/2 VRRP MASTER"},
		{map[string]string{"VI_1": "MASTER", "VI_2": "MASTER"}, "2/2 VRRP MASTER"},
		{map[string]string{"VI_1": "MASTER"}, "1/1 VRRP MASTER"},
	} {
		d.states = tc.states
		d.sendStatus()
		if d.statusSent != tc.want || StatusLine(tc.states) != tc.want {
			t.Errorf("states %v: status %q (StatusLine %q), want %q", tc.states, d.statusSent, StatusLine(tc.states), tc.want)
		}
		if n := testing.AllocsPerRun(10, d.sendStatus); n != 0 {
			t.Errorf("states %v unchanged: sendStatus allocates %v times", tc.states, n)
		}
	}
}
