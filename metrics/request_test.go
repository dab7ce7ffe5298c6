package metrics

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// FuzzReadRequest: no input makes readRequest panic or read more than
// its bound; what it accepts is a GET or HEAD of an absolute path, and
// what it refuses is answered with a status of the server's table or is
// the reader's own error. The seeds run as a test.
func FuzzReadRequest(f *testing.F) {
	for _, s := range []string{
		"GET /metrics HTTP/1.1\r\nHost: lbx\r\n\r\n",
		"HEAD / HTTP/1.0\r\n\r\n",
		"GET http://lbx:9650/metrics?a=b HTTP/1.1\r\n\r\n",
		"GET http://lbx HTTP/1.1\r\n\r\n",
		"GET * HTTP/1.1\r\n\r\n",
		"GET //x HTTP/1.1\r\n\r\n",
		"GET /%zz HTTP/1.1\r\n\r\n",
		"POST /metrics HTTP/1.1\r\n\r\n",
		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
		"GET /metrics HTTP/1.1\r\nHost lbx\r\n\r\n",
		"GET /metrics HTTP/1.1\r\n: x\r\n\r\n",
		"GET  /metrics HTTP/1.1\r\n\r\n",
		"GET /metrics HTTP/1.1\n\n",
		"GET /metrics HTTP/1.1\r\n",
		"GET /metrics HTTP/1.1\r\nX: " + strings.Repeat("a", 5000) + "\r\n\r\n",
		"GET /metrics HTTP/1.1\r\nX: " + strings.Repeat("a", 17000) + "\r\n\r\n",
		"GET /" + strings.Repeat("a", 5000) + " HTTP/1.1\r\n\r\n",
		"GET /metrics HTTP/1.1\r\r\n\r\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		src := &countingReader{r: bytes.NewReader(in)}
		req, err := readRequest(bufio.NewReaderSize(src, 4096))
		if src.n > maxRequestBytes+4096 {
			t.Fatalf("read %d bytes, bound %d plus one buffer", src.n, maxRequestBytes)
		}
		var se *statusError
		switch {
		case err == nil:
			if !strings.HasPrefix(req.path, "/") {
				t.Fatalf("accepted path %q", req.path)
			}
			if m := string(in[:4]); m != "GET " && m != "HEAD" {
				t.Fatalf("accepted method of %q", in)
			}
		case errors.As(err, &se):
			if statusText[se.code] == "" {
				t.Fatalf("status %d has no text", se.code)
			}
		case !errors.Is(err, io.EOF):
			t.Fatalf("error neither a status nor the reader's: %v", err)
		}
	})
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
