package convert

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lbx-dev/lbx/keepalived"
	"github.com/lbx-dev/lbx/model"
)

// Value parsers. Each reports an error at the statement and returns ok=false
// on bad input; the caller then leaves the field unset.

func (c *conv) need(n *keepalived.Node, k int, what string) bool {
	if len(n.Args) < k {
		c.errorf(n.Pos, "%s wants %s", n.Name, what)
		return false
	}
	return true
}

// oneOf says whether got, n's value, is one of words; if not, it reports
// so, as the model's validation does (model.WordsText's forms).
func (c *conv) oneOf(n *keepalived.Node, got string, words []string, form string) bool {
	if slices.Contains(words, got) {
		return true
	}
	c.errorf(n.Pos, "%s: %s", n.Name, model.WordsText(form, got, words))
	return false
}

func (c *conv) intArg(n *keepalived.Node, i int, lo, hi int64) (int, bool) {
	if !c.need(n, i+1, "a number") {
		return 0, false
	}
	s := n.Args[i].Text
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < lo || v > hi {
		c.errorf(n.Pos, "%s: %q is not a whole number from %d to %d", n.Name, s, lo, hi)
		return 0, false
	}
	return int(v), true
}

func (c *conv) intPtr(n *keepalived.Node, lo, hi int64) *int {
	v, ok := c.intArg(n, 0, lo, hi)
	if !ok {
		return nil
	}
	return &v
}

// timer reads keepalived's <TIMER>: seconds, fractions allowed.
func (c *conv) timer(n *keepalived.Node) *model.Duration {
	if !c.need(n, 1, "a time in seconds") {
		return nil
	}
	text := n.Args[0].Text
	// keepalived's read_timer reads the word with strtoull, which skips
	// leading white space: warmup "  64" is 64 s (a quoted word keeps it).
	trimmed := strings.TrimLeft(text, " \t\n\v\f\r")
	d, ok := parseSeconds(trimmed)
	if !ok {
		c.errorf(n.Pos, "%s: %q is not a time in seconds (such as 3 or 0.5)", n.Name, text)
		return nil
	}
	if trimmed != text {
		c.corrected(nil, n.Pos, "%s %q: keepalived reads the number after the leading spaces (read_timer: strtoull skips them) and runs with %s %s, so does lbx; write %s %s", n.Name, text, n.Name, trimmed, n.Name, trimmed)
	}
	return &d
}

func parseSeconds(s string) (model.Duration, bool) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > 1e9 || math.IsNaN(f) || strings.ContainsAny(s, "xXpP_") {
		return model.Duration{}, false
	}
	// Round to the microsecond, keepalived's resolution, so that 0.1 is
	// exactly 100ms.
	return model.Duration{Duration: time.Duration(math.Round(f*1e6)) * time.Microsecond}, true
}

func dur(d time.Duration) *model.Duration { return &model.Duration{Duration: d} }

func intp(v int) *int { return &v }

func boolp(v bool) *bool { return &v }

// boolArg reads keepalived's optional <BOOL>: absent means true.
func (c *conv) boolArg(n *keepalived.Node) (bool, bool) {
	if len(n.Args) == 0 {
		return true, true
	}
	if v, ok := boolWord(n.Args[0].Text); ok {
		return v, true
	}
	c.errorf(n.Pos, "%s: want on|off|true|false|yes|no, got %q", n.Name, n.Args[0].Text)
	return false, false
}

// boolWord reads a word as keepalived's check_true_false (lib/parser.c):
// lower case only.
func boolWord(s string) (v, ok bool) {
	switch s {
	case "on", "true", "yes":
		return true, true
	case "off", "false", "no":
		return false, true
	}
	return false, false
}

// sockAddr reads an address as keepalived's inet_stosockaddr (lib/utils.c)
// does for unicast_src_ip, mcast_src_ip and unicast_peer: everything from
// the first '-' (else the first '/') on is dropped, so 10.0.0.2/24 and
// 10.0.0.2-5 are the address 10.0.0.2.
func (c *conv) sockAddr(owner any, n *keepalived.Node, what, s string) (model.Addr, bool) {
	base := s
	if i := strings.IndexByte(s, '-'); i >= 0 {
		base = s[:i]
	} else if i := strings.IndexByte(s, '/'); i >= 0 {
		base = s[:i]
	}
	a, err := netip.ParseAddr(base)
	if err != nil || a.Zone() != "" || strings.Contains(base, ":") != a.Is6() {
		name, kind := "", "src"
		if in, ok := owner.(*model.VRRPInstance); ok {
			name = in.Name
		}
		if what == "unicast_peer" {
			kind = "unicast peer"
		}
		c.corrected(owner, n.Pos, "%s %s: keepalived skips it (\"Configuration error: VRRP instance[%s] malformed %s address[%s]. Skipping...\"), so does lbx", what, s, name, kind, s)
		return model.Addr{}, false
	}
	if base != s {
		c.note(owner, n.Pos, "%s %s: keepalived reads it as the address %s (inet_stosockaddr drops a /mask or -range), so does lbx", what, s, base)
	}
	return model.Addr{Addr: a.Unmap()}, true
}

