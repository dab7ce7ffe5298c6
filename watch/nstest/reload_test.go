package nstest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/nstest"
	"github.com/lbx-dev/lbx/model"
)

// bigModel is model1 with enough more static addresses to come near
// model.MaxFileSize: a valid model whose load takes tens of seconds.
func bigModel(t *testing.T) string {
	first := "  - {address: 192.0.2.10/24, interface: d0, label: d0:one}\n"
	at := strings.Index(model1, first) + len(first)
	if at < len(first) {
		t.Fatal("model1 has no static address to add to")
	}
	var b strings.Builder
	b.WriteString(model1[:at])
	const line = "  - {address: 10.%d.%d.%d/32, interface: d0}\n"
	for i := 0; b.Len() < model.MaxFileSize*9/10; i++ {
		fmt.Fprintf(&b, line, i>>16&255, i>>8&255, i&255)
	}
	b.WriteString(model1[at:])
	return b.String()
}

// TestSIGTERMDuringReload is issue 26 item 5: a SIGTERM while a SIGHUP's
// reload is still loading a large model ends the daemon within 5 s (its
// lock released with it), instead of waiting for the load.
func TestSIGTERMDuringReload(t *testing.T) {
	nstest.Require(t)
	bin := buildLBX(t)
	ns := linkedNamespace(t, "lr")
	dir := t.TempDir()
	file := filepath.Join(dir, "lbx.yaml")
	os.WriteFile(file, []byte(model1), 0o644)
	w := startWatch(t, ns, dir, bin, file)
	vip := func() bool {
		out, _ := ns.Try("ip", "-o", "addr", "show", "dev", "d0")
		return strings.Contains(out, "192.0.2.50/24")
	}
	waitFor(t, "the VIP", vip)

	big := file + ".new"
	if err := os.WriteFile(big, []byte(bigModel(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(big, file); err != nil {
		t.Fatal(err)
	}
	w.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "the reload to start", func() bool { return strings.Contains(readFile(filepath.Join(dir, "watch.log")), "msg=reloading") })
	time.Sleep(500 * time.Millisecond) // well into the load

	at := time.Now()
	w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-w.done:
		w.done <- err // for the cleanup
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
		t.Logf("stopped %v after SIGTERM", time.Since(at).Round(time.Millisecond))
	case <-time.After(5 * time.Second):
		t.Fatal("lbx watch did not stop within 5 s of a SIGTERM during a reload")
	}
	if vip() {
		t.Error("the VIP is still on d0 after the stop")
	}
}

// manyAddresses is model1 with n more static /32 addresses on d0.
func manyAddresses(t *testing.T, n int) string {
	first := "  - {address: 192.0.2.10/24, interface: d0, label: d0:one}\n"
	at := strings.Index(model1, first) + len(first)
	if at < len(first) {
		t.Fatal("model1 has no static address to add to")
	}
	var b strings.Builder
	b.WriteString(model1[:at])
	for i := range n {
		fmt.Fprintf(&b, "  - {address: 10.%d.%d.%d/32, interface: d0}\n", i>>16&255, i>>8&255, i&255)
	}
	b.WriteString(model1[at:])
	return b.String()
}

// TestSIGTERMDuringReloadReconcile is issue 26's "a reload can be
// cancelled by SIGTERM" past the load: the reconcile that follows a
// reload of 25,000 new addresses (15 s of kernel writes on the test
// machine) stops between two changes at SIGTERM, and the daemon ends
// within 5 s, its VIP released, the addresses it made kept.
func TestSIGTERMDuringReloadReconcile(t *testing.T) {
	nstest.Require(t)
	bin := buildLBX(t)
	ns := linkedNamespace(t, "li")
	dir := t.TempDir()
	file := filepath.Join(dir, "lbx.yaml")
	os.WriteFile(file, []byte(model1), 0o644)
	w := startWatch(t, ns, dir, bin, file)
	addrs := func() string { out, _ := ns.Try("ip", "-o", "addr", "show", "dev", "d0"); return out }
	waitFor(t, "the VIP", func() bool { return strings.Contains(addrs(), "192.0.2.50/24") })

	const n = 25000
	next := file + ".new"
	os.WriteFile(next, []byte(manyAddresses(t, n)), 0o644)
	os.Rename(next, file)
	w.cmd.Process.Signal(syscall.SIGHUP)
	made := func() int { return strings.Count(addrs(), " 10.") }
	waitFor(t, "the reload's reconcile under way", func() bool { return made() >= 500 })

	at := time.Now()
	w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-w.done:
		w.done <- err // for the cleanup
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("lbx watch did not stop within 5 s of a SIGTERM during a reload's reconcile (%d of %d addresses made)", made(), n)
	}
	a := addrs()
	t.Logf("stopped %v after SIGTERM, %d of %d addresses made", time.Since(at).Round(time.Millisecond), strings.Count(a, " 10."), n)
	if strings.Contains(a, "192.0.2.50/24") {
		t.Error("the VIP is still on d0 after the stop")
	}
	if got := strings.Count(a, " 10."); got >= n {
		t.Errorf("all %d addresses made: the reconcile was not interrupted", got)
	}
	if !strings.Contains(readFile(filepath.Join(dir, "watch.log")), "reconcile interrupted") {
		t.Error("no 'reconcile interrupted' in the log")
	}
}
