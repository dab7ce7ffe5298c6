package apply

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/kernel/kerneltest"
	"github.com/lbx-dev/lbx/plan"
	"github.com/lbx-dev/lbx/state"
)

const twoVIPs = `version: 1
addresses:
  - {address: 192.0.2.10/24, interface: eth0}
  - {address: 192.0.2.11/24, interface: eth0}
`

func vip(s string) state.AddressKey {
	return state.AddressKey{Interface: "eth0", Addr: netip.MustParseAddr(s)}
}

// handAdd adds an address as an operator's `ip addr add` would.
func handAdd(k *kerneltest.FakeKernel, key state.AddressKey) {
	k.Mutate(func(st *state.State) { st.Addresses[key] = state.Address{Key: key, Bits: 24, Scope: "global"} })
}

// runUntilKilled runs fn until the fake "dies" (a panic, recovered) at
// write n, as a kill -9 would end the process: no code after it runs.
type killed struct{}

func runUntilKilled(k *kerneltest.FakeKernel, n int, fn func()) {
	k.OnWrite = func(*state.State) {
		if k.Writes == n {
			panic(killed{})
		}
	}
	defer func() {
		k.OnWrite = nil
		if r := recover(); r != nil {
			if _, ok := r.(killed); !ok {
				panic(r)
			}
		}
	}()
	fn()
}

// A kill -9 after the first of two deletes: the claim on the deleted
// address must already be gone from disk, so that an address someone adds
// later with its key is not taken for lbx's by an unrelated apply.
func TestInterruptedDeleteLeavesNoStaleClaim(t *testing.T) {
	dir := t.TempDir()
	owner, _ := OpenOwnerRecord(dir, "")
	k := kerneltest.NewFakeKernel("eth0")
	if _, _, err := reconcile(t, k, twoVIPs, owner); err != nil {
		t.Fatal(err)
	}
	// Write 3 is the first delete (2 creates before it); it dies at
	// write 4, the second delete.
	runUntilKilled(k, 4, func() { reconcile(t, k, "version: 1\n", owner) })
	if n := len(k.State().Addresses); n != 1 {
		t.Fatalf("the kill left %d addresses, want 1 (one delete done)", n)
	}
	var gone state.AddressKey
	for _, key := range []state.AddressKey{vip("192.0.2.10"), vip("192.0.2.11")} {
		if _, ok := k.State().Addresses[key]; !ok {
			gone = key
		}
	}
	handAdd(k, gone)
	// The next process: a fresh record from disk, an unrelated model.
	owner, _ = OpenOwnerRecord(dir, "")
	if owner.Owned().Addresses[gone] {
		t.Errorf("the record still claims %s, deleted before the kill", gone)
	}
	if _, _, err := reconcile(t, k, "version: 1\n", owner); err != nil {
		t.Fatal(err)
	}
	if _, ok := k.State().Addresses[gone]; !ok {
		t.Errorf("the hand-added %s was deleted", gone)
	}
}

// A claim whose object a read finds gone (however it went: a kill -9
// between a delete and its release, an operator's `ip addr del`) is
// forgotten, on disk too; one the model declares is kept.
func TestForgetAbsent(t *testing.T) {
	tests := []struct {
		name     string
		keep     plan.Owned
		services bool
		want     int // claims left
	}{
		{"undeclared and absent: forgotten", plan.Owned{}, true, 1},
		{"declared: kept", plan.Owned{Addresses: map[state.AddressKey]bool{vip("192.0.2.11"): true}}, true, 2},
		{"services not read: service claims kept", plan.Owned{}, false, 2},
	}
	svc := state.ServiceKey{Protocol: state.TCP, Addr: netip.MustParseAddr("10.0.0.9"), Port: 80, Family: state.IPv4}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			owner, _ := OpenOwnerRecord(dir, "")
			b := state.Address{Key: vip("192.0.2.11")}
			a := state.Address{Key: vip("192.0.2.10")}
			if err := owner.Claim([]plan.Change{
				{Kind: plan.KindAddress, Action: plan.Create, AfterAddr: &a},
				{Kind: plan.KindAddress, Action: plan.Create, AfterAddr: &b},
				{Kind: plan.KindService, Action: plan.Create, Service: svc},
			}); err != nil {
				t.Fatal(err)
			}
			live := state.New()
			live.Addresses[a.Key] = a // present: stays claimed
			owner.ForgetAbsent(live, tc.services, tc.keep)
			if err := owner.Flush(); err != nil {
				t.Fatal(err)
			}
			reread, _ := OpenOwnerRecord(dir, "")
			o := reread.Owned()
			if got := len(o.Addresses) + len(o.Services); got != tc.want {
				t.Errorf("claims left on disk = %d (%+v), want %d", got, o, tc.want)
			}
			if !o.Addresses[a.Key] {
				t.Errorf("the claim on the present %s was dropped", a.Key)
			}
		})
	}
}

