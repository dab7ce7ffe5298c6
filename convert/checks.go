package convert

import (
	"fmt"
	"strings"
	"time"

	"github.com/lbx-dev/lbx/check/checkspec"
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
	"dynamic":          "FILE_CHECK dynamic weights are not in the model",
}

// connectTypes have connect_* options and a port.
var connectTypes = map[string]bool{"tcp": true, "http_get": true, "ssl_get": true, "smtp": true, "dns": true, "udp": true}

// checkScope is the inheritable settings each checker type reads.
func checkScope(typ string) chkScope {
	switch typ {
	case "http_get", "ssl_get":
		return chkScope{connect: true, vhost: true, nbGetRetry: true}
	case "misc":
		return chkScope{}
	}
	return chkScope{connect: true}
}

// checkDraft is a checker block being read.
type checkDraft struct {
	ck     *model.Check
	n      *keepalived.Node
	chk    chk
	hosts  []*keepalived.Node
	sni    *keepalived.Node // enable_sni, when on
	noSNI  bool             // enable_sni off (last word)
	urlSNI []string         // each url's virtualhost, "" when it has none
	// FILE_CHECK's track_file and weight lines (the last of each).
	trackFile, fileWeight *keepalived.Node
}

// checks converts one checker block; SMTP_CHECK's legacy host { } blocks
// give one check each. dst is the port a check connects to unless it sets
// connect_port: the real server's, as keepalived's checker copied it.
func (c *conv) checks(dst int, n *keepalived.Node, inherit chk) []*model.Check {
	typ := checkTypes[n.Name]
	d := &checkDraft{ck: &model.Check{Type: typ}, n: n}
	c.pos[d.ck] = n.Pos
	for _, ch := range n.Children {
		if typ != "file" && c.chkSetting(d.ck, &d.chk, ch, checkScope(typ)) {
			continue
		}
		if typ != "misc" && typ != "file" && c.connectSetting(d.ck, ch) {
			continue
		}
		if !c.checkSetting(d, ch) {
			c.unknown(d.ck, ch, checkUnsupported)
		}
	}
	c.checkTimers(d, inherit)
	if connectTypes[typ] && d.ck.ConnectPort == 0 {
		d.ck.ConnectPort = dst
	}
	if !c.checkFinish(d, inherit) {
		return nil
	}
	if len(d.hosts) == 0 {
		return []*model.Check{d.ck}
	}
	return c.smtpHosts(dst, d)
}

// checkSetting handles the keywords of one checker type.
func (c *conv) checkSetting(d *checkDraft, ch *keepalived.Node) bool {
	ck := d.ck
	switch typ := ck.Type; {
	case (typ == "http_get" || typ == "ssl_get") && ch.Name == "url":
		if u := c.url(ck, ch); u != nil {
			ck.URLs = append(ck.URLs, u)
			d.urlSNI = append(d.urlSNI, u.Virtualhost)
		}
	case (typ == "http_get" || typ == "ssl_get") && ch.Name == "http_protocol":
		if c.need(ch, 1, "1.0, 1.0C or 1.1") {
			ck.HTTPVersion = ch.Args[0].Text
			if strings.EqualFold(ck.HTTPVersion, "1.0c") {
				ck.HTTPVersion = "1.0C"
			}
		}
	case (typ == "http_get" || typ == "ssl_get") && ch.Name == "enable_sni":
		// enable_sni_handler reads an optional <BOOL>.
		if v, ok := c.boolArg(ch); ok {
			d.sni, d.noSNI = ch, !v
		}
	case typ == "ssl_get" && ch.Name == "sni_name":
		if c.need(ch, 1, "a name") {
			ck.SNI = ch.Args[0].Text
			c.note(ck, ch.Pos, "sni_name is newer than keepalived 2.2.7, which reports it as an unknown keyword and sends no such name; converted as the newer keepalived reads it")
		}
	case typ == "misc":
		return c.miscSetting(ck, ch)
	case typ == "smtp" && ch.Name == "helo_name":
		if c.need(ch, 1, "a name") {
			ck.HeloName = ch.Args[0].Text
		}
	case typ == "smtp" && ch.Name == "host":
		d.hosts = append(d.hosts, ch)
	case typ == "dns" && (ch.Name == "type" || ch.Name == "name"):
		c.dnsSetting(ck, ch)
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
				c.corrected(ck, ch.Pos, "FILE_CHECK: no track_file named %q with a file: keepalived ignores the line (\"track_file %s not found\", track_file_handler), so does lbx", ch.Args[0].Text, ch.Args[0].Text)
				break // keepalived keeps the checker's file, if an earlier line set one
			}
			ck.File, d.trackFile = f.path, ch
		}
	case typ == "file" && ch.Name == "weight":
		if _, _, ok := trackWeight(ch); ok {
			d.fileWeight = ch // the last line keepalived reads
		} else {
			c.corrected(ck, ch.Pos, "FILE_CHECK weight %q: keepalived ignores the line (a weight, then reverse or noreverse; check_file.c), so does lbx", ch.ArgText())
		}
	default:
		return false
	}
	return true
}

