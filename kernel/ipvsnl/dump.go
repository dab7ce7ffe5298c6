package ipvsnl

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

const (
	cmdGetService = 4
	cmdGetDest    = 8

	destAttrActiveConns = 7
	destAttrInactConns  = 8
)

// ServiceDump is one service as the kernel reports it, with its
// destinations.
type ServiceDump struct {
	Service
	Dests []DestDump
}

// DestDump is one destination as the kernel reports it.
type DestDump struct {
	Dest
	Family      uint16
	ActiveConns uint32
	InactConns  uint32
}

// Dump reads every service and its destinations: one service dump, then
// one destination dump per service — spread over `workers` sockets, since
// a netlink socket runs one dump at a time.
func Dump(nsPath string, main *Conn, workers int) ([]ServiceDump, error) {
	svcs, err := main.dump(cmdGetService, nil)
	if err != nil {
		return nil, fmt.Errorf("dump IPVS services: %w", err)
	}
	out := make([]ServiceDump, 0, len(svcs))
	for _, a := range svcs {
		if s, ok := parseService(a); ok {
			out = append(out, ServiceDump{Service: s})
		}
	}
	if len(out) == 0 {
		return out, nil
	}
	workers = max(1, min(workers, len(out)/64+1))
	conns := []*Conn{main}
	defer func() {
		for _, c := range conns[1:] {
			c.Close()
		}
	}()
	for len(conns) < workers {
		fd, err := socketIn(nsPath)
		if err != nil {
			break // fewer workers is slower, not wrong
		}
		c := &Conn{fd: fd, family: main.family, Timeout: main.Timeout, buf: make([]byte, 1<<16)}
		c.setTimeouts()
		conns = append(conns, c)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(conns))
	for w, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(out); i += len(conns) {
				dests, err := c.DumpDests(out[i].Service)
				if err != nil {
					errs[w] = fmt.Errorf("dump real servers: %w", err)
					return
				}
				out[i].Dests = dests
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// DumpDests reads one service's destinations.
func (c *Conn) DumpDests(s Service) ([]DestDump, error) {
	raw, err := c.dump(cmdGetDest, &s)
	if err != nil {
		return nil, err
	}
	out := make([]DestDump, 0, len(raw))
	for _, a := range raw {
		if d, ok := parseDest(a, s.Family); ok {
			out = append(out, d)
		}
	}
	return out, nil
}

func (c *Conn) setTimeouts() {
	tv := unix.NsecToTimeval(int64(time.Second))
	unix.SetsockoptTimeval(c.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
}

// dump sends one dump request and returns the payload (after the genl
// header) of each reply message: a nested service or destination attribute.
// The returned slices are copies; c.buf is reused.
func (c *Conn) dump(cmd uint8, svc *Service) ([][]byte, error) {
	c.seq++
	seq := c.seq
	msg := make([]byte, unix.NLMSG_HDRLEN, 128)
	msg = append(msg, cmd, genlVersion, 0, 0)
	if svc == nil {
		off := nestStart(&msg, cmdAttrService) // moby/ipvs sends an empty one too
		nestEnd(msg, off)
	} else {
		off := nestStart(&msg, cmdAttrService)
		msg = appendServiceID(msg, *svc)
		nestEnd(msg, off)
	}
	binary.NativeEndian.PutUint32(msg[0:], uint32(len(msg)))
	binary.NativeEndian.PutUint16(msg[4:], c.family)
	binary.NativeEndian.PutUint16(msg[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	binary.NativeEndian.PutUint32(msg[8:], seq)
	if err := unix.Sendto(c.fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, err
	}
	var out [][]byte
	deadline := time.Now().Add(c.Timeout)
	for {
		n, _, err := unix.Recvfrom(c.fd, c.buf, 0)
		if err == unix.EAGAIN || err == unix.EINTR {
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("the kernel did not finish a dump within %s", c.Timeout)
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		b := c.buf[:n]
		for len(b) >= unix.NLMSG_HDRLEN {
			l := int(binary.NativeEndian.Uint32(b[0:]))
			typ := binary.NativeEndian.Uint16(b[4:])
			mseq := binary.NativeEndian.Uint32(b[8:])
			if l < unix.NLMSG_HDRLEN || l > len(b) {
				return nil, fmt.Errorf("malformed netlink message")
			}
			m := b[unix.NLMSG_HDRLEN:l]
			b = b[min(align4(l), len(b)):]
			if mseq != seq {
				continue
			}
			switch typ {
			case unix.NLMSG_DONE:
				return out, nil
			case unix.NLMSG_ERROR:
				if len(m) >= 4 {
					if code := int32(binary.NativeEndian.Uint32(m)); code != 0 {
						return nil, syscall.Errno(-code)
					}
				}
				return out, nil
			}
			if len(m) < 4+unix.NLA_HDRLEN {
				continue
			}
			// Skip the genl header; the payload is one nested attribute.
			val, ok := firstAttrValue(m[4:])
			if ok {
				out = append(out, append([]byte(nil), val...))
			}
		}
	}
}

// attrs calls fn for each attribute in b.
func attrs(b []byte, fn func(typ uint16, val []byte)) {
	for len(b) >= unix.NLA_HDRLEN {
		l := int(binary.NativeEndian.Uint16(b[0:]))
		typ := binary.NativeEndian.Uint16(b[2:]) &^ (unix.NLA_F_NESTED | unix.NLA_F_NET_BYTEORDER)
		if l < unix.NLA_HDRLEN || l > len(b) {
			return
		}
		fn(typ, b[unix.NLA_HDRLEN:l])
		b = b[min(align4(l), len(b)):]
	}
}

func firstAttrValue(b []byte) ([]byte, bool) {
	var v []byte
	found := false
	attrs(b, func(_ uint16, val []byte) {
		if !found {
			v, found = val, true
		}
	})
	return v, found
}

func u16(b []byte) uint16 {
	if len(b) < 2 {
		return 0
	}
	return binary.NativeEndian.Uint16(b)
}

func u32(b []byte) uint32 {
	if len(b) < 4 {
		return 0
	}
	return binary.NativeEndian.Uint32(b)
}

func be16(b []byte) uint16 {
	if len(b) < 2 {
		return 0
	}
	return binary.BigEndian.Uint16(b)
}

// addrOf reads a union nf_inet_addr for a family.
func addrOf(b []byte, family uint16) (netip.Addr, bool) {
	if family == unix.AF_INET6 {
		if len(b) < 16 {
			return netip.Addr{}, false
		}
		return netip.AddrFrom16([16]byte(b[:16])), true
	}
	if len(b) < 4 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4([4]byte(b[:4])), true
}

func parseService(b []byte) (Service, bool) {
	var s Service
	var addr []byte
	attrs(b, func(typ uint16, v []byte) {
		switch typ {
		case svcAttrAF:
			s.Family = u16(v)
		case svcAttrProtocol:
			s.Protocol = u16(v)
		case svcAttrAddr:
			addr = v
		case svcAttrPort:
			s.Port = be16(v)
		case svcAttrFWMark:
			s.FWMark = u32(v)
		case svcAttrSchedName:
			s.Sched = cString(v)
		case svcAttrFlags:
			s.Flags = u32(v) // struct ip_vs_flags: flags, then mask
		case svcAttrTimeout:
			s.Timeout = u32(v)
		case svcAttrNetmask:
			s.Netmask = u32(v)
		}
	})
	if s.Family != unix.AF_INET && s.Family != unix.AF_INET6 {
		return s, false
	}
	if s.FWMark == 0 {
		a, ok := addrOf(addr, s.Family)
		if !ok {
			return s, false
		}
		s.Addr = a
	}
	return s, true
}

func parseDest(b []byte, svcFamily uint16) (DestDump, bool) {
	d := DestDump{Family: svcFamily}
	var addr []byte
	attrs(b, func(typ uint16, v []byte) {
		switch typ {
		case destAttrAddr:
			addr = v
		case destAttrPort:
			d.Port = be16(v)
		case destAttrFwdMethod:
			d.FwdMethod = u32(v)
		case destAttrWeight:
			d.Weight = u32(v)
		case destAttrUThresh:
			d.UThresh = u32(v)
		case destAttrLThresh:
			d.LThresh = u32(v)
		case destAttrActiveConns:
			d.ActiveConns = u32(v)
		case destAttrInactConns:
			d.InactConns = u32(v)
		case destAttrAddrFamily:
			d.Family = u16(v)
		case destAttrTunType:
			if len(v) > 0 {
				d.TunType = v[0]
			}
		case destAttrTunPort:
			d.TunPort = be16(v)
		case destAttrTunFlags:
			d.TunFlags = u16(v)
		}
	})
	a, ok := addrOf(addr, d.Family)
	d.Addr = a
	return d, ok
}

// cString is a NUL-terminated string attribute's text (the kernel's
// fixed-size name fields carry the NUL and may carry padding after it).
func cString(v []byte) string {
	if i := bytes.IndexByte(v, 0); i >= 0 {
		v = v[:i]
	}
	return string(v)
}
