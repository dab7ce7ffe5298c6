package check

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/lbx-dev/lbx/internal/script"
	"github.com/lbx-dev/lbx/model"
)

// Settings are a check's scheduling parameters after inheritance and
// defaults, plus a fingerprint of everything the check probes.
type Settings struct {
	Type             string
	DelayLoop        time.Duration
	Retry            int
	DelayBeforeRetry time.Duration
	Warmup           time.Duration
	// Deadline is the hard bound of one probe (connect_timeout; for HTTP
	// conversationSteps times that for each URL; the misc timeout).
	Deadline time.Duration
	// Spec is what the check probes and how (the effective check without
	// its schedule: delay_loop, retry, delay_before_retry, warmup),
	// canonically encoded: two checks with the same Spec probe the same
	// thing the same way.
	Spec string
}

// Key identifies a check across reloads: the same key is the same check,
// which keeps its state when only its schedule changed (keepalived's
// migrate_checkers compares what is probed, not delay_loop or retry).
func (s Settings) Key() string {
	return s.Type + "|" + s.Spec
}

// FromModel builds the checker of c, a check of real server rs of virtual
// server vs, applying keepalived's inheritance: delay_loop from the virtual
// server, connect_ip from the real server's address, connect_port from its
// effective port, virtualhost from the virtual server; and the defaults of
// model/defaults.go. The model is assumed validated; what validation cannot
// see (a bad payload, an unknown user) is an error naming the check.
// It also returns the effective check (every inherited or default value
// filled in), from which FromSpec builds the same checker again: that is
// what a checker process of its own is given.
func FromModel(vs *model.VirtualServer, rs *model.RealServer, c *model.Check) (Checker, Settings, model.Check, error) {
	where := fmt.Sprintf("real server %s check %s", netip.AddrPortFrom(rs.Address.Addr, uint16(rs.EffectivePort(vs))), c.Type)
	e := effective(vs, rs, c)
	ch, st, err := build(e, where)
	return ch, st, e, err
}

// FromSpec builds a checker from an effective check FromModel returned
// (in another process: the check is plain data and travels as JSON).
func FromSpec(e model.Check) (Checker, Settings, error) {
	where := fmt.Sprintf("check %s", e.Type)
	if e.ConnectIP != nil {
		where += fmt.Sprintf(" of %s", netip.AddrPortFrom(e.ConnectIP.Addr, uint16(e.ConnectPort)))
	}
	if e.ConnectIP == nil || e.DelayLoop == nil || e.ConnectTimeout == nil || e.DelayBeforeRetry == nil || e.Warmup == nil || e.Retry == nil {
		return nil, Settings{}, fmt.Errorf("%s: not an effective check (build it with FromModel)", where)
	}
	return build(e, where)
}

// effective is c with every inherited or default value filled in.
func effective(vs *model.VirtualServer, rs *model.RealServer, c *model.Check) model.Check {
	e := *c
	if e.ConnectIP == nil {
		e.ConnectIP = &model.Addr{Addr: rs.Address.Addr}
	}
	if e.ConnectPort == 0 {
		e.ConnectPort = rs.EffectivePort(vs)
	}
	dur := func(own *model.Duration, inherited *model.Duration, def time.Duration) *model.Duration {
		switch {
		case own != nil:
			return own
		case inherited != nil:
			return inherited
		}
		return &model.Duration{Duration: def}
	}
	e.DelayLoop = dur(c.DelayLoop, vs.DelayLoop, model.DefaultDelayLoop)
	e.ConnectTimeout = dur(c.ConnectTimeout, nil, model.DefaultConnectTimeout)
	e.DelayBeforeRetry = dur(c.DelayBeforeRetry, nil, model.DelayBeforeRetryDefault(c.Type, e.DelayLoop.Duration))
	// keepalived starts each checker after a random part of warmup, which
	// defaults to delay_loop, so that probes do not all start at once.
	// A FILE_CHECK's state is known at start (keepalived reads the file
	// then, add_rs_to_track_files clears alpha): no warmup.
	warmup := e.DelayLoop.Duration
	if c.Type == "file" {
		warmup = 0
	}
	e.Warmup = dur(c.Warmup, nil, warmup)
	if e.Retry == nil {
		r := model.RetryDefault(c.Type)
		e.Retry = &r
	}
	if e.Virtualhost == "" && (c.Type == "http_get" || c.Type == "ssl_get") {
		e.Virtualhost = vs.Virtualhost
	}
	return e
}

