package vrrpd

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"unsafe"

	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// announcer sends gratuitous ARP (IPv4) and unsolicited neighbour
// advertisements (IPv6) for the virtual addresses, so that switches and
// neighbours learn the new master's MAC at once.
type announcer struct {
	ifi   *net.Interface
	arp   int                     // AF_PACKET socket, -1 if not opened
	arpTo *unix.SockaddrLinklayer // the broadcast destination
	nd    *ipv6.PacketConn
	ndc   net.PacketConn
	ndTo  *net.IPAddr // all nodes on the link
	ndCM  *ipv6.ControlMessage
	// frame is the message's buffer, reused: a master's burst of 5
	// announcements for each of 100 instances made 500 frames of garbage.
	frame []byte
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// Announcer opens the real sender: an AF_PACKET socket (IPv4) or an ICMPv6
// one (IPv6).
func (kernelTransport) Announcer(ifname string, v6 bool, src6 netip.Addr) (Announcer, error) {
	ifi, err := interfaceByName(ifname)
	if err != nil {
		return nil, err
	}
	a := &announcer{ifi: ifi, arp: -1}
	if !v6 {
		a.arpTo = &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ARP), Ifindex: ifi.Index, Halen: 6, Addr: [8]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}
		// Protocol 0: a send-only socket that receives nothing (with
		// ETH_P_ARP the kernel would queue every ARP on the host to it).
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("ARP socket on %s: %w", ifname, err)
		}
		a.arp = fd
		return a, nil
	}
	c, err := rawSocket("", true, unix.IPPROTO_ICMPV6)
	if err != nil {
		return nil, fmt.Errorf("ICMPv6 socket on %s: %w", ifname, err)
	}
	a.ndc = c
	a.nd = ipv6.NewPacketConn(c)
	// The link goes by index, in the control message: a zone would be
	// looked up by name at each send (in the namespace of the thread that
	// sends, and from a dump of every link, cached for a minute).
	a.ndTo = &net.IPAddr{IP: net.ParseIP("ff02::1")}
	a.ndCM = &ipv6.ControlMessage{IfIndex: ifi.Index, HopLimit: 255}
	if src6.IsValid() {
		a.ndCM.Src = src6.AsSlice()
	}
	if err := a.nd.SetMulticastHopLimit(255); err != nil {
		c.Close()
		return nil, err
	}
	// Send only; never read this socket.
	var f ipv6.ICMPFilter
	f.SetAll(true)
	_ = a.nd.SetICMPFilter(&f)
	return a, nil
}

// interfaceByName is the index and MAC of an interface, read by ioctl:
// net.InterfaceByName reads them from a netlink dump of every link in the
// namespace, 22 KiB of garbage an instance at start with two links
// (measured), more with more links.
func interfaceByName(name string) (*net.Interface, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("interface %s: %w", name, err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return nil, fmt.Errorf("interface %s: %w", name, err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFINDEX, ifr); err != nil {
		return nil, fmt.Errorf("interface %s: %w", name, err)
	}
	index := int(ifr.Uint32())
	var hw ifreqHWAddr
	copy(hw.name[:], name)
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCGIFHWADDR, uintptr(unsafe.Pointer(&hw))); errno != 0 {
		return nil, fmt.Errorf("interface %s: MAC address: %w", name, errno)
	}
	return &net.Interface{Index: index, Name: name, HardwareAddr: hw.mac()}, nil
}

// ifreqHWAddr is struct ifreq as SIOCGIFHWADDR fills it: the name, then a
// sockaddr whose family is the link type and whose data starts with the
// address (6 bytes on Ethernet; none on a link without one).
type ifreqHWAddr struct {
	name   [unix.IFNAMSIZ]byte
	family uint16
	data   [14]byte
	_      [8]byte // the rest of the union
}

func (r *ifreqHWAddr) mac() net.HardwareAddr {
	if r.family != unix.ARPHRD_ETHER {
		return nil
	}
	return slices.Clone(r.data[:6])
}

func (a *announcer) Close() error {
	if a.arp >= 0 {
		unix.Close(a.arp)
	}
	if a.ndc != nil {
		a.ndc.Close()
	}
	return nil
}

// AppendGARP appends to dst a gratuitous ARP request for ip from mac
// (sender and target protocol address both ip, broadcast destination),
// as keepalived sends it.
func AppendGARP(dst []byte, mac net.HardwareAddr, ip netip.Addr) []byte {
	dst = slices.Grow(dst, 42)
	b := dst[len(dst) : len(dst)+42]
	clear(b)
	copy(b[0:6], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	copy(b[6:12], mac)
	binary.BigEndian.PutUint16(b[12:], unix.ETH_P_ARP)
	binary.BigEndian.PutUint16(b[14:], 1)      // Ethernet
	binary.BigEndian.PutUint16(b[16:], 0x0800) // IPv4
	b[18], b[19] = 6, 4
	binary.BigEndian.PutUint16(b[20:], 1) // request
	copy(b[22:28], mac)
	ip4 := ip.As4()
	copy(b[28:32], ip4[:])
	copy(b[32:38], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	copy(b[38:42], ip4[:])
	return dst[:len(dst)+42]
}

// AppendNA appends to dst an unsolicited neighbour advertisement (RFC
// 4861 §7.2.6) for target with the override flag and the target
// link-layer option; the kernel fills in the ICMPv6 checksum.
func AppendNA(dst []byte, mac net.HardwareAddr, target netip.Addr) []byte {
	dst = slices.Grow(dst, 32)
	b := dst[len(dst) : len(dst)+32]
	clear(b)
	b[0] = 136                               // neighbour advertisement
	binary.BigEndian.PutUint32(b[4:], 1<<29) // override
	t := target.As16()
	copy(b[8:24], t[:])
	b[24], b[25] = 2, 1 // target link-layer address, 8 bytes
	copy(b[26:32], mac)
	return dst[:len(dst)+32]
}

// Announce sends one round for addrs.
func (a *announcer) Announce(addrs []netip.Addr) error {
	var first error
	for _, ip := range addrs {
		var err error
		if ip.Is4() && a.arp >= 0 {
			a.frame = AppendGARP(a.frame[:0], a.ifi.HardwareAddr, ip)
			err = unix.Sendto(a.arp, a.frame, 0, a.arpTo)
		} else if ip.Is6() && a.nd != nil {
			a.frame = AppendNA(a.frame[:0], a.ifi.HardwareAddr, ip)
			_, err = a.nd.WriteTo(a.frame, a.ndCM, a.ndTo)
		}
		if err != nil && first == nil {
			first = fmt.Errorf("announce %s on %s: %w", ip, a.ifi.Name, err)
		}
	}
	return first
}
