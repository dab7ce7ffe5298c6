// Package checkspec is what lbx's checker is told: the health checks as
// plain, typed data (Check) and the names of the real servers they report
// on (RealID, Health). It imports no YAML, model or checker code, so that
// the checker process (lbx-check) links only what runs checks: package
// checkmodel builds these values from the model in lbx watch, package
// check builds the checkers from them (in lbx watch with --checker inline,
// or in lbx-check after they crossed checkproc's socket as JSON).
package checkspec

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/lbx-dev/lbx/state"
)

// Check is one effective health check: keepalived's inheritance and lbx's
// defaults applied (checkmodel.Effective), so that nothing here is
// optional and every value means what it says.
type Check struct {
	Type string `json:"type"`

	// Where and how to connect (keepalived's conn_opts).
	ConnectIP      netip.Addr    `json:"connect_ip,omitzero"`
	ConnectPort    int           `json:"connect_port,omitempty"`
	BindTo         netip.Addr    `json:"bindto,omitzero"` // zero: any
	BindPort       int           `json:"bind_port,omitempty"`
	BindInterface  string        `json:"bind_if,omitempty"`
	FWMark         uint32        `json:"fwmark,omitempty"`
	ConnectTimeout time.Duration `json:"connect_timeout,omitempty"`

	// Schedule is when to probe; it is not part of what is probed (Key).
	Schedule Schedule `json:"schedule,omitzero"`

	// http_get, ssl_get.
	URLs        []URL  `json:"urls,omitempty"`
	Virtualhost string `json:"virtualhost,omitempty"`
	SNI         string `json:"sni,omitempty"`
	VerifyTLS   bool   `json:"verify_tls,omitempty"`
	HTTPVersion string `json:"http_protocol,omitempty"`

	// misc: the command line, its time limit, misc_dynamic and the user
	// ("user", "user group" or "user:group") it runs as.
	Path    string        `json:"path,omitempty"`
	Timeout time.Duration `json:"timeout,omitempty"`
	Dynamic bool          `json:"dynamic,omitempty"`
	User    string        `json:"user,omitempty"`

	// smtp.
	HeloName string `json:"helo_name,omitempty"`

	// dns.
	DNSType string `json:"dns_type,omitempty"`
	DNSName string `json:"dns_name,omitempty"`

	// udp: the payload in hex, as keepalived writes it.
	Payload      string `json:"payload,omitempty"`
	RequireReply bool   `json:"require_reply,omitempty"`

	// file.
	File string `json:"file,omitempty"`
}

// UsesTLS says the check runs over TLS (ssl_get): only lbx-check-tls
// runs it (check.UseTLS).
func (c Check) UsesTLS() bool { return c.Type == "ssl_get" }

// Schedule is when a check probes (keepalived's delay_loop, retry,
// delay_before_retry and warmup).
type Schedule struct {
	DelayLoop        time.Duration `json:"delay_loop"`
	Retry            int           `json:"retry"`
	DelayBeforeRetry time.Duration `json:"delay_before_retry"`
	Warmup           time.Duration `json:"warmup"`
}

// URL is one URL an HTTP or SSL check fetches; Virtualhost is the Host
// header (the check's when the URL names none).
type URL struct {
	Path        string   `json:"path,omitempty"`
	Digest      string   `json:"digest,omitempty"`
	StatusCodes []string `json:"status_codes,omitempty"`
	Virtualhost string   `json:"virtualhost,omitempty"`
}

// DefaultHTTPStatus is keepalived's accepted status range when a URL
// names none.
const DefaultHTTPStatus = "200-299"

// ParseStatusRange parses "200" or "200-299" into an inclusive range of HTTP
// status codes.
func ParseStatusRange(s string) (lo, hi int, err error) {
	a, b, isRange := strings.Cut(s, "-")
	lo, err1 := strconv.Atoi(a)
	hi = lo
	var err2 error
	if isRange {
		hi, err2 = strconv.Atoi(b)
	}
	if err1 != nil || err2 != nil || lo < 100 || hi > 599 {
		return 0, 0, fmt.Errorf("want a status code or range within 100-599 such as 200 or 200-299, got %q", s)
	}
	if lo > hi {
		return 0, 0, fmt.Errorf("range %q ends below its start; write the lower code first, such as 200-299", s)
	}
	return lo, hi, nil
}

// RealID names a real server of the model across reloads.
type RealID struct {
	Service state.ServiceKey
	Real    state.RealKey
}

func (r RealID) String() string { return r.Service.String() + "/" + r.Real.String() }

// Describe names a real server for messages.
func Describe(id RealID) string { return fmt.Sprintf("real %s", id) }

// Health is a real server's checked state.
type Health struct {
	Up bool
	// Weight overrides the configured weight (misc_dynamic), if set.
	Weight *int
}
