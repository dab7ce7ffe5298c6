package check

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/lbx-dev/lbx/check/checkspec"
	"github.com/lbx-dev/lbx/internal/script"
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
	// its Schedule), canonically encoded: two checks with the same Spec
	// probe the same thing the same way.
	Spec string
}

// Key identifies a check across reloads: the same key is the same check,
// which keeps its state when only its schedule changed (keepalived's
// migrate_checkers compares what is probed, not delay_loop or retry).
func (s Settings) Key() string {
	return s.Type + "|" + s.Spec
}

// Build builds the checker of an effective check (checkmodel.Effective
// fills in every inherited and default value; in a checker process it
// arrives as JSON). A check that is not effective is refused, not
// completed here: the defaults have one home. Errors do not name the real
// server: the caller does.
func Build(e checkspec.Check) (Checker, Settings, error) {
	fail := func(format string, args ...any) (Checker, Settings, error) {
		return nil, Settings{}, fmt.Errorf(format, args...)
	}
	if e.Schedule.DelayLoop <= 0 || needsPort(e.Type) && (!e.ConnectIP.IsValid() || e.ConnectTimeout <= 0) {
		return fail("not an effective check (no delay_loop, connect_ip or connect_timeout; checkmodel builds it)")
	}
	if e.ConnectPort <= 0 && needsPort(e.Type) {
		return fail("no port to connect to: set connect_port (the real server has none, e.g. under a fwmark service)")
	}
	conn := Conn{
		Addr:      netip.AddrPortFrom(e.ConnectIP, uint16(e.ConnectPort)),
		BindAddr:  e.BindTo,
		BindPort:  e.BindPort,
		Interface: e.BindInterface,
		FWMark:    e.FWMark,
		Timeout:   e.ConnectTimeout,
	}
	deadline := conn.Timeout

	var ch Checker
	switch e.Type {
	case "tcp":
		ch = &TCP{Conn: conn}
	case "http_get", "ssl_get":
		h := HTTP{Conn: conn, TLS: e.UsesTLS(), VerifyTLS: e.VerifyTLS, SNI: e.SNI, Version: e.HTTPVersion}
		for i, u := range e.URLs {
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
		if e.Timeout <= 0 {
			return fail("not an effective check (no misc timeout; checkmodel builds it)")
		}
		args, err := SplitCommand(e.Path)
		if err != nil {
			return fail("%v", err)
		}
		m := &Misc{Args: args, Dynamic: e.Dynamic, Timeout: e.Timeout}
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
		ch = &SMTP{Conn: conn, HeloName: e.HeloName}
		deadline *= smtpSteps
	case "dns":
		t, err := ParseDNSType(e.DNSType)
		if err != nil {
			return fail("%v", err)
		}
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
	probed.Schedule = checkspec.Schedule{}
	spec, err := json.Marshal(&probed)
	if err != nil {
		return fail("%v", err)
	}
	return ch, Settings{
		Type:             e.Type,
		DelayLoop:        e.Schedule.DelayLoop,
		Retry:            e.Schedule.Retry,
		DelayBeforeRetry: e.Schedule.DelayBeforeRetry,
		Warmup:           e.Schedule.Warmup,
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