// build makes the checker and settings of an effective check; where names
// the check in errors.
func build(e model.Check, where string) (Checker, Settings, error) {
	fail := func(format string, args ...any) (Checker, Settings, error) {
		return nil, Settings{}, fmt.Errorf("%s: %s", where, fmt.Sprintf(format, args...))
	}

	if e.ConnectPort <= 0 && needsPort(e.Type) {
		return fail("no port to connect to: set connect_port (the real server has none, e.g. under a fwmark service)")
	}
	conn := Conn{
		Addr:      netip.AddrPortFrom(e.ConnectIP.Addr, uint16(e.ConnectPort)),
		BindPort:  e.BindPort,
		Interface: e.BindInterface,
		FWMark:    e.FWMark,
		Timeout:   e.ConnectTimeout.Duration,
	}
	if e.BindTo != nil {
		conn.BindAddr = e.BindTo.Addr
	}
	deadline := conn.Timeout

	var ch Checker
	switch e.Type {
	case "tcp":
		ch = &TCP{Conn: conn}
	case "http_get", "ssl_get":
		h := HTTP{Conn: conn, TLS: e.Type == "ssl_get", VerifyTLS: e.VerifyTLS, SNI: e.SNI, Version: e.HTTPVersion}
		for i, u := range e.URLs {
			if u == nil {
				return fail("urls[%d] is empty", i)
			}
			st, err := ParseStatusSet(u.StatusCodes)
			if err != nil {
				return fail("urls[%d]: %v", i, err)
			}
			host := u.Virtualhost
			if host == "" {
				host = e.Virtualhost
			}
			h.URLs = append(h.URLs, URL{Path: u.Path, Digest: strings.ToLower(u.Digest), Status: st, Host: host})
		}
		if len(h.URLs) == 0 {
			return fail("no urls to fetch")
		}
		deadline *= time.Duration(conversationSteps * len(h.URLs))
		ch = NewHTTP(h)
	case "misc":
		args, err := SplitCommand(e.Path)
		if err != nil {
			return fail("%v", err)
		}
		m := &Misc{Args: args, Dynamic: e.Dynamic, Timeout: e.DelayLoop.Duration}
		if e.Timeout != nil && e.Timeout.Duration > 0 {
			m.Timeout = e.Timeout.Duration
		}
		e.Timeout = &model.Duration{Duration: m.Timeout}
		if e.User != "" {
			u, err := lookupUser(e.User)
			if err != nil {
				return fail("%v", err)
			}
			m.User = u
		}
		deadline = m.Timeout
		ch = m
	case "smtp":
		if e.HeloName == "" {
			e.HeloName = DefaultHeloName
		}
		ch = &SMTP{Conn: conn, HeloName: e.HeloName}
		deadline *= smtpSteps
	case "dns":
		if e.DNSName == "" {
			e.DNSName = DefaultDNSName
		}
		t, err := ParseDNSType(e.DNSType)
		if err != nil {
			return fail("%v", err)
		}
		e.DNSType = strings.ToUpper(t.String()[len("Type"):])
		if _, err := BuildDNSQuery(0, e.DNSName, t); err != nil {
			return fail("%v", err)
		}
		ch = &DNS{Conn: conn, Type: t, Name: e.DNSName}
	case "udp":
		payload, err := ParsePayload(e.Payload)
		if err != nil {
			return fail("%v", err)
		}
		ch = &UDP{Conn: conn, Payload: payload, RequireReply: e.RequireReply}
	case "ping":
		ch = &Ping{Conn: conn}
	case "file":
		ch = &File{Path: e.File}
	default:
		return fail("unknown check type %q", e.Type)
	}

	probed := e
	probed.DelayLoop, probed.Retry, probed.DelayBeforeRetry, probed.Warmup = nil, nil, nil, nil
	spec, err := json.Marshal(&probed)
	if err != nil {
		return fail("%v", err)
	}
	return ch, Settings{
		Type:             e.Type,
		DelayLoop:        e.DelayLoop.Duration,
		Retry:            *e.Retry,
		DelayBeforeRetry: e.DelayBeforeRetry.Duration,
		Warmup:           e.Warmup.Duration,
		Deadline:         deadline,
		Spec:             string(spec),
	}, nil
}

func needsPort(t string) bool { return t != "ping" && t != "file" && t != "misc" }

// ParsePayload reads a UDP_CHECK payload written as keepalived does: hex
// digits, optionally spaced ("01 02 0a"). Empty is an empty datagram.
func ParsePayload(s string) ([]byte, error) {
	h := strings.NewReplacer(" ", "", "\t", "").Replace(s)
	h = strings.TrimPrefix(strings.TrimPrefix(h, "0x"), "0X")
	b, err := hex.DecodeString(h)
	if err != nil {
		return nil, fmt.Errorf("payload %q: want hex digits such as 0a1b2c (keepalived's format)", s)
	}
	return b, nil
}

// lookupUser resolves a misc check's user: "user", "user group"
// (keepalived) or "user:group".
func lookupUser(spec string) (*script.User, error) {
	name, group, err := script.ParseUserSpec(spec)
	if err != nil {
		return nil, err
	}
	return script.LookupUser(name, group)
}
