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
