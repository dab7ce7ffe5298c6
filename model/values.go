package model

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// scalar is implemented by value types that decode themselves from one YAML
// scalar. The error text says what was expected; the decoder adds position
// and path.
type scalar interface {
	decodeScalar(value, tag string) error
}

// Duration is a length of time, written as a Go duration ("1.5s", "100ms")
// or as a number of seconds (keepalived's style: 3, 0.5).
type Duration struct{ time.Duration }

// Seconds builds a Duration from seconds.
func Seconds(s float64) Duration { return Duration{time.Duration(s * float64(time.Second))} }

func (d *Duration) decodeScalar(v, tag string) error {
	if tag == "!!int" || tag == "!!float" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) || f > 1e9 {
			return fmt.Errorf("want a duration such as 5s or a number of seconds, got %q", v)
		}
		d.Duration = time.Duration(f * float64(time.Second))
		return nil
	}
	x, err := time.ParseDuration(v)
	if err != nil || x < 0 {
		return fmt.Errorf("want a duration such as 5s, 100ms or a number of seconds, got %q", v)
	}
	d.Duration = x
	return nil
}

// MarshalYAML writes durations in Go's short form.
func (d Duration) MarshalYAML() (any, error) { return formatDuration(d.Duration), nil }

func formatDuration(d time.Duration) string {
	s := d.String()
	// time.Duration prints 1m0s; trim the zero tails for readability.
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Addr is an IP address (v4 or v6, no zone).
type Addr struct{ netip.Addr }

func (a *Addr) decodeScalar(v, tag string) error {
	x, err := netip.ParseAddr(v)
	if err != nil || x.Zone() != "" {
		return fmt.Errorf("want an IP address such as 192.0.2.1 or 2001:db8::1, got %q", v)
	}
	a.Addr = x.Unmap()
	return nil
}

// MarshalYAML writes the address in its canonical form.
func (a Addr) MarshalYAML() (any, error) { return a.Addr.String(), nil }

// Prefix is an address with a prefix length ("192.0.2.10/24"). A bare
// address means a host prefix (/32 or /128), as keepalived.
type Prefix struct{ netip.Prefix }

func (p *Prefix) decodeScalar(v, tag string) error {
	if !strings.Contains(v, "/") {
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" {
			return fmt.Errorf("want an address with an optional prefix length such as 192.0.2.10/24, got %q", v)
		}
		a = a.Unmap()
		p.Prefix = netip.PrefixFrom(a, a.BitLen())
		return nil
	}
	x, err := netip.ParsePrefix(v)
	if err != nil {
		return fmt.Errorf("want an address with a prefix length such as 192.0.2.10/24, got %q", v)
	}
	p.Prefix = x
	return nil
}

// MarshalYAML writes addr/len, keeping the host bits (it is an interface
// address, not a network).
func (p Prefix) MarshalYAML() (any, error) { return p.Prefix.String(), nil }

// Network is a route destination: a prefix without host bits
// ("10.1.0.0/16", "0.0.0.0/0", "::/0"); a bare address is a host route.
type Network struct{ netip.Prefix }

func (n *Network) decodeScalar(v, tag string) error {
	if v == "default" {
		return fmt.Errorf("\"default\" has no address family here: write 0.0.0.0/0 or ::/0")
	}
	var p Prefix
	if err := p.decodeScalar(v, tag); err != nil {
		return fmt.Errorf("want a network such as 10.1.0.0/16 or ::/0, got %q", v)
	}
	if m := p.Masked(); m != p.Prefix {
		return fmt.Errorf("%s has host bits set: the network is %s", v, m)
	}
	n.Prefix = p.Prefix
	return nil
}

// MarshalYAML writes addr/len.
func (n Network) MarshalYAML() (any, error) { return n.Prefix.String(), nil }

// Mask is a persistence granularity: a prefix length (24) or, as keepalived
// writes it, a dotted IPv4 netmask (255.255.255.0).
type Mask struct{ Bits int }

