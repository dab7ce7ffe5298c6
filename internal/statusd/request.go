package statusd

import (
	"bytes"
	"net"
	"strings"
	"time"

	"github.com/lbx-dev/lbx/internal/daemonview"
)

// Request is what a client asks for: the line "status" followed by the
// options it wants, "status daemon_model\n". The status alone is small;
// the daemon's model (about 270 bytes a checked real server) is sent only
// to the client that asks, `lbx plan` and `lbx apply`.
type Request struct {
	// DaemonModel asks for Status.DaemonModel.
	DaemonModel bool
}

// Limits of a request: at most MaxRequest bytes, read for at most
// RequestTimeout; what came by then is the request (nothing, or a client
// that keeps its side open without a newline, is the plain status).
const (
	MaxRequest     = 256
	RequestTimeout = 500 * time.Millisecond
)

// optDaemonModel is the request word of Request.DaemonModel.
const optDaemonModel = "daemon_model"

// line is the request as a client sends it.
func (r Request) line() string {
	if r.DaemonModel {
		return "status " + optDaemonModel + "\n"
	}
	return "status\n"
}

// readRequest reads one request line from c, bounded in size and in
// time (RequestTimeout, within the connection's deadline, which it
// restores). Unknown words are ignored: a newer client asking an older
// daemon gets what the daemon knows.
func readRequest(c net.Conn, deadline time.Time) Request {
	rd := time.Now().Add(RequestTimeout)
	if deadline.Before(rd) {
		rd = deadline
	}
	c.SetReadDeadline(rd)
	defer c.SetReadDeadline(deadline)
	var buf [MaxRequest]byte
	n := 0
	for n < len(buf) && bytes.IndexByte(buf[:n], '\n') < 0 {
		k, err := c.Read(buf[n:])
		n += k
		if err != nil {
			break // EOF (the client said all it had), the timeout, a reset
		}
	}
	line, _, _ := bytes.Cut(buf[:n], []byte("\n"))
	var r Request
	for _, w := range strings.Fields(string(line)) {
		if w == optDaemonModel {
			r.DaemonModel = true
		}
	}
	return r
}

// daemonModel is the view to send for r: none unless asked for; asked
// for, never nil, so that the client can tell "the daemon runs nothing
// of its own" (an empty list) from "the daemon did not send it".
func (r Request) daemonModel(v []daemonview.Object) []daemonview.Object {
	if !r.DaemonModel {
		return nil
	}
	if v == nil {
		return []daemonview.Object{}
	}
	return v
}
