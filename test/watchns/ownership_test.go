package watchns

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/apply"
	"github.com/lbx-dev/lbx/internal/nstest"
	"github.com/lbx-dev/lbx/internal/paths"
	"github.com/lbx-dev/lbx/internal/testkit"
)

// TestOwnershipRecordPerNamespace is issue 26 item 7: the ownership record
// is the network namespace's, whoever names it. `lbx watch` started under
// `ip netns exec NS` uses the record `lbx apply --netns NS` wrote (it
// deletes an address that apply created and the model dropped), and a
// daemon in another namespace, sharing the state directory, does not take
// the first namespace's claims for its own (it leaves a hand-added address
// with a key claimed there).
func TestOwnershipRecordPerNamespace(t *testing.T) {
	nstest.Require(t)
	bin := lbxBinary(t)
	ns1, ns2 := linkedNamespace(t, "lo1"), linkedNamespace(t, "lo2")
	dir := t.TempDir() // state and run directory of both namespaces
	model := func(name, addr string) string {
		p := filepath.Join(dir, name)
		y := "version: 1\nglobal: {resync_interval: 300ms}\naddresses:\n  - {address: " + addr + ", interface: d0}\n"
		if err := os.WriteFile(p, []byte(y), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	has := func(ns *nstest.NS, addr string) bool {
		out, _ := ns.Try("ip", "-br", "addr", "show", "dev", "d0")
		return strings.Contains(out, " "+addr+"/")
	}
	dirs := []string{"--state-dir", dir, "--run-dir", dir}

	// 1. apply --netns ns1 creates 192.0.2.11 and records it.
	out, err := exec.Command(bin, append([]string{"apply", "--auto-approve", "--netns", ns1.Name, "-f", model("a.yaml", "192.0.2.11/24")}, dirs...)...).CombinedOutput()
	if err != nil || !has(ns1, "192.0.2.11") {
		t.Fatalf("apply --netns %s: %v\n%s", ns1.Name, err, out)
	}
	// Someone else's address in ns2, with the key ns1's daemon will claim.
	ns2.Run(t, "ip", "addr", "add", "192.0.2.12/24", "dev", "d0")

	// 2. lbx watch in ns1, with a model that drops .11 and declares .12:
	// .11 was lbx's (the apply's record is the daemon's), so it goes.
	w := startWatch(t, ns1, dir, bin, model("b.yaml", "192.0.2.12/24"))
	testkit.Eventually(t, "ns1: .12 added and .11, recorded by apply --netns, deleted", settle, func() bool {
		return has(ns1, "192.0.2.12") && !has(ns1, "192.0.2.11")
	})
	w.Stop(t, stopWithin)

	// 3. lbx watch in ns2 with a model of .13: ns1's claim on .12 is not
	// ns2's, so the hand-added .12 stays through resyncs.
	w = startWatch(t, ns2, dir, bin, model("c.yaml", "192.0.2.13/24"))
	testkit.Eventually(t, "ns2: .13 added", settle, func() bool { return has(ns2, "192.0.2.13") })
	time.Sleep(time.Second) // a few resyncs
	if !has(ns2, "192.0.2.12") {
		t.Error("the daemon in ns2 deleted a hand-added address that only ns1's record claims")
	}
	w.Stop(t, stopWithin)

	// One record per namespace, none the host's.
	var want []string
	for _, ns := range []*nstest.NS{ns1, ns2} {
		id, err := paths.NetnsID(ns.Name)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, filepath.Base(apply.OwnerRecordPath(dir, id)))
	}
	got, _ := filepath.Glob(filepath.Join(dir, "owned-*"))
	for i := range got {
		got[i] = filepath.Base(got[i])
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("ownership records %v, want one per namespace %v", got, want)
	}
}
