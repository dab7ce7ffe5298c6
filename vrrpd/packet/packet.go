// Package packet encodes and decodes VRRP advertisements: VRRPv2 (RFC 3768)
// over IPv4 and VRRPv3 (RFC 5798) over IPv4 and IPv6. It is pure: the caller
// passes the payload of an IP packet with protocol 112 plus the IP source and
// destination (needed for the v3 pseudo-header checksum). Parse never panics
// and returns one error per problem, so that the runtime can count and drop.
package packet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// IPProto is VRRP's IP protocol number.
const IPProto = 112

// Multicast groups VRRP advertisements are sent to.
var (
	Group4 = netip.MustParseAddr("224.0.0.18")
	Group6 = netip.MustParseAddr("ff02::12")
)

// TTL is the only TTL / hop limit a valid advertisement carries.
const TTL = 255

// Auth types of VRRPv2 (RFC 3768 §5.3.6; type 2 was AH in RFC 2338).
const (
	AuthNone = 0
	AuthPass = 1
	AuthAH   = 2
)

// TypeAdvertisement is the only VRRP packet type.
const TypeAdvertisement = 1

// Packet is one VRRP advertisement.
type Packet struct {
	Version  int // 2 or 3
	VRID     uint8
	Priority uint8
	// Interval is the advertisement interval: whole seconds for v2 (8 bits),
	// centiseconds for v3 (12 bits, Max Adver Int).
	Interval time.Duration
	Addrs    []netip.Addr
	// AuthType and AuthData are VRRPv2 only.
	AuthType uint8
	AuthData [8]byte
}

// Errors Parse returns, wrapped with detail; match them with errors.Is to
// count drops by kind.
var (
	ErrTruncated = errors.New("truncated")
	ErrVersion   = errors.New("bad version")
	ErrType      = errors.New("bad type")
	ErrChecksum  = errors.New("bad checksum")
	ErrCount     = errors.New("address count does not match length")
	ErrInterval  = errors.New("bad advertisement interval")
	ErrFamily    = errors.New("bad address family")
	ErrVRID      = errors.New("bad VRID")
)

const (
	headerLen = 8
	authLen   = 8
)

func addrLen(v6 bool) int {
	if v6 {
		return 16
	}
	return 4
}

// Marshal encodes p for sending from src to dst (both of one family; v2 is
// IPv4 only). The checksum is filled in.
func Marshal(p *Packet, src, dst netip.Addr) ([]byte, error) {
	return Append(nil, p, src, dst)
}

// Append is Marshal appending to b (nil on error): a master that reuses
// its buffer sends its adverts without allocating.
func Append(b []byte, p *Packet, src, dst netip.Addr) ([]byte, error) {
	v6 := src.Is6() && !src.Is4In6()
	if v6 != (dst.Is6() && !dst.Is4In6()) {
		return nil, fmt.Errorf("vrrp: source %s and destination %s differ in family: %w", src, dst, ErrFamily)
	}
	if p.Version != 2 && p.Version != 3 {
		return nil, fmt.Errorf("vrrp: version %d: %w", p.Version, ErrVersion)
	}
	if p.Version == 2 && v6 {
		return nil, fmt.Errorf("vrrp: VRRPv2 is IPv4 only: %w", ErrFamily)
	}
	if len(p.Addrs) > 255 {
		return nil, fmt.Errorf("vrrp: %d addresses, at most 255: %w", len(p.Addrs), ErrCount)
	}
	al := addrLen(v6)
	n := headerLen + al*len(p.Addrs)
	if p.Version == 2 {
		n += authLen
	}
	start := len(b)
	b = slices.Grow(b, n)[:start+n]
	out := b
	b = b[start:]
	clear(b)
	b[0] = byte(p.Version)<<4 | TypeAdvertisement
	b[1] = p.VRID
	b[2] = p.Priority
	b[3] = byte(len(p.Addrs))
	if p.Version == 2 {
		secs := p.Interval / time.Second
		if secs < 1 || secs > 255 || p.Interval%time.Second != 0 {
			return nil, fmt.Errorf("vrrp: v2 interval %s is not 1..255 whole seconds: %w", p.Interval, ErrInterval)
		}
		b[4] = p.AuthType
		b[5] = byte(secs)
	} else {
		cs := p.Interval / (10 * time.Millisecond)
		if cs < 1 || cs > 0xfff || p.Interval%(10*time.Millisecond) != 0 {
			return nil, fmt.Errorf("vrrp: v3 interval %s is not 0.01..40.95 s in centiseconds: %w", p.Interval, ErrInterval)
		}
		binary.BigEndian.PutUint16(b[4:], uint16(cs))
	}
	off := headerLen
	for _, a := range p.Addrs {
		a = a.Unmap()
		if a.Is6() != v6 {
			return nil, fmt.Errorf("vrrp: address %s is not of the packet's family: %w", a, ErrFamily)
		}
		copy(b[off:], a.AsSlice())
		off += al
	}
	if p.Version == 2 {
		copy(b[off:], p.AuthData[:])
	}
	binary.BigEndian.PutUint16(b[6:], checksum(b, p.Version, src, dst))
	return out, nil
}

