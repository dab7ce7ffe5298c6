package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/apply"
	"github.com/lbx-dev/lbx/internal/paths"
)

// TestGoneAddressIsNoLongerOwned is issue 26 item 7 on a real kernel: an
// address lbx created and someone then deleted is no longer lbx's once an
// apply has read it gone, so that an address someone adds later with the
// same key is not deleted by an apply of a model that does not declare
// it. (Without a read in between, lbx cannot tell a re-added address from
// its own: that case is not claimed here.)
func TestGoneAddressIsNoLongerOwned(t *testing.T) {
	dir := buildBinaries(t)
	f := newNetnsFixture(t)
	lbx := filepath.Join(dir, "lbx")
	models := t.TempDir()
	modelA := writeFile(t, models, "a.yaml", "version: 1\naddresses:\n  - {address: 10.77.0.1/24, interface: eth0}\n")
	modelB := writeFile(t, models, "b.yaml", "version: 1\naddresses:\n  - {address: 10.77.0.2/24, interface: eth0}\n")
	id, err := paths.NetnsID(f.ns.Name)
	if err != nil {
		t.Fatal(err)
	}
	record := apply.OwnerRecordPath(f.state, id)
	applyModel := func(model string) {
		t.Helper()
		if stdout, stderr, code := runOut(t, lbx, f.args("apply", "--auto-approve", "-f", model)...); code != 0 {
			t.Fatalf("apply %s: exit %d\n%s%s", filepath.Base(model), code, stdout, stderr)
		}
	}
	has := func(addr string) bool {
		return strings.Contains(f.ns.Run(t, "ip", "-br", "addr", "show", "eth0"), " "+addr+"/")
	}
	claimed := func(addr string) bool {
		b, err := os.ReadFile(record)
		if err != nil {
			t.Fatalf("ownership record of the namespace: %v", err)
		}
		return strings.Contains(string(b), `"eth0/`+addr+`"`)
	}

	applyModel(modelA)
	if !has("10.77.0.1") || !claimed("10.77.0.1") {
		t.Fatalf("model A's address applied %v, claimed %v: want both", has("10.77.0.1"), claimed("10.77.0.1"))
	}
	f.ns.Run(t, "ip", "addr", "del", "10.77.0.1/24", "dev", "eth0") // by hand
	applyModel(modelB)                                              // reads it gone
	if claimed("10.77.0.1") {
		t.Error("the claim on an address an apply found gone is still in the record")
	}
	f.ns.Run(t, "ip", "addr", "add", "10.77.0.1/24", "dev", "eth0") // by hand, not lbx's
	applyModel(modelB)
	if !has("10.77.0.1") {
		t.Error("apply of a model that does not declare it deleted a hand-added address (a stale claim)")
	}
	if !has("10.77.0.2") {
		t.Error("model B's address is missing")
	}
}
