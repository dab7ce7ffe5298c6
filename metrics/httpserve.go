package metrics

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/lbx-dev/lbx/internal/accept"
	"github.com/lbx-dev/lbx/metrics/internal/expo"
	"golang.org/x/net/netutil"
)

// The metrics endpoint speaks the HTTP/1.1 a scraper needs and no more:
// GET or HEAD of / and /metrics, one request per connection, answered
// with a length and "Connection: close". net/http would link crypto/tls
// and x509 into every lbx process, about 1.5 MiB of resident pages
// (docs/performance.md, Memory), for an endpoint most directors leave off
// and that needs none of the rest; the request parser is fuzzed
// (FuzzReadRequest).

// MaxConns bounds the metrics server's connections, so that its
// descriptors are bounded too: anyone who can reach the port could
// otherwise hold thousands of idle connections and leave the daemon no
// descriptor for a track script or a netlink socket. Beyond MaxConns new
// connections wait in the kernel's backlog (costing the daemon nothing)
// until one closes; each is closed after one answer, its request head
// read within readTimeout and the answer written within writeTimeout.
const MaxConns = 64

// maxScrapes is how many scrapes are rendered at once; more get 503 (the
// rendered answers then go out each under writeTimeout, most of them into
// the socket's buffer). A scrape never holds the loop up: it only reads
// in-memory values.
const maxScrapes = 4

// server serves one registry; its timeouts bound what a slow or stuck
// client holds (one goroutine, one descriptor).
type server struct {
	reg          *Registry
	readTimeout  time.Duration // for the whole request head
	writeTimeout time.Duration // for the whole answer
	scrapes      chan struct{}
}

func newServer(m *Registry) *server {
	return &server{reg: m, readTimeout: 5 * time.Second, writeTimeout: 15 * time.Second,
		scrapes: make(chan struct{}, maxScrapes)}
}

// shutdownGrace is what answers in flight get once the server stops.
const shutdownGrace = time.Second

// ServeListener serves /metrics (and a plain-text index on /) on ln until
// ctx is done, then closes ln, gives answers in flight shutdownGrace and
// closes what is left. It returns nil after ctx is done, or the
// listener's error. Accept errors (EMFILE when something else took every
// descriptor) are logged and retried: they never end the server.
func ServeListener(ctx context.Context, ln net.Listener, m *Registry) error {
	return newServer(m).serve(ctx, ln)
}

func (s *server) serve(ctx context.Context, ln net.Listener) error {
	ln = netutil.LimitListener(accept.Retrying(ln, "metrics "+ln.Addr().String(), nil), MaxConns)
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	// over ends shutdownGrace after the listener does: each connection
	// still open then is closed (its goroutine's AfterFunc).
	over, end := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				err = nil
			}
			ln.Close()
			time.AfterFunc(shutdownGrace, end)
			wg.Wait()
			end()
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer context.AfterFunc(over, func() { c.Close() })()
			s.handle(c)
		}()
	}
}

// handle answers one request on c and closes it.
func (s *server) handle(c net.Conn) {
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(s.readTimeout))
	req, err := readRequest(bufio.NewReaderSize(c, 4096))
	c.SetWriteDeadline(time.Now().Add(s.writeTimeout))
	var se *statusError
	switch {
	case errors.As(err, &se):
		writeAnswer(c, se.code, "text/plain; charset=utf-8", []byte(se.msg+"\n"), false)
		// What the client still sends would make the close a reset that
		// can cost it the answer: read it away, briefly and boundedly.
		c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		io.Copy(io.Discard, io.LimitReader(c, 64<<10))
		return
	case err != nil:
		return // gone or too slow: nobody to answer
	}
	code, ctype, body := s.route(req.path)
	writeAnswer(c, code, ctype, body, req.head)
}

// route answers a GET of path: its status, content type and body.
func (s *server) route(path string) (int, string, []byte) {
	const text = "text/plain; charset=utf-8"
	switch path {
	case "/":
		return 200, text, []byte("lbx watch: metrics at /metrics\n")
	case "/metrics":
		select {
		case s.scrapes <- struct{}{}:
			defer func() { <-s.scrapes }()
		default:
			return 503, text, []byte("too many scrapes at once; retry\n")
		}
		var b bytes.Buffer
		if err := s.reg.WriteText(&b); err != nil {
			return 500, text, []byte(err.Error() + "\n")
		}
		return 200, expo.ContentType, b.Bytes()
	}
	return 404, text, []byte("not found: metrics are at /metrics\n")
}

var statusText = map[int]string{
	200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
	414: "URI Too Long", 431: "Request Header Fields Too Large", 500: "Internal Server Error",
	503: "Service Unavailable", 505: "HTTP Version Not Supported",
}

// writeAnswer writes a whole answer, its head and body in one writev (a
// scrape's body, 3 MB at 5,000 servers, is not copied behind the head);
// HEAD (head) gets the head alone, with the length the body would have.
func writeAnswer(w io.Writer, code int, ctype string, body []byte, head bool) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n", code, statusText[code], ctype, len(body))
	if code == 405 {
		b.WriteString("Allow: GET, HEAD\r\n")
	}
	b.WriteString("\r\n")
	bufs := net.Buffers{b.Bytes()}
	if !head {
		bufs = append(bufs, body)
	}
	_, err := bufs.WriteTo(w)
	return err
}
