package ipvsnl

import (
	"net/netip"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/vishvananda/netlink/nl"
)

// daemonAttrsOf encodes op as a request and returns its nested daemon
// attributes by type.
func daemonAttrsOf(t *testing.T, op Op) (map[uint16][]byte, []byte) {
	t.Helper()
	msgs, err := syscall.ParseNetlinkMessage(appendRequest(nil, 0x1c, 7, op))
	if err != nil || len(msgs) != 1 {
		t.Fatalf("parse: %v, %d messages", err, len(msgs))
	}
	if msgs[0].Data[0] != op.Cmd {
		t.Fatalf("command %d, want %d", msgs[0].Data[0], op.Cmd)
	}
	top, err := nl.ParseRouteAttr(msgs[0].Data[4:])
	if err != nil || len(top) != 1 || top[0].Attr.Type != cmdAttrDaemon {
		t.Fatalf("top attributes %v (%v), want one IPVS_CMD_ATTR_DAEMON", top, err)
	}
	inner, err := nl.ParseRouteAttr(top[0].Value)
	if err != nil {
		t.Fatal(err)
	}
	got := map[uint16][]byte{}
	for _, a := range inner {
		got[a.Attr.Type] = a.Value
	}
	return got, top[0].Value
}

func TestDaemonRequests(t *testing.T) {
	for _, tc := range []struct {
		name  string
		op    Op
		types []uint16 // the attributes sent
		back  Daemon   // parsed back (a dump's layout is the same)
	}{
		{
			name:  "start with the kernel's defaults",
			op:    Op{Cmd: CmdNewDaemon, Daemon: &Daemon{State: DaemonBackup, Interface: "eth1", SyncID: 51}},
			types: []uint16{daemonAttrState, daemonAttrMcastIfn, daemonAttrSyncID},
			back:  Daemon{State: DaemonBackup, Interface: "eth1", SyncID: 51},
		},
		{
			name: "start with every setting, IPv4 group",
			op: Op{Cmd: CmdNewDaemon, Daemon: &Daemon{State: DaemonMaster, Interface: "sync0", SyncID: 7,
				MaxLen: 1000, Group: netip.MustParseAddr("239.1.1.1"), Port: 9000, TTL: 3}},
			types: []uint16{daemonAttrState, daemonAttrMcastIfn, daemonAttrSyncID, daemonAttrSyncMaxLen, daemonAttrMcastGroup, daemonAttrMcastPort, daemonAttrMcastTTL},
			back: Daemon{State: DaemonMaster, Interface: "sync0", SyncID: 7,
				MaxLen: 1000, Group: netip.MustParseAddr("239.1.1.1"), Port: 9000, TTL: 3},
		},
		{
			name:  "start with an IPv6 group",
			op:    Op{Cmd: CmdNewDaemon, Daemon: &Daemon{State: DaemonMaster, Interface: "eth1", Group: netip.MustParseAddr("ff05::81")}},
			types: []uint16{daemonAttrState, daemonAttrMcastIfn, daemonAttrSyncID, daemonAttrMcastGroup6},
			back:  Daemon{State: DaemonMaster, Interface: "eth1", Group: netip.MustParseAddr("ff05::81")},
		},
		{
			name:  "stop carries the state only",
			op:    Op{Cmd: CmdDelDaemon, Daemon: &Daemon{State: DaemonMaster, Interface: "eth1", SyncID: 3}},
			types: []uint16{daemonAttrState},
			back:  Daemon{State: DaemonMaster},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, raw := daemonAttrsOf(t, tc.op)
			if len(got) != len(tc.types) {
				t.Errorf("%d attributes %v, want types %v", len(got), got, tc.types)
			}
			for _, typ := range tc.types {
				if _, ok := got[typ]; !ok {
					t.Errorf("attribute %d missing: %v", typ, got)
				}
			}
			if v, ok := got[daemonAttrMcastIfn]; ok && v[len(v)-1] != 0 {
				t.Errorf("interface name not NUL-terminated: %q", v)
			}
			d, ok := parseDaemon(raw)
			if !ok {
				t.Fatal("parsed back as invalid")
			}
			if diff := cmp.Diff(tc.back, d, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("parsed back (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDaemonRefusedBeforeTheKernel(t *testing.T) {
	c := &Conn{fd: -1}
	if err := c.StartDaemon(Daemon{State: DaemonMaster, Interface: "a-name-of-16-byte"}); err == nil {
		t.Error("an interface name the kernel cannot hold was accepted")
	}
}

func TestParseDaemonRejects(t *testing.T) {
	for _, b := range [][]byte{
		nil,
		attrU32(nil, daemonAttrState, 3), // neither master nor backup
		attr(nil, daemonAttrMcastIfn, []byte("eth1\x00")), // no state
	} {
		if d, ok := parseDaemon(b); ok {
			t.Errorf("%x parsed as %+v", b, d)
		}
	}
}
