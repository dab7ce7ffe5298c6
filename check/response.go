package check

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

// response judges one HTTP response against one URL as its bytes arrive,
// keeping no more than an incomplete response head: the status is known,
// and the check usually over, with the first read. The blocking path (TLS)
// and the event loop (plain HTTP) both feed it, so both judge alike.
type response struct {
	url *URL
	// head holds a response head split across reads (nil otherwise).
	head   []byte
	inBody bool
	// length is the Content-Length (-1: until the connection closes).
	length int64
	// chunks decodes a chunked body (nil: the body is plain bytes).
	chunks *chunkDecoder
	n      int64 // body bytes hashed
	sum    hash.Hash
}

func newResponse(u *URL) response { return response{url: u, length: -1} }

// feed takes the next bytes of the response. done means the verdict is
// known; fail is "" when the URL passed.
func (r *response) feed(b []byte) (done bool, fail string) {
	if !r.inBody {
		buf := b
		if len(r.head) > 0 {
			r.head = append(r.head, b...)
			buf = r.head
		}
		end := headEnd(buf)
		if end < 0 {
			if len(buf) > maxHeader {
				return true, fmt.Sprintf("response head larger than %d bytes", maxHeader)
			}
			if len(r.head) == 0 {
				r.head = append(make([]byte, 0, 2*len(b)), b...)
			}
			return false, ""
		}
		if done, fail := r.judgeHead(buf[:end]); done {
			return true, fail
		}
		r.inBody = true
		b = buf[end:]
		r.head = nil
	}
	if r.chunks != nil {
		end, fail := r.chunks.feed(b, r.hash)
		switch {
		case fail != "":
			return true, fail
		case r.n > MaxBody:
			return true, fmt.Sprintf("body larger than %d bytes", MaxBody)
		case end:
			return true, r.judgeDigest()
		}
		return false, ""
	}
	if r.length >= 0 && int64(len(b)) > r.length-r.n {
		b = b[:r.length-r.n] // bytes past Content-Length are not the body
	}
	r.hash(b)
	if r.n > MaxBody {
		return true, fmt.Sprintf("body larger than %d bytes", MaxBody)
	}
	if r.length >= 0 && r.n >= r.length {
		return true, r.judgeDigest()
	}
	return false, ""
}

// hash takes body bytes into the digest.
func (r *response) hash(b []byte) {
	r.sum.Write(b)
	r.n += int64(len(b))
}

// eof is the verdict when the server closed the connection before feed
// reached one.
func (r *response) eof() string {
	switch {
	case r.inBody && r.chunks != nil:
		if !r.chunks.complete() {
			return fmt.Sprintf("connection closed in a chunked body after %d bytes", r.n)
		}
		return r.judgeDigest()
	case r.inBody:
		if r.length >= 0 && r.n < r.length {
			return fmt.Sprintf("connection closed after %d of %d body bytes", r.n, r.length)
		}
		return r.judgeDigest()
	case len(r.head) > 0:
		return "connection closed in the response head"
	}
	return "connection closed before a response"
}

// judgeHead checks the status line, and reads the framing headers when the
// body is needed for a digest. done is true when no body is needed.
func (r *response) judgeHead(head []byte) (done bool, fail string) {
	line, rest, _ := bytes.Cut(head, []byte{'\n'})
	line = bytes.TrimSuffix(line, []byte{'\r'})
	code, ok := statusCode(line)
	if !ok {
		return true, fmt.Sprintf("malformed status line %q", truncate(string(line), 40))
	}
	if !r.url.Status.Contains(code) {
		return true, fmt.Sprintf("status %d not in %s", code, r.url.Status)
	}
	if r.url.Digest == "" {
		return true, ""
	}
	for len(rest) > 0 {
		var h []byte
		h, rest, _ = bytes.Cut(rest, []byte{'\n'})
		name, value, ok := bytes.Cut(h, []byte{':'})
		if !ok {
			continue
		}
		value = bytes.TrimSpace(value)
		switch {
		case asciiEqualFold(name, "content-length"):
			n, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil || n < 0 {
				return true, fmt.Sprintf("bad Content-Length %q", truncate(string(value), 20))
			}
			r.length = n
		case asciiEqualFold(name, "transfer-encoding") && lastCodingChunked(value):
			// The digest is of the body, not of its chunked framing;
			// chunked framing overrides a Content-Length (RFC 9112 §6.3).
			r.chunks = &chunkDecoder{}
		}
	}
	if r.chunks != nil {
		r.length = -1
	}
	r.sum = md5.New()
	if r.length == 0 {
		return true, r.judgeDigest()
	}
	return false, ""
}

func (r *response) judgeDigest() string {
	if r.sum == nil {
		return ""
	}
	var b [md5.Size]byte
	got := hex.EncodeToString(r.sum.Sum(b[:0]))
	if !strings.EqualFold(got, r.url.Digest) {
		return fmt.Sprintf("digest %s, want %s", got, strings.ToLower(r.url.Digest))
	}
	return ""
}

// headEnd is the offset of the body in b: just past the blank line that
// ends the head ("\r\n\r\n", or "\n\n" from lax servers); -1 if not yet.
func headEnd(b []byte) int {
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		i += j + 1
		if i < len(b) && b[i] == '\n' {
			return i + 1
		}
		if i+1 < len(b) && b[i] == '\r' && b[i+1] == '\n' {
			return i + 2
		}
	}
}

// statusCode parses "HTTP/x.y NNN[ reason]".
func statusCode(line []byte) (int, bool) {
	rest, ok := bytes.CutPrefix(line, []byte("HTTP/"))
	if !ok {
		return 0, false
	}
	_, rest, ok = bytes.Cut(rest, []byte{' '})
	if !ok || len(rest) < 3 || len(rest) > 3 && rest[3] != ' ' {
		return 0, false
	}
	code := 0
	for _, c := range rest[:3] {
		if c < '0' || c > '9' {
			return 0, false
		}
		code = code*10 + int(c-'0')
	}
	return code, code >= 100
}

// lastCodingChunked says whether a Transfer-Encoding list ends in chunked,
// the coding that frames the body; others before it (gzip) are part of the
// body the digest is taken of, as keepalived takes it of the bytes sent.
func lastCodingChunked(v []byte) bool {
	if i := bytes.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	return asciiEqualFold(bytes.TrimSpace(v), "chunked")
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
