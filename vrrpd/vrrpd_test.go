package vrrpd

import (
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/clock"
	"github.com/lbx-dev/lbx/internal/rtnl"
	"github.com/lbx-dev/lbx/internal/testkit"
)

// A hanging script is killed at its timeout together with its children
// (the process group).
func TestRunOnceTimeoutKillsGroup(t *testing.T) {
	dir := t.TempDir()
	pidf := filepath.Join(dir, "child")
	start := time.Now()
	ok, why, _ := runOnce(context.Background(), "sleep 30 & echo $! > "+pidf+"; wait", 200*time.Millisecond, nil)
	if ok || !strings.Contains(why, "timed out") {
		t.Fatalf("ok=%v why=%q", ok, why)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %s", d)
	}
	b, err := os.ReadFile(pidf)
	if err != nil {
		t.Fatal(err)
	}
	pid := strings.TrimSpace(string(b))
	time.Sleep(50 * time.Millisecond)
	if st, err := os.ReadFile("/proc/" + pid + "/stat"); err == nil && !strings.Contains(string(st), ") Z ") {
		t.Fatalf("child %s of the timed-out script survived: %s", pid, st)
	}
	if ok, _, _ := runOnce(context.Background(), "exit 0", time.Second, nil); !ok {
		t.Fatal("exit 0 is success")
	}
	if ok, _, _ := runOnce(context.Background(), "exit 3", time.Second, nil); ok {
		t.Fatal("exit 3 is failure")
	}
}

// rise/fall: only flips after N consecutive results are reported.
func TestScriptRiseFall(t *testing.T) {
	dir := t.TempDir()
	flag := filepath.Join(dir, "ok")
	s := &ScriptConfig{Name: "chk", Command: "test -e " + flag, Interval: 20 * time.Millisecond, Timeout: time.Second, Rise: 3, Fall: 2}
	out := make(chan trackEvent, 10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go runScript(ctx, clock.Real(), s, func(ev trackEvent) { out <- ev }, nil)
	// Starts up (no init_fail); failing for Fall runs reports down.
	ev := <-out
	if ev.up || ev.key != scriptKey("chk") {
		t.Fatalf("first event %+v, want down", ev)
	}
	os.WriteFile(flag, nil, 0o644)
	t0 := time.Now()
	ev = <-out
	if !ev.up {
		t.Fatalf("want up, got %+v", ev)
	}
	if d := time.Since(t0); d < 2*s.Interval {
		t.Fatalf("up after %s: rise 3 needs 3 runs", d)
	}
}

func TestGARPAndNA(t *testing.T) {
	mac := net.HardwareAddr{0x02, 0, 0, 0, 0, 1}
	f := GARPFrame(mac, netip.MustParseAddr("10.0.0.100"))
	if len(f) != 42 || f[12] != 0x08 || f[13] != 0x06 || f[21] != 1 || string(f[28:32]) != string(f[38:42]) || f[28] != 10 || f[31] != 100 || string(f[22:28]) != string(mac) {
		t.Fatalf("GARP frame %x", f)
	}
	na := NAMessage(mac, netip.MustParseAddr("2001:db8::5"))
	if na[0] != 136 || na[4]&0x20 == 0 || na[24] != 2 || na[25] != 1 || string(na[26:32]) != string(mac) || na[23] != 5 {
		t.Fatalf("NA %x", na)
	}
}

// TestPrimarySkipsVirtualAddresses: the source is the link's own address,
// never one the skip rule names (a VIP), even when it is all there is.
func TestPrimarySkipsVirtualAddresses(t *testing.T) {
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		testkit.Skip(t, "no lo")
	}
	// The real link's address reading, without its raw socket (no root
	// needed for a route netlink dump).
	dumps, err := rtnl.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer dumps.Close()
	l := &link{name: "lo", conn: &rawLink{ifi: lo, dumps: dumps}, clk: clock.Real()}
	loop := netip.MustParseAddr("127.0.0.1")
	if got, err := l.primary(func(netip.Addr) bool { return false }); err != nil || got != loop {
		t.Fatalf("primary of lo: %v, %v; want 127.0.0.1", got, err)
	}
	if got, err := l.primary(func(a netip.Addr) bool { return a == loop }); err == nil {
		t.Errorf("primary of lo with 127.0.0.1 virtual: %v, want an error", got)
	} else if !strings.Contains(err.Error(), "has no IPv4 address to send VRRP from") {
		t.Errorf("error %q", err)
	}
}
