package apply

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/internal/testkit"
	"github.com/lbx-dev/lbx/plan"
	"github.com/lbx-dev/lbx/state"
)

// TestOwnerRecordSyncsDirectory is issue 26 item 9: a claim is durable
// only once the rename of the record is, which takes an fsync of its
// directory. The claim runs in a child (this test binary) under strace,
// which must show that fsync after the rename.
func TestOwnerRecordSyncsDirectory(t *testing.T) {
	if dir := os.Getenv("LBX_TEST_OWNER_DIR"); dir != "" {
		claimOne(t, dir) // the child, under strace
		return
	}
	tracer := lookStrace(t)
	dir, out := t.TempDir(), filepath.Join(t.TempDir(), "trace")
	cmd := exec.Command(tracer, "-f", "-y", "-o", out, "-e", "trace=rename,renameat,renameat2,fsync,fdatasync",
		os.Args[0], "-test.run=^TestOwnerRecordSyncsDirectory$", "-test.count=1")
	cmd.Env = append(os.Environ(), "LBX_TEST_OWNER_DIR="+dir)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child under strace: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	record := filepath.Join(dir, "owned-host.json")
	renamed := false
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.Contains(line, "rename") && strings.Contains(line, `"`+record+`"`):
			renamed = true
		case renamed && strings.Contains(line, "sync(") && strings.Contains(line, "<"+dir+">"):
			return
		}
	}
	t.Errorf("no fsync of %s after the rename of the record (renamed: %v); trace:\n%s", dir, renamed, b)
}

func claimOne(t *testing.T, dir string) {
	r, err := OpenOwnerRecord(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	a := &state.Address{Key: state.AddressKey{Interface: "eth0", Addr: netip.MustParseAddr("192.0.2.50")}, Bits: 24}
	if err := r.Claim([]plan.Change{{Action: plan.Create, Kind: plan.KindAddress, AfterAddr: a}}); err != nil {
		t.Fatal(err)
	}
}

// lookStrace finds strace (scripts/deps.sh installs it): a skip outside
// CI, a failure under CI=true.
func lookStrace(t *testing.T) string {
	p, err := exec.LookPath("strace")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("strace not installed (scripts/deps.sh installs it)")
		}
		testkit.Skip(t, "strace not installed")
	}
	return p
}
