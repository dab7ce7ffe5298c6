package convert

import (
	"strings"

	"github.com/lbx-dev/lbx/keepalived"
	"github.com/lbx-dev/lbx/model"
)

var checkTypes = map[string]string{
	"TCP_CHECK":  "tcp",
	"HTTP_GET":   "http_get",
	"SSL_GET":    "ssl_get",
	"MISC_CHECK": "misc",
	"SMTP_CHECK": "smtp",
	"DNS_CHECK":  "dns",
	"UDP_CHECK":  "udp",
	"PING_CHECK": "ping",
	"FILE_CHECK": "file",
}

var checkUnsupported = map[string]string{
	"alpha":            "alpha per checker is not in the model (only per virtual server)",
	"log_all_failures": "logging detail is not in the model",
	"fast_recovery":    "not in the model",
	"tls_compliant":    "not in the model",
	"min_reply_length": "reply length bounds are not in the model",
	"max_reply_length": "reply length bounds are not in the model",
	"regex":            "body regular expressions are not in the model",
	"regex_no_match":   "body regular expressions are not in the model",
	"regex_options":    "body regular expressions are not in the model",
	"regex_stack":      "body regular expressions are not in the model",
	"regex_min_offset": "body regular expressions are not in the model",
	"regex_max_offset": "body regular expressions are not in the model",
	"weight":           "FILE_CHECK weight multipliers are not in the model",
	"dynamic":          "FILE_CHECK dynamic weights are not in the model",
}

// connectTypes have connect_* options and a port.
var connectTypes = map[string]bool{"tcp": true, "http_get": true, "ssl_get": true, "smtp": true, "dns": true, "udp": true}

// checks converts one checker block; SMTP_CHECK's legacy host { } blocks
// give one check each.
func (c *conv) checks(rs *model.RealServer, n *keepalived.Node, inherit chk) []*model.Check {
	typ := checkTypes[n.Name]
	ck := &model.Check{Type: typ}
	c.pos[ck] = n.Pos
	s := chk{}
	var hosts []*keepalived.Node
	enableSNI := false
	for _, ch := range n.Children {
		if typ != "file" && c.chkSetting(ck, &s, ch) {
			if ch.Name == "virtualhost" && typ != "http_get" && typ != "ssl_get" {
				c.unsupported(ck, ch, "virtualhost only applies to HTTP_GET and SSL_GET")
			}
			continue
		}
		switch {
		case typ != "misc" && typ != "file" && c.connectSetting(ck, ch):
		case (typ == "http_get" || typ == "ssl_get") && ch.Name == "url":
			if u := c.url(ck, ch); u != nil {
				ck.URLs = append(ck.URLs, u)
			}
		case (typ == "http_get" || typ == "ssl_get") && ch.Name == "http_protocol":
			if c.need(ch, 1, "1.0, 1.0C or 1.1") {
				ck.HTTPVersion = ch.Args[0].Text
				if strings.EqualFold(ck.HTTPVersion, "1.0c") {
					ck.HTTPVersion = "1.0C"
				}
			}
		case typ == "ssl_get" && ch.Name == "enable_sni":
			enableSNI = true
		case typ == "ssl_get" && ch.Name == "sni_name":
			if c.need(ch, 1, "a name") {
				ck.SNI = ch.Args[0].Text
			}
		case typ == "misc" && ch.Name == "misc_path":
			if c.need(ch, 1, "a command") {
				ck.Path = ch.Args[0].Text
				if len(ch.Args) > 1 {
					ck.User = ch.Args[1].Text
				}
			}
		case typ == "misc" && ch.Name == "misc_timeout":
			ck.Timeout = c.timer(ch)
		case typ == "misc" && ch.Name == "misc_dynamic":
			ck.Dynamic = true
		case typ == "misc" && ch.Name == "user":
			if c.need(ch, 1, "a user name") {
				// "user group", as keepalived writes it; lbx runs the
				// check as both.
				ck.User = strings.TrimSpace(ch.Args[0].Text + " " + argText(ch, 1))
			}
		case typ == "smtp" && ch.Name == "helo_name":
			if c.need(ch, 1, "a name") {
				ck.HeloName = ch.Args[0].Text
			}
		case typ == "smtp" && ch.Name == "host":
			hosts = append(hosts, ch)
		case typ == "dns" && ch.Name == "type":
			if c.need(ch, 1, "a query type") {
				t := strings.ToUpper(ch.Args[0].Text)
				switch t {
				case "A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA":
					ck.DNSType = t
				default:
					c.errorf(ch.Pos, "DNS_CHECK type: want A, NS, CNAME, SOA, MX, TXT or AAAA, got %q", ch.Args[0].Text)
				}
			}
		case typ == "dns" && ch.Name == "name":
			if c.need(ch, 1, "a domain name") {
				ck.DNSName = ch.Args[0].Text
			}
		case typ == "udp" && ch.Name == "payload":
			ck.Payload = strings.Join(argTexts(ch), "")
		case typ == "udp" && ch.Name == "require_reply":
			ck.RequireReply = true
			if len(ch.Args) > 0 {
				c.unsupported(ck, ch, "matching the reply against a pattern is not in the model; any reply is accepted")
			}
		case typ == "file" && ch.Name == "track_file":
			if c.need(ch, 1, "a track_file name") {
				f, ok := c.trackFiles[ch.Args[0].Text]
				if !ok {
					c.errorf(ch.Pos, "FILE_CHECK: no track_file named %q with a file", ch.Args[0].Text)
				}
				ck.File = f
			}
		default:
			c.unknown(ck, ch, checkUnsupported)
		}
	}
	// Inherit: checker, else real server, else virtual server, else default.
	pick := func(own, inh *model.Duration) *model.Duration {
		if own != nil {
			return own
		}
		return inh
	}
	delayLoop := pick(s.delayLoop, inherit.delayLoop)
	if delayLoop == nil {
		delayLoop = dur(model.DefaultDelayLoop)
	}
	if typ != "file" {
		ck.DelayLoop = delayLoop
		ck.Retry = s.retry
		if ck.Retry == nil {
			ck.Retry = inherit.retry
		}
		if ck.Retry == nil {
			ck.Retry = intp(model.RetryDefault(typ))
		}
		ck.DelayBeforeRetry = pick(s.delayBeforeRetry, inherit.delayBeforeRetry)
		if ck.DelayBeforeRetry == nil {
			ck.DelayBeforeRetry = dur(model.DelayBeforeRetryDefault(typ, delayLoop.Duration))
		}
		ck.Warmup = pick(s.warmup, inherit.warmup)
	}
	if connectTypes[typ] || typ == "ping" {
		ck.ConnectTimeout = pick(s.connectTimeout, inherit.connectTimeout)
		if ck.ConnectTimeout == nil {
			ck.ConnectTimeout = dur(model.DefaultConnectTimeout)
		}
	}
	if connectTypes[typ] && ck.ConnectPort == 0 {
		ck.ConnectPort = rs.Port
	}
	if typ == "http_get" || typ == "ssl_get" {
		if s.virtualhost != "" {
			ck.Virtualhost = s.virtualhost
		} else if inherit.virtualhost != "" {
			ck.Virtualhost = inherit.virtualhost
		}
		if enableSNI && ck.SNI == "" {
			if ck.Virtualhost != "" {
				ck.SNI = ck.Virtualhost
			} else {
				c.note(ck, n.Pos, "enable_sni without a virtualhost or sni_name: there is no name to send; left out")
			}
		}
		if len(ck.URLs) == 0 {
			c.errorf(n.Pos, "%s has no url { path ... }", n.Name)
		}
	}
	if typ == "misc" {
		if ck.Path == "" {
			c.errorf(n.Pos, "MISC_CHECK has no misc_path")
		}
		if ck.Timeout == nil {
			ck.Timeout = dur(delayLoop.Duration)
		}
	}
	if typ == "dns" {
		if ck.DNSType == "" {
			ck.DNSType = "SOA"
		}
		if ck.DNSName == "" {
			ck.DNSName = "."
		}
	}
	if typ == "file" && ck.File == "" {
		c.errorf(n.Pos, "FILE_CHECK has no track_file")
	}
	if len(hosts) == 0 {
		return []*model.Check{ck}
	}
	// SMTP_CHECK host { } blocks: keepalived 2 runs one checker per host.
	var out []*model.Check
	for _, h := range hosts {
		hc := *ck
		c.pos[&hc] = h.Pos
		c.legacy(ck, h, "one SMTP_CHECK per host, with connect_ip/connect_port in it")
		for _, ch := range h.Children {
			if !c.connectSetting(&hc, ch) {
				c.unknown(ck, ch, nil)
			}
		}
		if hc.ConnectPort == 0 {
			hc.ConnectPort = rs.Port
		}
		out = append(out, &hc)
	}
	return out
}

