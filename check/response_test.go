package check

import (
	"strings"
	"testing"
)

// judge feeds raw to a response in pieces of size step (0: whole) and
// returns the verdict, as the event loop and the blocking path do: eof
// when the bytes end without a verdict.
func judge(u *URL, raw string, step int) (fail string, needEOF bool) {
	r := newResponse(u)
	b := []byte(raw)
	if step <= 0 {
		step = len(b) + 1
	}
	for len(b) > 0 {
		n := min(step, len(b))
		if done, fail := r.feed(b[:n]); done {
			return fail, false
		}
		b = b[n:]
	}
	return r.eof(), true
}

func TestResponse(t *testing.T) {
	st := func(s ...string) StatusSet {
		set, err := ParseStatusSet(s)
		if err != nil {
			t.Fatal(err)
		}
		return set
	}
	hello := md5hex("hello")
	tests := []struct {
		name    string
		url     URL
		raw     string
		fail    string // substring; "" = pass
		needEOF bool   // the verdict needs the server's close
	}{
		{"200", URL{Status: st()}, "HTTP/1.0 200 OK\r\nServer: x\r\n\r\n", "", false},
		{"status known before the body", URL{Status: st()}, "HTTP/1.1 200 OK\r\n\r\nbody that is never read", "", false},
		{"no reason phrase", URL{Status: st()}, "HTTP/1.1 204\r\n\r\n", "", false},
		{"lax line endings", URL{Status: st()}, "HTTP/1.0 200 OK\nA: b\n\n", "", false},
		{"503", URL{Status: st()}, "HTTP/1.0 503 Unavailable\r\n\r\n", "status 503 not in 200-299", false},
		{"status in a list", URL{Status: st("200", "503")}, "HTTP/1.0 503 x\r\n\r\n", "", false},
		{"not HTTP", URL{Status: st()}, "SSH-2.0-OpenSSH_9.2\r\n\r\n", "malformed status line", false},
		{"short code", URL{Status: st()}, "HTTP/1.0 20 OK\r\n\r\n", "malformed status line", false},
		{"code with letters", URL{Status: st()}, "HTTP/1.0 2x0 OK\r\n\r\n", "malformed status line", false},
		{"closed before anything", URL{Status: st()}, "", "connection closed before a response", true},
		{"closed in the head", URL{Status: st()}, "HTTP/1.0 200 OK\r\nA: b", "connection closed in the response head", true},
		{"digest to the close", URL{Status: st(), Digest: hello}, "HTTP/1.0 200 OK\r\n\r\nhello", "", true},
		{"digest by Content-Length", URL{Status: st(), Digest: hello}, "HTTP/1.0 200 OK\r\ncontent-LENGTH: 5\r\n\r\nhello", "", false},
		{"bytes past Content-Length are not hashed", URL{Status: st(), Digest: hello}, "HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello, and more", "", false},
		{"digest of an empty body", URL{Status: st(), Digest: md5hex("")}, "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", "", false},
		{"wrong digest", URL{Status: st(), Digest: md5hex("bye")}, "HTTP/1.0 200 OK\r\n\r\nhello", "digest " + hello, true},
		{"short body", URL{Status: st(), Digest: hello}, "HTTP/1.0 200 OK\r\nContent-Length: 9\r\n\r\nhello", "after 5 of 9 body bytes", true},
		{"bad Content-Length", URL{Status: st(), Digest: hello}, "HTTP/1.0 200 OK\r\nContent-Length: -1\r\n\r\nhello", "bad Content-Length", false},
		{"chunked: digest of the decoded body", URL{Status: st(), Digest: hello}, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n", "", false},
		{"chunked: extensions, trailer, hex case, bare LFs", URL{Status: st(), Digest: md5hex("hello" + strings.Repeat("x", 26))}, "HTTP/1.1 200 OK\r\nTRANSFER-ENCODING: gzip, Chunked\r\n\r\n5;name=v\r\nhello\r\n1A\n" + strings.Repeat("x", 26) + "\n0\r\nX-Trailer: 1\r\n\r\n", "", false},
		{"chunked overrides Content-Length", URL{Status: st(), Digest: hello}, "HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "", false},
		{"chunked: wrong digest", URL{Status: st(), Digest: md5hex("bye")}, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "digest " + hello, false},
		{"chunked: closed after the last chunk, without the final CRLF", URL{Status: st(), Digest: hello}, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n", "", true},
		{"chunked: closed inside a chunk", URL{Status: st(), Digest: hello}, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", "connection closed in a chunked body after 3 bytes", true},
		{"chunked: bad size", URL{Status: st(), Digest: hello}, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", "bad chunk size line", false},
		{"chunked: data longer than its size", URL{Status: st(), Digest: hello}, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nhello\r\n0\r\n\r\n", "chunk data longer than its size", false},
		{"chunked: a chunk beyond the body bound", URL{Status: st(), Digest: hello}, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n", "chunk larger than", false},
		{"chunked: gzip alone is plain bytes to the close", URL{Status: st(), Digest: hello}, "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nhello", "", true},
		{"chunked is fine without a digest", URL{Status: st()}, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "", false},
		{"head too large", URL{Status: st()}, "HTTP/1.0 200 OK\r\n" + strings.Repeat("X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n", maxHeader/32), "response head larger", true},
		{"body too large", URL{Status: st(), Digest: hello}, "HTTP/1.0 200 OK\r\n\r\n" + strings.Repeat("a", MaxBody+1), "body larger", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Whole, byte by byte, and in 7-byte pieces: the same verdict.
			for _, step := range []int{0, 1, 7} {
				if step == 1 && len(tt.raw) > 4096 {
					continue
				}
				fail, eof := judge(&tt.url, tt.raw, step)
				if (tt.fail == "") != (fail == "") || !strings.Contains(fail, tt.fail) {
					t.Errorf("step %d: verdict %q, want %q", step, fail, tt.fail)
				}
				// A head too large is only known once it is that large,
				// wherever the pieces fall.
				if eof != tt.needEOF && !strings.Contains(tt.fail, "larger") {
					t.Errorf("step %d: needed the close = %v, want %v", step, eof, tt.needEOF)
				}
			}
		})
	}
}
