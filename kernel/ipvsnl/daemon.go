package ipvsnl

import (
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"
)

// IPVS's connection synchronisation daemons: the kernel runs at most one
// master (sending the connection table by multicast) and one backup
// (receiving it) per network namespace, each started and stopped whole
// (there is no "set"), and reports them in one dump.
const (
	CmdNewDaemon = 9
	CmdDelDaemon = 10
	cmdGetDaemon = 11

	cmdAttrDaemon = 3

	daemonAttrState       = 1
	daemonAttrMcastIfn    = 2
	daemonAttrSyncID      = 3
	daemonAttrSyncMaxLen  = 4
	daemonAttrMcastGroup  = 5
	daemonAttrMcastGroup6 = 6
	daemonAttrMcastPort   = 7
	daemonAttrMcastTTL    = 8
)

// Sync daemon states (IP_VS_STATE_MASTER, IP_VS_STATE_BACKUP).
const (
	DaemonMaster = 1
	DaemonBackup = 2
)

// ifnameMax is IP_VS_IFNAME_MAXLEN less the terminating NUL.
const ifnameMax = 15

// Daemon is one sync daemon. Zero MaxLen, Port and TTL and an invalid
// Group leave the kernel's defaults (MTU-based, 8848, 1, 224.0.0.81) on
// start; a dump fills them in.
type Daemon struct {
	State     uint32 // DaemonMaster or DaemonBackup
	Interface string
	SyncID    uint32
	MaxLen    uint16
	Group     netip.Addr
	Port      uint16
	TTL       uint8
}

// Daemons returns the running sync daemons.
func (c *Conn) Daemons() ([]Daemon, error) {
	raw, err := c.dump(cmdGetDaemon, nil)
	if err != nil {
		return nil, err
	}
	out := make([]Daemon, 0, len(raw))
	for _, a := range raw {
		if d, ok := parseDaemon(a); ok {
			out = append(out, d)
		}
	}
	return out, nil
}

// StartDaemon starts d; the kernel answers EEXIST when a daemon of that
// state runs already and ENODEV for an unknown interface.
func (c *Conn) StartDaemon(d Daemon) error {
	if len(d.Interface) > ifnameMax {
		return fmt.Errorf("interface name %q longer than %d bytes", d.Interface, ifnameMax)
	}
	return c.Write([]Op{{Cmd: CmdNewDaemon, Daemon: &d}})[0]
}

// StopDaemon stops the daemon of a state (DaemonMaster, DaemonBackup);
// the kernel answers ESRCH when none runs.
func (c *Conn) StopDaemon(state uint32) error {
	return c.Write([]Op{{Cmd: CmdDelDaemon, Daemon: &Daemon{State: state}}})[0]
}

// appendDaemon appends the nested daemon attribute of a new/del daemon
// request: the state alone for a stop.
func appendDaemon(b []byte, cmd uint8, d *Daemon) []byte {
	off := nestStart(&b, cmdAttrDaemon)
	b = attrU32(b, daemonAttrState, d.State)
	if cmd == CmdNewDaemon {
		b = attr(b, daemonAttrMcastIfn, append([]byte(d.Interface), 0))
		b = attrU32(b, daemonAttrSyncID, d.SyncID)
		if d.MaxLen != 0 {
			b = attrU16(b, daemonAttrSyncMaxLen, d.MaxLen)
		}
		switch {
		case d.Group.Is4():
			b = attr(b, daemonAttrMcastGroup, d.Group.AsSlice())
		case d.Group.Is6():
			b = attr(b, daemonAttrMcastGroup6, d.Group.AsSlice())
		}
		if d.Port != 0 {
			b = attrU16(b, daemonAttrMcastPort, d.Port)
		}
		if d.TTL != 0 {
			b = attr(b, daemonAttrMcastTTL, []byte{d.TTL})
		}
	}
	nestEnd(b, off)
	return b
}

func parseDaemon(b []byte) (Daemon, bool) {
	var d Daemon
	attrs(b, func(typ uint16, v []byte) {
		switch typ {
		case daemonAttrState:
			d.State = u32(v)
		case daemonAttrMcastIfn:
			d.Interface = cString(v)
		case daemonAttrSyncID:
			d.SyncID = u32(v)
		case daemonAttrSyncMaxLen:
			d.MaxLen = u16(v)
		case daemonAttrMcastGroup:
			if a, ok := addrOf(v, unix.AF_INET); ok {
				d.Group = a
			}
		case daemonAttrMcastGroup6:
			if a, ok := addrOf(v, unix.AF_INET6); ok {
				d.Group = a
			}
		case daemonAttrMcastPort:
			d.Port = u16(v)
		case daemonAttrMcastTTL:
			if len(v) > 0 {
				d.TTL = v[0]
			}
		}
	})
	return d, d.State == DaemonMaster || d.State == DaemonBackup
}