// serverAddr reads `ADDR [PORT]` of a virtual or real server as
// keepalived's alloc_vs and alloc_rs do (check_data.c): a port of only
// zeros is no port, the address is read by inet_stosockaddr (a /mask or
// -range dropped), and an address or port it cannot read skips the whole
// server block ("Invalid ... - skipping").
func (c *conv) serverAddr(owner any, n *keepalived.Node, what, handler string) (model.Addr, int, bool) {
	s, ps := n.Args[0].Text, argText(n, 1)
	if strings.Trim(ps, "0") == "" {
		ps = ""
	}
	base := s
	if i := strings.IndexByte(s, '-'); i >= 0 {
		base = s[:i]
	} else if i := strings.IndexByte(s, '/'); i >= 0 {
		base = s[:i]
	}
	a, err := netip.ParseAddr(base)
	port, perr := 0, error(nil)
	if ps != "" {
		// read_unsigned: decimal digits, leading zeros allowed.
		port, perr = strconv.Atoi(ps)
		if perr == nil && (strings.Trim(ps, "0123456789") != "" || port > 65535) {
			perr = fmt.Errorf("not a port")
		}
	}
	if err != nil || a.Zone() != "" || strings.Contains(base, ":") != a.Is6() || perr != nil {
		c.corrected(owner, n.Pos, "%s %s: keepalived skips this %s (\"%s\", %s), so does lbx", n.Name, n.ArgText(), what, invalidServer(n, what, ps), handler)
		return model.Addr{}, 0, false
	}
	if base != s {
		c.note(owner, n.Pos, "%s %s: keepalived reads the address as %s (inet_stosockaddr drops a /mask or -range), so does lbx", n.Name, s, base)
	}
	return model.Addr{Addr: a.Unmap()}, port, true
}

// invalidServer is the message alloc_vs or alloc_rs reports for an
// address or port it cannot read.
func invalidServer(n *keepalived.Node, what, port string) string {
	if what == "real server" {
		if len(n.Args) < 2 {
			return fmt.Sprintf("Invalid real server ip address/port %s/(null) - skipping", n.Args[0].Text)
		}
		return fmt.Sprintf("Invalid real server ip address/port %s/%s - skipping", n.Args[0].Text, n.Args[1].Text)
	}
	if port == "" {
		return fmt.Sprintf("Invalid virtual server IP address %s - skipping", n.Args[0].Text)
	}
	return fmt.Sprintf("Invalid virtual server IP address/port %s/%s - skipping", n.Args[0].Text, port)
}

// extraWords reports the words after the first k arguments of n, which
// keepalived's handler never reads (it takes strvec slots 1..k). Words
// that name a keyword of their own (a one-line block such as
// `url { path /x status_code 404 }`) are named as the probable intent.
func (c *conv) extraWords(owner any, n *keepalived.Node, k int, reader string) {
	if len(n.Args) <= k {
		return
	}
	rest := argTexts(n)[k:]
	intent := "remove them"
	switch p := strings.ToUpper(rest[0]); {
	case lineKeywords[rest[0]]:
		intent = fmt.Sprintf("`%s` looks like a setting of its own: put it on a line of its own", strings.Join(rest, " "))
	case p == "TCP" || p == "UDP" || p == "SCTP":
		intent = fmt.Sprintf("if %s was meant as the protocol, write `protocol %s` inside the block", rest[0], p)
	}
	c.corrected(owner, n.Pos, "%s: keepalived reads %d word(s) after %s and ignores %q (%s), so does lbx; %s", n.Name, k, n.Name, strings.Join(rest, " "), reader, intent)
}

// lineKeywords are keywords found on the same line as another one in
// configurations written with one-line blocks.
var lineKeywords = map[string]bool{
	"path": true, "digest": true, "status_code": true, "virtualhost": true, "weight": true,
	"connect_port": true, "connect_timeout": true, "retry": true, "delay_before_retry": true,
	"protocol": true, "lb_algo": true, "lb_kind": true, "lvs_sched": true, "lvs_method": true,
}

func (c *conv) addr(n *keepalived.Node, s string) (model.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		c.errorf(n.Pos, "%s: %q is not a valid IP address", n.Name, s)
		return model.Addr{}, false
	}
	return model.Addr{Addr: a.Unmap()}, true
}

// prefix reads ADDR[/LEN]; a bare address is a host prefix.
func (c *conv) prefix(pos keepalived.Pos, what, s string) (model.Prefix, bool) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			c.errorf(pos, "%s: %q is not a valid IP address", what, s)
			return model.Prefix{}, false
		}
		a = a.Unmap()
		return model.Prefix{Prefix: netip.PrefixFrom(a, a.BitLen())}, true
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		c.errorf(pos, "%s: %q is not a valid address/prefix-length", what, s)
		return model.Prefix{}, false
	}
	return model.Prefix{Prefix: p}, true
}

func (c *conv) port(n *keepalived.Node, s string) (int, bool) {
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 || v > 65535 {
		c.errorf(n.Pos, "%s: port %q is not a number from 0 to 65535", n.Name, s)
		return 0, false
	}
	return v, true
}

// validateAddrWord checks an address or prefix inside a block the model
// cannot express (routes, rules): a bad address there is still an error,
// because keepalived refuses the line.
func (c *conv) validateAddrWord(pos keepalived.Pos, s string) {
	if s == "default" || s == "all" {
		return
	}
	if _, err := netip.ParsePrefix(s); err == nil {
		return
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return
	}
	c.errorf(pos, "%q is not a valid IP address or prefix", s)
}

func fmtDur(d time.Duration) string {
	return fmt.Sprint(d)
}
