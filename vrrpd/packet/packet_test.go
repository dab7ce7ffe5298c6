package packet

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"reflect"
	"testing"
	"time"
)

var (
	src4 = netip.MustParseAddr("10.0.0.1")
	src6 = netip.MustParseAddr("fe80::1")
)

// onesSum verifies a checksum independently of checksum(): the one's
// complement sum of pseudo-header + message, checksum included, is 0xffff.
func onesSum(b []byte, version int, src, dst netip.Addr) uint16 {
	var buf []byte
	if version == 3 {
		buf = append(buf, src.AsSlice()...)
		buf = append(buf, dst.AsSlice()...)
		if src.Is6() {
			buf = binary.BigEndian.AppendUint32(buf, uint32(len(b)))
			buf = append(buf, 0, 0, 0, IPProto)
		} else {
			buf = append(buf, 0, IPProto)
			buf = binary.BigEndian.AppendUint16(buf, uint16(len(b)))
		}
	}
	buf = append(buf, b...)
	if len(buf)%2 == 1 {
		buf = append(buf, 0)
	}
	var s uint32
	for i := 0; i < len(buf); i += 2 {
		s += uint32(binary.BigEndian.Uint16(buf[i:]))
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name     string
		p        Packet
		src, dst netip.Addr
		wantLen  int
	}{
		{"v2 pass", Packet{Version: 2, VRID: 51, Priority: 100, Interval: time.Second, Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.100")}, AuthType: AuthPass, AuthData: PassData("secret")}, src4, Group4, 8 + 4 + 8},
		{"v2 none 3 addrs", Packet{Version: 2, VRID: 255, Priority: 255, Interval: 255 * time.Second, Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.100"), netip.MustParseAddr("10.0.0.101"), netip.MustParseAddr("192.0.2.1")}}, src4, Group4, 8 + 12 + 8},
		{"v3 ipv4 centiseconds", Packet{Version: 3, VRID: 1, Priority: 0, Interval: 100 * time.Millisecond, Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.100")}}, src4, Group4, 12},
		{"v3 ipv4 max interval", Packet{Version: 3, VRID: 9, Priority: 1, Interval: 40950 * time.Millisecond, Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.100")}}, src4, netip.MustParseAddr("10.0.0.2"), 12},
		{"v3 ipv6", Packet{Version: 3, VRID: 7, Priority: 150, Interval: 10 * time.Millisecond, Addrs: []netip.Addr{netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("fe80::100")}}, src6, Group6, 8 + 32},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Marshal(&tt.p, tt.src, tt.dst)
			if err != nil {
				t.Fatal(err)
			}
			if len(b) != tt.wantLen {
				t.Fatalf("len %d, want %d", len(b), tt.wantLen)
			}
			if s := onesSum(b, tt.p.Version, tt.src, tt.dst); s != 0xffff {
				t.Fatalf("independent checksum sum %#x, want 0xffff", s)
			}
			got, err := Parse(b, tt.src, tt.dst)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tt.p) {
				t.Fatalf("got %+v\nwant %+v", *got, tt.p)
			}
			// Append after other bytes, into a buffer dirty from a longer
			// packet, writes the same packet and allocates nothing.
			buf := bytes.Repeat([]byte{0xee}, 64)
			out, err := Append(buf[:3], &tt.p, tt.src, tt.dst)
			if err != nil || !bytes.Equal(out[:3], buf[:3]) || !bytes.Equal(out[3:], b) {
				t.Fatalf("Append = % x, %v; want ee ee ee then % x", out, err, b)
			}
			if n := testing.AllocsPerRun(10, func() { Append(buf[:0], &tt.p, tt.src, tt.dst) }); n != 0 {
				t.Errorf("Append into room enough allocated %v times", n)
			}
		})
	}
}

// A VRRPv2 advert as RFC 3768 lays it out, bytes written by hand.
func TestParseKnownV2(t *testing.T) {
	b := []byte{
		0x21, 51, 100, 1, // v2 advert, vrid 51, prio 100, 1 addr
		1, 1, 0, 0, // auth PASS, 1 s, checksum (filled below)
		10, 0, 0, 100,
		's', 'e', 'c', 'r', 'e', 't', 0, 0,
	}
	// RFC 1071 over the message: words 0x2133 0x6401 0x0101 0x0a00 0x0064
	// 0x7365 0x6372 0x6574 0x0000.
	sum := uint32(0x2133 + 0x6401 + 0x0101 + 0x0a00 + 0x0064 + 0x7365 + 0x6372 + 0x6574)
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(b[6:], ^uint16(sum))
	p, err := Parse(b, src4, Group4)
	if err != nil {
		t.Fatal(err)
	}
	if p.VRID != 51 || p.Priority != 100 || p.Interval != time.Second || p.Addrs[0] != netip.MustParseAddr("10.0.0.100") || !p.PassMatches("secret") || p.PassMatches("secreT") {
		t.Fatalf("decoded %+v", p)
	}
}

func TestParseErrors(t *testing.T) {
	good2, _ := Marshal(&Packet{Version: 2, VRID: 51, Priority: 100, Interval: time.Second, Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.100")}}, src4, Group4)
	good3, _ := Marshal(&Packet{Version: 3, VRID: 51, Priority: 100, Interval: time.Second, Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.100")}}, src4, Group4)
	mut := func(b []byte, f func([]byte) []byte) []byte {
		c := append([]byte(nil), b...)
		return f(c)
	}
	// fix recomputes the checksum so that only the intended fault remains.
	fix := func(v int) func([]byte) []byte {
		return func(b []byte) []byte {
			binary.BigEndian.PutUint16(b[6:], checksum(b, v, src4, Group4))
			return b
		}
	}
	tests := []struct {
		name     string
		b        []byte
		src, dst netip.Addr
		want     error
	}{
		{"empty", nil, src4, Group4, ErrTruncated},
		{"header only", good2[:8], src4, Group4, ErrTruncated},
		{"v2 no auth data", good2[:12], src4, Group4, ErrTruncated},
		{"version 1", mut(good2, func(b []byte) []byte { b[0] = 0x11; return fix(2)(b) }), src4, Group4, ErrVersion},
		{"version 4", mut(good3, func(b []byte) []byte { b[0] = 0x41; return fix(3)(b) }), src4, Group4, ErrVersion},
		{"v2 over ipv6", good2, src6, Group6, ErrVersion},
		{"type 2", mut(good2, func(b []byte) []byte { b[0] = 0x22; return fix(2)(b) }), src4, Group4, ErrType},
		{"vrid 0", mut(good2, func(b []byte) []byte { b[1] = 0; return fix(2)(b) }), src4, Group4, ErrVRID},
		{"count lies high", mut(good2, func(b []byte) []byte { b[3] = 2; return fix(2)(b) }), src4, Group4, ErrTruncated},
		{"count lies low", mut(good3, func(b []byte) []byte { b[3] = 0; return fix(3)(b) }), src4, Group4, ErrCount},
		{"trailing bytes", mut(good3, func(b []byte) []byte { return fix(3)(append(b, 1, 2, 3, 4)) }), src4, Group4, ErrCount},
		{"bad checksum v2", mut(good2, func(b []byte) []byte { b[7] ^= 1; return b }), src4, Group4, ErrChecksum},
		{"bad checksum v3 (other dst)", good3, src4, netip.MustParseAddr("10.0.0.9"), ErrChecksum},
		{"interval 0 v2", mut(good2, func(b []byte) []byte { b[5] = 0; return fix(2)(b) }), src4, Group4, ErrInterval},
		{"interval 0 v3", mut(good3, func(b []byte) []byte { b[4], b[5] = 0xf0, 0; return fix(3)(b) }), src4, Group4, ErrInterval},
		{"mixed family", good2, src4, Group6, ErrFamily},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.b, tt.src, tt.dst)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
		})
	}
}

func TestMarshalErrors(t *testing.T) {
	a4 := []netip.Addr{netip.MustParseAddr("10.0.0.100")}
	tests := []struct {
		name     string
		p        Packet
		src, dst netip.Addr
		want     error
	}{
		{"v2 fractional", Packet{Version: 2, VRID: 1, Interval: 1500 * time.Millisecond, Addrs: a4}, src4, Group4, ErrInterval},
		{"v3 too long", Packet{Version: 3, VRID: 1, Interval: 41 * time.Second, Addrs: a4}, src4, Group4, ErrInterval},
		{"v2 ipv6", Packet{Version: 2, VRID: 1, Interval: time.Second, Addrs: a4}, src6, Group6, ErrFamily},
		{"addr family", Packet{Version: 3, VRID: 1, Interval: time.Second, Addrs: a4}, src6, Group6, ErrFamily},
		{"version 5", Packet{Version: 5, VRID: 1, Interval: time.Second, Addrs: a4}, src4, Group4, ErrVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Marshal(&tt.p, tt.src, tt.dst); !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
		})
	}
}

// FuzzParse: no input panics, and whatever parses re-encodes to the same
// bytes (the codec is a bijection on valid packets).
func FuzzParse(f *testing.F) {
	for _, p := range []Packet{
		{Version: 2, VRID: 51, Priority: 100, Interval: time.Second, Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.100")}, AuthType: AuthPass, AuthData: PassData("pw")},
		{Version: 3, VRID: 51, Priority: 100, Interval: 100 * time.Millisecond, Addrs: []netip.Addr{netip.MustParseAddr("10.0.0.100")}},
	} {
		b, _ := Marshal(&p, src4, Group4)
		f.Add(b, false)
	}
	b6, _ := Marshal(&Packet{Version: 3, VRID: 5, Priority: 200, Interval: time.Second, Addrs: []netip.Addr{netip.MustParseAddr("2001:db8::5")}}, src6, Group6)
	f.Add(b6, true)
	f.Fuzz(func(t *testing.T, b []byte, v6 bool) {
		src, dst := src4, Group4
		if v6 {
			src, dst = src6, Group6
		}
		p, err := Parse(b, src, dst)
		if err != nil {
			return
		}
		out, err := Marshal(p, src, dst)
		if err != nil {
			t.Fatalf("parsed %+v but cannot marshal: %v", p, err)
		}
		// v3's 4 reserved bits are not kept; compare the rest.
		in := append([]byte(nil), b...)
		if p.Version == 3 {
			in[4] &= 0x0f
			binary.BigEndian.PutUint16(in[6:], checksum(in, 3, src, dst))
		}
		if string(out) != string(in) {
			t.Fatalf("re-encoded\n%x\nwant\n%x", out, in)
		}
	})
}
