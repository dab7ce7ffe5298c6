package watchns

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/nstest"
	"github.com/lbx-dev/lbx/internal/testkit"
	"github.com/lbx-dev/lbx/model"
)

// withAddresses is model1 with static /32 addresses added on d0 while
// more(i, size) holds: i addresses added so far, size the model's length.
func withAddresses(t *testing.T, more func(i, size int) bool) string {
	first := "  - {address: 192.0.2.10/24, interface: d0, label: d0:one}\n"
	at := strings.Index(model1, first) + len(first)
	if at < len(first) {
		t.Fatal("model1 has no static address to add to")
	}
	var b strings.Builder
	b.WriteString(model1[:at])
	for i := 0; more(i, b.Len()); i++ {
		fmt.Fprintf(&b, "  - {address: 10.%d.%d.%d/32, interface: d0}\n", i>>16&255, i>>8&255, i&255)
	}
	b.WriteString(model1[at:])
	return b.String()
}

// bigModel is model1 with enough more static addresses to come near
// model.MaxFileSize: a valid model whose load takes tens of seconds.
func bigModel(t *testing.T) string {
	return withAddresses(t, func(_, size int) bool { return size < model.MaxFileSize*9/10 })
}

// manyAddresses is model1 with n more static /32 addresses on d0.
func manyAddresses(t *testing.T, n int) string {
	return withAddresses(t, func(i, _ int) bool { return i < n })
}

// watchRig is lbx watch running a model in a namespace of its own, with
// its own state and run directory: where the daemon tests start.
type watchRig struct {
	bin       string
	ns        *nstest.NS
	dir, file string
	w         *daemon
}

// newWatchRig starts lbx watch on model (with extra flags) in a new
// namespace named after prefix.
func newWatchRig(t *testing.T, prefix, model string, extra ...string) *watchRig {
	nstest.Require(t)
	r := &watchRig{bin: lbxBinary(t), ns: linkedNamespace(t, prefix), dir: t.TempDir()}
	r.file = filepath.Join(r.dir, "lbx.yaml")
	if err := os.WriteFile(r.file, []byte(model), 0o644); err != nil {
		t.Fatal(err)
	}
	r.w = startWatch(t, r.ns, r.dir, r.bin, r.file, extra...)
	return r
}

// newReloadRig is lbx watch running model1, the VIP up: what each reload
// test starts from.
func newReloadRig(t *testing.T, prefix string) *watchRig {
	r := newWatchRig(t, prefix, model1)
	testkit.Eventually(t, "the VIP", settle, func() bool { return strings.Contains(r.addrs(), "192.0.2.50/24") })
	return r
}

func (r *watchRig) addrs() string {
	out, _ := r.ns.Try("ip", "-o", "addr", "show", "dev", "d0")
	return out
}

// reload replaces the model file with text at once (a rename, as an
// editor saves) and sends lbx watch a SIGHUP.
func (r *watchRig) reload(t *testing.T, text string) {
	next := r.file + ".new"
	if err := os.WriteFile(next, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(next, r.file); err != nil {
		t.Fatal(err)
	}
	r.w.Cmd.Process.Signal(syscall.SIGHUP)
}

// termWithin sends a SIGTERM and wants a clean exit within 5 s; during
// says what was under way, for the failure. It returns how long the stop
// took.
func (r *watchRig) termWithin(t *testing.T, during func() string) time.Duration {
	at := time.Now()
	r.w.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-r.w.Done:
		r.w.Done <- err // for the cleanup
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("lbx watch did not stop within 5 s of a SIGTERM during %s", during())
	}
	return time.Since(at).Round(time.Millisecond)
}

// TestSIGTERMDuringReload is issue 26 item 5: a SIGTERM while a SIGHUP's
// reload is still loading a large model ends the daemon within 5 s (its
// lock released with it), instead of waiting for the load.
func TestSIGTERMDuringReload(t *testing.T) {
	r := newReloadRig(t, "lr")
	r.reload(t, bigModel(t))
	testkit.Eventually(t, "the reload to start", settle, func() bool { return strings.Contains(readFile(filepath.Join(r.dir, "watch.log")), "msg=reloading") })
	time.Sleep(500 * time.Millisecond) // well into the load

	took := r.termWithin(t, func() string { return "a reload" })
	t.Logf("stopped %v after SIGTERM", took)
	if strings.Contains(r.addrs(), "192.0.2.50/24") {
		t.Error("the VIP is still on d0 after the stop")
	}
}

// TestSIGTERMDuringReloadReconcile is issue 26's "a reload can be
// cancelled by SIGTERM" past the load: the reconcile that follows a
// reload of 25,000 new addresses (15 s of kernel writes on the test
// machine) stops between two changes at SIGTERM, and the daemon ends
// within 5 s, its VIP released, the addresses it made kept.
func TestSIGTERMDuringReloadReconcile(t *testing.T) {
	r := newReloadRig(t, "li")
	const n = 25000
	r.reload(t, manyAddresses(t, n))
	made := func() int { return strings.Count(r.addrs(), " 10.") }
	testkit.Eventually(t, "the reload's reconcile under way", settle, func() bool { return made() >= 500 })

	took := r.termWithin(t, func() string {
		return fmt.Sprintf("a reload's reconcile (%d of %d addresses made)", made(), n)
	})
	a := r.addrs()
	t.Logf("stopped %v after SIGTERM, %d of %d addresses made", took, strings.Count(a, " 10."), n)
	if strings.Contains(a, "192.0.2.50/24") {
		t.Error("the VIP is still on d0 after the stop")
	}
	if got := strings.Count(a, " 10."); got >= n {
		t.Errorf("all %d addresses made: the reconcile was not interrupted", got)
	}
	if !strings.Contains(readFile(filepath.Join(r.dir, "watch.log")), "reconcile interrupted") {
		t.Error("no 'reconcile interrupted' in the log")
	}
}