// A record that cannot be written stops the creates, and the refused
// claims do not stay in memory (where they would make an address someone
// adds later lbx's).
func TestUnwritableRecordCreatesNothing(t *testing.T) {
	dir := t.TempDir()
	owner, _ := OpenOwnerRecord(dir, "")
	// Root writes into a read-only directory; a directory in the record's
	// place makes the rename over it fail for everyone.
	if err := os.Mkdir(OwnerRecordPath(dir, ""), 0o755); err != nil {
		t.Fatal(err)
	}
	k := kerneltest.NewFakeKernel("eth0")
	_, _, err := reconcile(t, k, twoVIPs, owner)
	if err == nil || !strings.Contains(err.Error(), "nothing new is created") {
		t.Errorf("apply with an unwritable record: %v", err)
	}
	if n := len(k.State().Addresses); n != 0 || k.Writes != 0 {
		t.Errorf("created %d addresses (%d writes) it could not record", n, k.Writes)
	}
	if o := owner.Owned(); len(o.Addresses) != 0 {
		t.Errorf("refused claims kept in memory: %+v", o)
	}
}

func TestOwnerRecordPathPerNamespace(t *testing.T) {
	tests := []struct{ id, want string }{
		{"", "owned-host.json"},
		{"-netns-4026532000", "owned-netns-4026532000.json"},
	}
	for _, tc := range tests {
		if got := filepath.Base(OwnerRecordPath("/d", tc.id)); got != tc.want {
			t.Errorf("OwnerRecordPath(%q) = %s, want %s", tc.id, got, tc.want)
		}
	}
}

// TestRecordNotWrittenThroughALink: the record's temporary file is a fresh
// one, never a fixed name opened with O_TRUNC, through which a link
// planted there (by whoever can write the state directory) would make
// root truncate and write another file.
func TestRecordNotWrittenThroughALink(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("keep\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"owned-host.json.tmp", ".owned-host.json.tmp"} {
		if err := os.Symlink(victim, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	owner, _ := OpenOwnerRecord(dir, "")
	a := &state.Address{Key: state.AddressKey{Interface: "eth0", Addr: netip.MustParseAddr("192.0.2.50")}, Bits: 24}
	if err := owner.Claim([]plan.Change{{Action: plan.Create, Kind: plan.KindAddress, AfterAddr: a}}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep\n" {
		t.Errorf("a link at the temporary file's name was written through: the file it points to now holds %q", b)
	}
	reopened, err := OpenOwnerRecord(dir, "")
	if err != nil || !reopened.OwnedAddresses()[a.Key] {
		t.Errorf("record after the claim: %v, %v", reopened.OwnedAddresses(), err)
	}
	if fi, err := os.Lstat(OwnerRecordPath(dir, "")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("the record is not a regular file: %v", err)
	}
}

// TestRecordThatIsNoFileIsRefused: a FIFO or device at the record's path
// is refused at once (a plain read blocked for ever on a FIFO).
func TestRecordThatIsNoFileIsRefused(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(OwnerRecordPath(dir, ""), 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := OpenOwnerRecord(dir, ""); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Fatalf("OpenOwnerRecord on a FIFO: %v, want a refusal", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("OpenOwnerRecord blocked on a FIFO")
	}
}

// An ownership record another user wrote is refused: it says what lbx
// may delete. So is a lock path that is a symlink (the holder's line is
// written into the file it names).
func TestOwnerRecordAndLockAreLbxs(t *testing.T) {
	dir := t.TempDir()
	r, err := OpenOwnerRecord(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	a := state.Address{Key: state.AddressKey{Interface: "eth0", Addr: netip.MustParseAddr("10.0.0.1")}}
	if err := r.Claim([]plan.Change{{Kind: plan.KindAddress, Action: plan.Create, AfterAddr: &a}}); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(OwnerRecordPath(dir, ""), 65534, -1); err != nil {
		t.Skipf("chown: %v (needs root)", err)
	}
	if _, err := OpenOwnerRecord(dir, ""); err == nil || !strings.Contains(err.Error(), "owned by uid 65534") {
		t.Errorf("a record of uid 65534: %v; want it refused", err)
	}

	target := filepath.Join(dir, "precious")
	if err := os.WriteFile(target, []byte("keep me\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	lock := filepath.Join(dir, "lbx.lock")
	if err := os.Symlink(target, lock); err != nil {
		t.Fatal(err)
	}
	if l, err := AcquireLock(context.Background(), lock, 0); err == nil {
		l.Release()
		t.Error("a symlinked lock path was taken")
	}
	if b, _ := os.ReadFile(target); string(b) != "keep me\n" {
		t.Errorf("the symlink's target now holds %q", b)
	}
}