// Parse decodes and validates an advertisement received from src to dst.
// Any problem (length, version, type, checksum, count, interval) is an error
// wrapping one of the Err values.
func Parse(b []byte, src, dst netip.Addr) (*Packet, error) {
	src, dst = src.Unmap(), dst.Unmap()
	if !src.IsValid() || !dst.IsValid() || src.Is6() != dst.Is6() {
		return nil, fmt.Errorf("vrrp: source %s / destination %s: %w", src, dst, ErrFamily)
	}
	v6 := src.Is6()
	if len(b) < headerLen {
		return nil, fmt.Errorf("vrrp: %d bytes, header needs %d: %w", len(b), headerLen, ErrTruncated)
	}
	p := &Packet{Version: int(b[0] >> 4), VRID: b[1], Priority: b[2]}
	if p.Version != 2 && p.Version != 3 {
		return nil, fmt.Errorf("vrrp: version %d: %w", p.Version, ErrVersion)
	}
	if p.Version == 2 && v6 {
		return nil, fmt.Errorf("vrrp: VRRPv2 over IPv6: %w", ErrVersion)
	}
	if t := b[0] & 0x0f; t != TypeAdvertisement {
		return nil, fmt.Errorf("vrrp: type %d: %w", t, ErrType)
	}
	if p.VRID == 0 {
		return nil, fmt.Errorf("vrrp: VRID 0: %w", ErrVRID)
	}
	count := int(b[3])
	al := addrLen(v6)
	want := headerLen + count*al
	if p.Version == 2 {
		want += authLen
	}
	if len(b) < want {
		return nil, fmt.Errorf("vrrp: %d bytes for %d addresses, need %d: %w", len(b), count, want, ErrTruncated)
	}
	// Trailing bytes beyond the declared addresses (and auth data) mean the
	// count lies; keepalived refuses those too.
	if len(b) > want {
		return nil, fmt.Errorf("vrrp: %d bytes but %d addresses need %d: %w", len(b), count, want, ErrCount)
	}
	if got, want := binary.BigEndian.Uint16(b[6:]), checksum(b, p.Version, src, dst); got != want {
		return nil, fmt.Errorf("vrrp: checksum %#04x, want %#04x: %w", got, want, ErrChecksum)
	}
	if p.Version == 2 {
		p.AuthType = b[4]
		if b[5] == 0 {
			return nil, fmt.Errorf("vrrp: interval 0: %w", ErrInterval)
		}
		p.Interval = time.Duration(b[5]) * time.Second
		copy(p.AuthData[:], b[want-authLen:want])
	} else {
		cs := binary.BigEndian.Uint16(b[4:]) & 0x0fff
		if cs == 0 {
			return nil, fmt.Errorf("vrrp: interval 0: %w", ErrInterval)
		}
		p.Interval = time.Duration(cs) * 10 * time.Millisecond
	}
	p.Addrs = make([]netip.Addr, count)
	for i := range count {
		off := headerLen + i*al
		if v6 {
			p.Addrs[i] = netip.AddrFrom16([16]byte(b[off : off+16]))
		} else {
			p.Addrs[i] = netip.AddrFrom4([4]byte(b[off : off+4]))
		}
	}
	return p, nil
}

// checksum computes the VRRP checksum with the checksum field taken as 0:
// v2 over the VRRP message only (RFC 3768 §5.3.8); v3 with the IPv4 or IPv6
// pseudo-header (RFC 5798 §5.2.8), as keepalived does for both families.
func checksum(b []byte, version int, src, dst netip.Addr) uint16 {
	var sum uint32
	add := func(p []byte) {
		for i := 0; i+1 < len(p); i += 2 {
			sum += uint32(p[i])<<8 | uint32(p[i+1])
		}
		if len(p)%2 == 1 {
			sum += uint32(p[len(p)-1]) << 8
		}
	}
	if version == 3 {
		s, d := src.AsSlice(), dst.AsSlice()
		add(s)
		add(d)
		if src.Is6() {
			var l [4]byte
			binary.BigEndian.PutUint32(l[:], uint32(len(b)))
			add(l[:])
		} else {
			sum += uint32(len(b))
		}
		sum += IPProto
	}
	add(b[:6])
	add(b[8:])
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// PassMatches reports whether a v2 packet carries the expected PASS
// authentication (keepalived: auth type and the 8 bytes, zero-padded, must
// match; no authentication configured means type 0 is wanted).
func (p *Packet) PassMatches(pass string) bool {
	if pass == "" {
		return p.AuthType == AuthNone
	}
	return p.AuthType == AuthPass && p.AuthData == PassData(pass)
}

// PassData is the 8-byte auth data field for a PASS password.
func PassData(pass string) [8]byte {
	var d [8]byte
	copy(d[:], pass)
	return d
}
