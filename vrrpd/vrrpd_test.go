package vrrpd

import (
	"bytes"
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
	garp := func(f []byte) bool {
		return len(f) == 42 && f[12] == 0x08 && f[13] == 0x06 && f[21] == 1 && string(f[28:32]) == string(f[38:42]) && f[28] == 10 && f[31] == 100 && string(f[22:28]) == string(mac) && string(f[32:38]) == "\xff\xff\xff\xff\xff\xff" && f[0]&f[5] == 0xff
	}
	na := func(m []byte) bool {
		return len(m) == 32 && m[0] == 136 && m[4]&0x20 != 0 && m[1]|m[2]|m[3]|m[5] == 0 && m[24] == 2 && m[25] == 1 && string(m[26:32]) == string(mac) && m[23] == 5
	}
	vip, vip6 := netip.MustParseAddr("10.0.0.100"), netip.MustParseAddr("2001:db8::5")
	if f := AppendGARP(nil, mac, vip); !garp(f) {
		t.Errorf("GARP frame %x", f)
	}
	if m := AppendNA(nil, mac, vip6); !na(m) {
		t.Errorf("NA %x", m)
	}
	// After other bytes, and into a dirty buffer reused: the announcer's
	// way, which must not allocate.
	dirty := bytes.Repeat([]byte{0xaa}, 64)
	if f := AppendGARP([]byte{1, 2}, mac, vip); !bytes.Equal(f[:2], []byte{1, 2}) || !garp(f[2:]) {
		t.Errorf("GARP frame after 2 bytes %x", f)
	}
	if m := AppendNA(dirty[:0], mac, vip6); !na(m) {
		t.Errorf("NA in a dirty buffer %x", m)
	}
	if n := testing.AllocsPerRun(10, func() { dirty = AppendGARP(dirty[:0], mac, vip) }); n != 0 {
		t.Errorf("AppendGARP into a buffer of room allocates %v times", n)
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