func (c *conv) miscSetting(ck *model.Check, ch *keepalived.Node) bool {
	switch ch.Name {
	case "misc_path":
		if c.need(ch, 1, "a command") {
			ck.Path = ch.Args[0].Text
			if len(ch.Args) > 1 {
				ck.User = ch.Args[1].Text
			}
		}
	case "misc_timeout":
		// misc_timeout_handler reads whole seconds; 0 (or nothing valid)
		// leaves the virtual server's delay_loop in force (checkFinish).
		if !c.need(ch, 1, "a time in seconds") {
			return true
		}
		v, err := parseInt(ch.Args[0].Text, 0, 1<<31-1)
		if err != nil {
			c.corrected(ck, ch.Pos, "misc_timeout %s: keepalived ignores it (\"Invalid misc_timeout value '%s'\", misc_timeout_handler: whole seconds only), so the script may run for the virtual server's delay_loop; so does lbx", ch.Args[0].Text, ch.Args[0].Text)
		} else if v > 0 {
			ck.Timeout = dur(time.Duration(v) * time.Second)
		}
	case "misc_dynamic":
		ck.Dynamic = true
	case "user":
		if c.need(ch, 1, "a user name") {
			// "user group", as keepalived writes it; lbx runs the
			// check as both.
			ck.User = strings.TrimSpace(ch.Args[0].Text + " " + argText(ch, 1))
		}
	default:
		return false
	}
	return true
}

func (c *conv) dnsSetting(ck *model.Check, ch *keepalived.Node) {
	if ch.Name == "name" {
		if c.need(ch, 1, "a domain name") {
			ck.DNSName = ch.Args[0].Text
		}
		return
	}
	if !c.need(ch, 1, "a query type") {
		return
	}
	switch t := strings.ToUpper(ch.Args[0].Text); t {
	case "A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA":
		ck.DNSType = t
	default:
		c.corrected(ck, ch.Pos, "DNS_CHECK type %s: keepalived ignores it (\"Unknown DNS check type %s - ignoring\", dns_type_handler) and queries SOA unless another type line says otherwise, so does lbx; want A, NS, CNAME, SOA, MX, TXT or AAAA", ch.Args[0].Text, ch.Args[0].Text)
	}
}

// checkTimers resolves the inherited timers: checker, else real server,
// else virtual server, else keepalived's default for the type
// (check_data.c's validate_check_config).
func (c *conv) checkTimers(d *checkDraft, inherit chk) {
	ck, s := d.ck, d.chk
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
	if ck.Type != "file" {
		ck.DelayLoop = delayLoop
		ck.Retry = s.retry
		if ck.Retry == nil {
			ck.Retry = inherit.retry
		}
		if ck.Retry == nil {
			ck.Retry = intp(model.RetryDefault(ck.Type))
		}
		ck.DelayBeforeRetry = pick(s.delayBeforeRetry, inherit.delayBeforeRetry)
		if ck.DelayBeforeRetry == nil {
			ck.DelayBeforeRetry = dur(model.DelayBeforeRetryDefault(ck.Type, delayLoop.Duration))
		}
		ck.Warmup = pick(s.warmup, inherit.warmup)
	}
	if connectTypes[ck.Type] || ck.Type == "ping" {
		ck.ConnectTimeout = pick(s.connectTimeout, inherit.connectTimeout)
		if ck.ConnectTimeout == nil {
			ck.ConnectTimeout = dur(model.DefaultConnectTimeout)
		}
	}
}

