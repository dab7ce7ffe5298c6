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
	"github.com/lbx-dev/lbx/internal/testkit"
	"github.com/lbx-dev/lbx/model"
)

func TestFromModel(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr string
		check   func(t *testing.T, c *Config)
	}{
		{
			name: "defaults and tracking",
			yaml: `version: 1
scripts:
  chk: {script: /bin/true, weight: -20, fall: 2}
vrrp_instances:
  - name: VI_1
    interface: eth0
    virtual_router_id: 51
    track_interfaces: [{name: eth1, weight: 0}]
    track_scripts: [{name: chk, weight: 30}]
    virtual_addresses: [{address: 10.0.0.100/24}]
`,
			check: func(t *testing.T, c *Config) {
				in := c.Instances[0]
				if in.FSM.Priority != 100 || in.FSM.AdvertInt != time.Second || in.FSM.Version != 2 || !in.FSM.Preempt {
					t.Errorf("defaults: %+v", in.FSM)
				}
				if in.GarpDelay != 5*time.Second || in.GarpRepeat != 5 {
					t.Errorf("garp defaults: %v %d", in.GarpDelay, in.GarpRepeat)
				}
				keys := []string{}
				for _, tr := range in.FSM.Tracks {
					keys = append(keys, tr.Key.String())
				}
				if got := strings.Join(keys, ","); got != "interface eth0,source eth0 IPv4,interface eth1,script chk" {
					t.Errorf("tracks %s", got)
				}
				if w := in.FSM.Tracks[3].Weight; w != 30 {
					t.Errorf("per-instance weight override: %d", w)
				}
				if s := c.Scripts["chk"]; s == nil || s.Fall != 2 || s.Rise != 1 || s.Timeout != time.Second {
					t.Errorf("script %+v", s)
				}
			},
		},
		{
			name: "AH refused",
			yaml: `version: 1
vrrp_instances:
  - name: VI_1
    interface: eth0
    virtual_router_id: 51
    authentication: {type: AH, pass: x}
    virtual_addresses: [{address: 10.0.0.100/24}]
`,
			wantErr: "vrrp_instance VI_1: authentication AH is not supported",
		},
		{
			name: "ipv6 is v3",
			yaml: `version: 1
vrrp_instances:
  - name: VI_6
    interface: eth0
    virtual_router_id: 9
    virtual_addresses: [{address: 2001:db8::1/64}]
`,
			check: func(t *testing.T, c *Config) {
				if in := c.Instances[0]; !in.V6 || in.FSM.Version != 3 {
					t.Errorf("v6 %v version %d", in.V6, in.FSM.Version)
				}
				if k := c.Instances[0].FSM.Tracks[1].Key; k != sourceKey("eth0", true) {
					t.Errorf("source track %q", k)
				}
			},
		},
		{
			name: "a given source address is not tracked",
			yaml: `version: 1
vrrp_instances:
  - name: VI_1
    interface: eth0
    virtual_router_id: 51
    unicast_src_ip: 10.0.0.1
    unicast_peers: [10.0.0.2]
    virtual_addresses: [{address: 10.0.0.100/24}]
`,
			check: func(t *testing.T, c *Config) {
				for _, tr := range c.Instances[0].FSM.Tracks {
					if tr.Key.Kind == TrackSource {
						t.Errorf("track %q with unicast_src_ip given", tr.Key)
					}
				}
			},
		},
		{
			name: "without virtual addresses, VRRPv2: runs, as in keepalived",
			yaml: `version: 1
vrrp_instances:
  - {name: VI_0, interface: eth0, virtual_router_id: 51}
`,
			check: func(t *testing.T, c *Config) {
				if in := c.Instances[0]; len(in.Addrs) != 0 || in.V6 || in.FSM.Version != 2 {
					t.Errorf("addresses %v, v6 %v, version %d; want none, IPv4, 2", in.Addrs, in.V6, in.FSM.Version)
				}
			},
		},
		{
			name: "without virtual addresses, VRRPv3: refused, as in keepalived",
			yaml: `version: 1
vrrp_instances:
  - {name: VI_0, interface: eth0, virtual_router_id: 51, version: 3}
`,
			wantErr: "no virtual_addresses; VRRPv3, IPv6 and vrrp_strict instances need at least one",
		},
		{
			name: "without virtual addresses, vrrp_strict: refused",
			yaml: `version: 1
global: {vrrp_strict: true}
vrrp_instances:
  - {name: VI_0, interface: eth0, virtual_router_id: 51}
`,
			wantErr: "no virtual_addresses",
		},
		{
			name: "without virtual addresses, IPv6 peers: refused",
			yaml: `version: 1
vrrp_instances:
  - {name: VI_0, interface: eth0, virtual_router_id: 51, unicast_peers: ["2001:db8::2"]}
`,
			wantErr: "no virtual_addresses",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := model.Parse([]byte(tt.yaml), "m.yaml")
			if err != nil {
				t.Fatal(err)
			}
			c, err := FromModel(m)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

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
	// The real link's address reading, without its socket (no root).
	l := &link{name: "lo", conn: &rawLink{ifi: lo}, clk: clock.Real()}
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
