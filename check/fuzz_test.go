package check

import (
	"strings"
	"testing"
)

// FuzzSplitCommand: never panics; a successful split yields a program and
// words that, quoted back, split to the same words.
func FuzzSplitCommand(f *testing.F) {
	for _, s := range []string{`/bin/check`, `/bin/check "a b" c`, `  x  "" y`, `"unterminated`, `a\"b`, `"a\"b\\c"`, "\t/x\ty", `""`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		args, err := SplitCommand(s)
		if err != nil {
			return
		}
		if len(args) == 0 || args[0] == "" {
			t.Fatalf("%q: success without a program: %q", s, args)
		}
		quoted := make([]string, len(args))
		for i, a := range args {
			quoted[i] = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(a) + `"`
		}
		again, err := SplitCommand(strings.Join(quoted, " "))
		if err != nil || strings.Join(again, "\x00") != strings.Join(args, "\x00") || len(again) != len(args) {
			t.Fatalf("%q: split %q, re-split of quoted form %q (%v)", s, args, again, err)
		}
	})
}

// FuzzParseStatusSet: never panics; an accepted set holds only valid
// codes and contains the bounds of each range.
func FuzzParseStatusSet(f *testing.F) {
	for _, s := range []string{"200", "200-299", "200,301", "599-100", "-1", "200-", "1e3", " 200 , 404-405"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		set, err := ParseStatusSet([]string{s})
		if err != nil {
			return
		}
		for _, r := range set {
			if r.Lo < 100 || r.Hi > 599 || r.Lo > r.Hi || !set.Contains(r.Lo) || !set.Contains(r.Hi) {
				t.Fatalf("%q: bad range %+v", s, r)
			}
		}
		if set.Contains(99) || set.Contains(600) {
			t.Fatalf("%q: contains an impossible code", s)
		}
		if again, err := ParseStatusSet([]string{set.String()}); err != nil || again.String() != set.String() {
			t.Fatalf("%q: String %q does not round-trip", s, set.String())
		}
	})
}

// FuzzParseDNSReply: never panics on any datagram; accepts only a
// response carrying our id.
func FuzzParseDNSReply(f *testing.F) {
	q, _ := BuildDNSQuery(0x1234, ".", 6)
	resp := append([]byte(nil), q...)
	resp[2] |= 0x80 // QR
	f.Add(q, uint16(0x1234))
	f.Add(resp, uint16(0x1234))
	f.Add(resp[:12], uint16(0x1234))
	f.Add([]byte{0x12}, uint16(0x1234))
	f.Fuzz(func(t *testing.T, b []byte, id uint16) {
		err := ParseDNSReply(b, id)
		if err == nil && (len(b) < 12 || uint16(b[0])<<8|uint16(b[1]) != id || b[2]&0x80 == 0 || b[3]&0x0f != 0) {
			t.Fatalf("accepted %x for id %04x", b, id)
		}
	})
}

// FuzzParsePayload and fileValue: never panic.
func FuzzParsePayload(f *testing.F) {
	for _, s := range []string{"", "00", "de ad be ef", "0xff", "xyz", "0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ParsePayload(s)
		if err == nil && len(b)*2 > len(s) {
			t.Fatalf("%q: %d bytes from %d characters", s, len(b), len(s))
		}
		fileValue(s)
	})
}

// FuzzResponse: the HTTP response judge never panics, gives the same
// verdict however the bytes are split across reads (the event loop sees
// arbitrary pieces), and never holds more than one read beyond the head
// bound.
func FuzzResponse(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.0 200 OK\r\n\r\n",
		"HTTP/1.1 503 x\r\nContent-Length: 3\r\n\r\nabc",
		"HTTP/1.0 200 OK\nA: b\n\nhello",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nhel\r\n2\nlo\n0\r\nT: 1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello",
		"HTTP/1.0 2",
		"\n\n",
		"HTTP/ 200\r\n\r\n",
	} {
		f.Add(s, uint8(3), true)
	}
	f.Fuzz(func(t *testing.T, raw string, step uint8, digest bool) {
		st, _ := ParseStatusSet([]string{"200-299"})
		u := URL{Status: st}
		if digest {
			u.Digest = md5hex("hello")
		}
		whole, _ := judge(&u, raw, 0)
		split, _ := judge(&u, raw, int(step%64)+1)
		if whole != split {
			t.Fatalf("%q: whole %q, in pieces of %d %q", raw, whole, step%64+1, split)
		}
		r := newResponse(&u)
		r.feed([]byte(raw))
		if len(r.head) > maxHeader+len(raw) {
			t.Fatalf("head buffer %d bytes", len(r.head))
		}
	})
}
