package vrrpd

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
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
	vip, vip6 := netip.MustParseAddr("10.0.0.100"), netip.MustParseAddr("2001:db8::5")
	bcast := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	garp := slices.Concat(bcast, mac, []byte{0x08, 0x06}, // Ethernet: to all, from mac, ARP
		[]byte{0, 1, 0x08, 0x00, 6, 4, 0, 1}, // Ethernet/IPv4, request
		mac, []byte{10, 0, 0, 100}, bcast, []byte{10, 0, 0, 100})
	na := slices.Concat([]byte{136, 0, 0, 0, 0x20, 0, 0, 0}, // type, code, checksum (the kernel's), override
		vip6.AsSlice(), []byte{2, 1}, mac) // target, its link-layer address
	dirty := bytes.Repeat([]byte{0xaa}, 64)
	tests := []struct {
		name string
		got  func() []byte
		want []byte
	}{
		{"GARP", func() []byte { return AppendGARP(nil, mac, vip) }, garp},
		{"GARP after 2 bytes", func() []byte { return AppendGARP([]byte{1, 2}, mac, vip) }, slices.Concat([]byte{1, 2}, garp)},
		{"GARP into a dirty buffer", func() []byte { return AppendGARP(dirty[:0], mac, vip) }, garp},
		{"NA", func() []byte { return AppendNA(nil, mac, vip6) }, na},
		{"NA into a dirty buffer", func() []byte { return AppendNA(dirty[:0], mac, vip6) }, na},
	}
	for _, tc := range tests {
		if got := tc.got(); !bytes.Equal(got, tc.want) {
			t.Errorf("%s: %x, want %x", tc.name, got, tc.want)
		}
	}
	// The announcer's way, which must not allocate.
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