// checkFinish applies each type's required settings and defaults; false:
// keepalived drops the checker (its end handler dequeues it) and the real
// server is not checked by it.
func (c *conv) checkFinish(d *checkDraft, inherit chk) bool {
	ck, n := d.ck, d.n
	drop := func(said, handler string) bool {
		c.corrected(ck, n.Pos, "%s: keepalived drops this checker (\"%s\", %s), so does lbx: the real server is not checked by it", n.Name, said, handler)
		return false
	}
	switch ck.Type {
	case "http_get", "ssl_get":
		if d.chk.virtualhost != "" {
			ck.Virtualhost = d.chk.virtualhost
		} else if inherit.virtualhost != "" {
			ck.Virtualhost = inherit.virtualhost
		}
		c.checkSNI(d, inherit)
		if len(ck.URLs) == 0 {
			// http_get_check_end dequeues the checker, then reads it.
			c.errorf(n.Pos, "%s has no url with a path: keepalived 2.2.7 reports \"HTTP/SSL_GET checker has no urls specified - ignoring\" and then crashes (segmentation fault in http_get_check_end); add url { path ... }", n.Name)
			return false
		}
	case "misc":
		if ck.Path == "" {
			return drop("No script path has been specified for MISC_CHECKER - skipping", "misc_end_handler")
		}
		if ck.Timeout == nil {
			// check_misc.c: misc_timeout, else the virtual server's
			// delay_loop (not the checker's or the real server's).
			ck.Timeout = inherit.vsDelayLoop
			if ck.Timeout == nil {
				ck.Timeout = dur(model.DefaultDelayLoop)
			}
		}
	case "dns":
		if ck.DNSType == "" {
			ck.DNSType = "SOA"
		}
		if ck.DNSName == "" {
			ck.DNSName = "."
		}
	case "file":
		if ck.File == "" {
			return drop("FILE_CHECK has no track_file specified - ignoring", "file_end_handler")
		}
		name := d.trackFile.Args[0].Text
		c.fileCheckSemantics(ck, c.trackFiles[name], name, d.fileWeight, d.trackFile)
	}
	return true
}

// checkSNI sets the TLS server name as keepalived's ssl_connect
// (check_ssl.c) picks it with enable_sni: the url's virtualhost, else the
// checker's, else the virtual server's — never the real server's.
func (c *conv) checkSNI(d *checkDraft, inherit chk) {
	ck := d.ck
	if d.sni == nil || d.noSNI || ck.SNI != "" {
		return
	}
	if ck.Type == "http_get" {
		c.note(ck, d.sni.Pos, "enable_sni has no effect on HTTP_GET (keepalived sends a server name only over TLS); ignored")
		return
	}
	fallback := d.chk.virtualhost
	if fallback == "" {
		fallback = inherit.vsVirtualhost
	}
	names := map[string]bool{}
	for _, v := range d.urlSNI {
		if v == "" {
			v = fallback
		}
		names[v] = true
	}
	name := fallback
	if len(d.urlSNI) > 0 {
		name = d.urlSNI[0]
		if name == "" {
			name = fallback
		}
	}
	if len(names) > 1 {
		c.unsupported(ck, d.sni, fmt.Sprintf("keepalived sends each url's own virtualhost as the server name; the model has one per check: %q (the first url's) is used for all", name))
	}
	if name == "" {
		c.note(ck, d.sni.Pos, "enable_sni without a virtualhost (url, checker or virtual server): keepalived sends no server name, so does lbx")
		return
	}
	ck.SNI = name
}

// smtpHosts: keepalived 2 runs one SMTP checker per host { } block.
func (c *conv) smtpHosts(dst int, d *checkDraft) []*model.Check {
	var out []*model.Check
	for _, h := range d.hosts {
		hc := *d.ck
		c.pos[&hc] = h.Pos
		c.legacy(d.ck, h, "one SMTP_CHECK per host, with connect_ip/connect_port in it")
		for _, ch := range h.Children {
			if !c.connectSetting(&hc, ch) {
				c.unknown(d.ck, ch, nil)
			}
		}
		if hc.ConnectPort == 0 {
			hc.ConnectPort = dst
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
				c.extraWords(ck, ch, 1, "path_handler keeps one word")
			}
		case "digest":
			if c.need(ch, 1, "an MD5 digest") {
				u.Digest = strings.ToLower(ch.Args[0].Text)
				c.extraWords(ck, ch, 1, "digest_handler reads one word")
				if len(u.Digest) != 32 || strings.Trim(u.Digest, "0123456789abcdef") != "" {
					c.errorf(ch.Pos, "digest: want 32 hex digits (an MD5 sum, as genhash prints), got %q", ch.Args[0].Text)
				}
			}
		case "status_code":
			for _, a := range ch.Args {
				if _, _, err := checkspec.ParseStatusRange(a.Text); err != nil {
					c.errorf(ch.Pos, "status_code: %v", err)
					continue
				}
				u.StatusCodes = append(u.StatusCodes, a.Text)
			}
		case "virtualhost":
			if c.need(ch, 1, "a host name") {
				u.Virtualhost = ch.Args[0].Text
				c.extraWords(ck, ch, 1, "url_virtualhost_handler keeps one word")
			}
		default:
			c.unknown(ck, ch, checkUnsupported)
		}
	}
	if u.Path == "" {
		c.corrected(ck, n.Pos, "url without a path: keepalived drops it (\"HTTP/SSL_GET checker url has no path - ignoring\", url_check), so does lbx")
		return nil
	}
	if len(u.StatusCodes) == 0 {
		u.StatusCodes = []string{model.DefaultHTTPStatus}
	}
	return u
}