func (m *Mask) decodeScalar(v, tag string) error {
	if tag == "!!int" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 128 {
			return fmt.Errorf("want a prefix length 0..128 or a netmask such as 255.255.255.0, got %q", v)
		}
		m.Bits = n
		return nil
	}
	v = strings.TrimPrefix(v, "/")
	if n, err := strconv.Atoi(v); err == nil && n >= 0 && n <= 128 {
		m.Bits = n
		return nil
	}
	a, err := netip.ParseAddr(v)
	if err != nil || !a.Is4() {
		return fmt.Errorf("want a prefix length 0..128 or a netmask such as 255.255.255.0, got %q", v)
	}
	bits, ok := maskBits(a.As4())
	if !ok {
		return fmt.Errorf("netmask %s is not contiguous", v)
	}
	m.Bits = bits
	return nil
}

func maskBits(b [4]byte) (int, bool) {
	u := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n := 0
	for n < 32 && u&(1<<(31-n)) != 0 {
		n++
	}
	if n < 32 && u<<n != 0 {
		return 0, false
	}
	return n, true
}

// MarshalYAML writes the prefix length.
func (m Mask) MarshalYAML() (any, error) { return m.Bits, nil }

// AddrRange is an address or a keepalived range that varies the last octet
// (IPv4, "10.0.0.10-12") or last hextet (IPv6, "2001:db8::2-9", hex).
type AddrRange struct {
	First netip.Addr
	Last  netip.Addr
}

// maxRange bounds a range so that one line cannot create a million
// services by mistake.
const maxRange = 256

func (r *AddrRange) decodeScalar(v, tag string) error {
	base, end, isRange := strings.Cut(v, "-")
	a, err := netip.ParseAddr(base)
	if err != nil || a.Zone() != "" {
		return fmt.Errorf("want an address or a range such as 10.0.0.10-12, got %q", v)
	}
	a = a.Unmap()
	r.First, r.Last = a, a
	if !isRange {
		return nil
	}
	if a.Is4() {
		n, err := strconv.Atoi(end)
		b := a.As4()
		if err != nil || n < 0 || n > 255 {
			return fmt.Errorf("want an address or a range such as 10.0.0.10-12 (the end is a last octet), got %q", v)
		}
		if n < int(b[3]) {
			return fmt.Errorf("range %q ends below its start; the end is a last octet from %d to 255", v, b[3])
		}
		b[3] = byte(n)
		r.Last = netip.AddrFrom4(b)
		return nil
	}
	n, err := strconv.ParseUint(end, 16, 16)
	b := a.As16()
	first := uint64(b[14])<<8 | uint64(b[15])
	switch {
	case err != nil:
		return fmt.Errorf("want an address or a range such as 2001:db8::a-f (the end is a last hextet, in hex), got %q", v)
	case n < first:
		return fmt.Errorf("range %q ends below its start; the end is a last hextet (hex) from %x", v, first)
	case n-first >= maxRange:
		return fmt.Errorf("range %q covers more than %d addresses", v, maxRange)
	}
	b[14], b[15] = byte(n>>8), byte(n)
	r.Last = netip.AddrFrom16(b)
	return nil
}

// Addrs lists every address of the range.
func (r AddrRange) Addrs() []netip.Addr {
	var out []netip.Addr
	for a := r.First; a.IsValid() && a.Compare(r.Last) <= 0 && len(out) < maxRange; a = a.Next() {
		out = append(out, a)
	}
	return out
}

// MarshalYAML writes the keepalived form.
func (r AddrRange) MarshalYAML() (any, error) {
	if r.First == r.Last {
		return r.First.String(), nil
	}
	if r.First.Is4() {
		return fmt.Sprintf("%s-%d", r.First, r.Last.As4()[3]), nil
	}
	b := r.Last.As16()
	return fmt.Sprintf("%s-%x", r.First, uint16(b[14])<<8|uint16(b[15])), nil
}

// IsZero methods tell yaml.v3's omitempty what "empty" is: without them it
// sees only unexported fields and omits every address.
func (a Addr) IsZero() bool      { return !a.Addr.IsValid() }
func (p Prefix) IsZero() bool    { return !p.Prefix.IsValid() }
func (n Network) IsZero() bool   { return !n.Prefix.IsValid() }
func (r AddrRange) IsZero() bool { return !r.First.IsValid() }