// connectSetting handles the connection options common to most checkers.
func (c *conv) connectSetting(ck *model.Check, n *keepalived.Node) bool {
	switch n.Name {
	case "connect_ip":
		if c.need(n, 1, "an address") {
			if a, ok := c.addr(n, n.Args[0].Text); ok {
				ck.ConnectIP = &a
			}
		}
	case "connect_port":
		if c.need(n, 1, "a port") {
			ck.ConnectPort, _ = c.port(n, n.Args[0].Text)
		}
	case "bindto":
		if c.need(n, 1, "an address") {
			if a, ok := c.addr(n, n.Args[0].Text); ok {
				ck.BindTo = &a
			}
		}
	case "bind_port":
		if c.need(n, 1, "a port") {
			ck.BindPort, _ = c.port(n, n.Args[0].Text)
		}
	case "bind_if":
		if c.need(n, 1, "an interface") {
			ck.BindInterface = n.Args[0].Text
		}
	case "fwmark":
		if v, ok := c.intArg(n, 0, 0, 1<<32-1); ok {
			ck.FWMark = uint32(v)
		}
	default:
		return false
	}
	return true
}

func (c *conv) url(ck *model.Check, n *keepalived.Node) *model.URL {
	u := &model.URL{}
	c.pos[u] = n.Pos
	for _, ch := range n.Children {
		switch ch.Name {
		case "path":
			if c.need(ch, 1, "a path") {
				u.Path = ch.Args[0].Text
			}
		case "digest":
			if c.need(ch, 1, "an MD5 digest") {
				u.Digest = strings.ToLower(ch.Args[0].Text)
				if len(u.Digest) != 32 || strings.Trim(u.Digest, "0123456789abcdef") != "" {
					c.errorf(ch.Pos, "digest: want 32 hex digits (an MD5 sum, as genhash prints), got %q", ch.Args[0].Text)
				}
			}
		case "status_code":
			for _, a := range ch.Args {
				if _, _, err := model.ParseStatusRange(a.Text); err != nil {
					c.errorf(ch.Pos, "status_code: %v", err)
					continue
				}
				u.StatusCodes = append(u.StatusCodes, a.Text)
			}
		case "virtualhost":
			if c.need(ch, 1, "a host name") {
				u.Virtualhost = ch.Args[0].Text
			}
		default:
			c.unknown(ck, ch, checkUnsupported)
		}
	}
	if u.Path == "" {
		c.errorf(n.Pos, "url without a path")
		return nil
	}
	if len(u.StatusCodes) == 0 {
		u.StatusCodes = []string{model.DefaultHTTPStatus}
	}
	return u
}
