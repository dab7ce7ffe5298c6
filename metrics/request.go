package metrics

import (
	"bufio"
	"errors"
	"net/url"
	"strings"
)

// maxRequestBytes bounds a request's head (request line and headers); a
// line is bounded by the reader's buffer (4 KiB in the server).
const maxRequestBytes = 16 << 10

// request is what the metrics server needs of an HTTP request: which
// resource, and whether the body is wanted.
type request struct {
	head bool   // HEAD: the answer's head only
	path string // the target's path, unescaped, without its query
}

// statusError is a request the server answers with an error status.
type statusError struct {
	code int
	msg  string
}

func (e *statusError) Error() string { return e.msg }

var (
	errTooLarge = &statusError{431, "request head too large"}
	errLongURI  = &statusError{414, "request target too long"}
	errMethod   = &statusError{405, "only GET and HEAD are served"}
	errVersion  = &statusError{505, "only HTTP/1.0 and HTTP/1.1 are served"}
)

func badRequest(msg string) error { return &statusError{400, msg} }

// readRequest reads one request's head from r: the request line and the
// headers up to the empty line, at most maxRequestBytes in all. Headers
// are checked for form and skipped: nothing the server answers depends
// on them, and no body is read (the connection closes after the answer).
// A header line longer than r's buffer (a big cookie) is read in pieces,
// within the bound; a request line longer than it is refused (414). An
// error is a *statusError to answer, or r's own (the client went away or
// was too slow), which gets no answer.
func readRequest(r *bufio.Reader) (request, error) {
	budget := maxRequestBytes
	// line is the next line without its end, cut to r's buffer (long:
	// the rest was read and dropped).
	line := func() (s string, long bool, err error) {
		for {
			b, err := r.ReadSlice('\n')
			budget -= len(b)
			switch {
			case budget < 0:
				return "", false, errTooLarge
			case errors.Is(err, bufio.ErrBufferFull):
				if !long {
					s = string(b)
				}
				long = true
				continue
			case err != nil:
				return "", false, err
			}
			if !long {
				s = string(b)
			}
			return strings.TrimSuffix(strings.TrimSuffix(s, "\n"), "\r"), long, nil
		}
	}
	first, long, err := line()
	switch {
	case err != nil:
		return request{}, err
	case long:
		return request{}, errLongURI
	}
	req, err := parseRequestLine(first)
	if err != nil {
		return request{}, err
	}
	for {
		h, long, err := line()
		if err != nil {
			return request{}, err
		}
		if h == "" && !long {
			return req, nil
		}
		if name, _, ok := strings.Cut(h, ":"); !ok || name == "" || strings.ContainsAny(name, " \t") {
			return request{}, badRequest("malformed header line")
		}
	}
}

// parseRequestLine parses "METHOD TARGET HTTP/1.x" (RFC 9112, 3): the
// target in origin form ("/metrics?x") or absolute form.
func parseRequestLine(s string) (request, error) {
	if strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return request{}, badRequest("malformed request line")
	}
	parts := strings.Split(s, " ")
	if len(parts) != 3 || parts[1] == "" {
		return request{}, badRequest("malformed request line")
	}
	method, target, proto := parts[0], parts[1], parts[2]
	if proto != "HTTP/1.1" && proto != "HTTP/1.0" {
		if strings.HasPrefix(proto, "HTTP/") {
			return request{}, errVersion
		}
		return request{}, badRequest("malformed request line")
	}
	if method != "GET" && method != "HEAD" {
		return request{}, errMethod
	}
	u, err := url.ParseRequestURI(target)
	if err != nil || u.Opaque != "" {
		return request{}, badRequest("malformed request target")
	}
	if u.Path == "" && u.Host != "" {
		u.Path = "/" // absolute form without a path
	}
	if !strings.HasPrefix(u.Path, "/") {
		return request{}, badRequest("malformed request target")
	}
	return request{head: method == "HEAD", path: u.Path}, nil
}
