package checkmodel

import (
	"net/netip"
	"strings"
	"time"

	"github.com/lbx-dev/lbx/check"
	"github.com/lbx-dev/lbx/check/checkspec"
	"github.com/lbx-dev/lbx/model"
)

// Effective is c, a check of real server rs of virtual server vs, with
// every inherited or default value filled in, as keepalived: delay_loop
// from the virtual server, connect_ip from the real server's address,
// connect_port from its effective port, virtualhost from the virtual
// server; the defaults of model/defaults.go and the checkers' own (the
// misc timeout, the SMTP HELO name, the DNS query). c is not changed.
func Effective(vs *model.VirtualServer, rs *model.RealServer, c *model.Check) model.Check {
	e := *c
	if e.ConnectIP == nil {
		e.ConnectIP = &model.Addr{Addr: rs.Address.Addr}
	}
	if e.ConnectPort == 0 {
		e.ConnectPort = rs.EffectivePort(vs)
	}
	pick := func(own *model.Duration, inherited *model.Duration, def time.Duration) *model.Duration {
		switch {
		case own != nil:
			return own
		case inherited != nil:
			return inherited
		}
		return &model.Duration{Duration: def}
	}
	e.DelayLoop = pick(c.DelayLoop, vs.DelayLoop, model.DefaultDelayLoop)
	e.ConnectTimeout = pick(c.ConnectTimeout, nil, model.DefaultConnectTimeout)
	e.DelayBeforeRetry = pick(c.DelayBeforeRetry, nil, model.DelayBeforeRetryDefault(c.Type, e.DelayLoop.Duration))
	// keepalived starts each checker after a random part of warmup, which
	// defaults to delay_loop, so that probes do not all start at once.
	// A FILE_CHECK's state is known at start (keepalived reads the file
	// then, add_rs_to_track_files clears alpha): no warmup.
	warmup := e.DelayLoop.Duration
	if c.Type == "file" {
		warmup = 0
	}
	e.Warmup = pick(c.Warmup, nil, warmup)
	if e.Retry == nil {
		r := model.RetryDefault(c.Type)
		e.Retry = &r
	}
	switch c.Type {
	case "http_get", "ssl_get":
		if e.Virtualhost == "" {
			e.Virtualhost = vs.Virtualhost
		}
	case "misc":
		// keepalived's misc_timeout defaults to delay_loop.
		if e.Timeout == nil || e.Timeout.Duration <= 0 {
			e.Timeout = &model.Duration{Duration: e.DelayLoop.Duration}
		}
	case "smtp":
		if e.HeloName == "" {
			e.HeloName = check.DefaultHeloName
		}
	case "dns":
		if e.DNSName == "" {
			e.DNSName = check.DefaultDNSName
		}
		// The canonical name of the query type; a bad one is left for
		// check.Build to refuse.
		if t, err := check.ParseDNSType(e.DNSType); err == nil {
			e.DNSType = strings.ToUpper(t.String()[len("Type"):])
		}
	}
	return e
}

// Spec is an effective check (Effective) as the checker's settings: the
// one place where a field of model.Check becomes one of checkspec.Check
// (TestSpecCarriesEveryField fails for a field that is not carried).
func Spec(e model.Check) checkspec.Check {
	s := checkspec.Check{
		Type:           e.Type,
		ConnectIP:      addr(e.ConnectIP),
		ConnectPort:    e.ConnectPort,
		BindTo:         addr(e.BindTo),
		BindPort:       e.BindPort,
		BindInterface:  e.BindInterface,
		FWMark:         e.FWMark,
		ConnectTimeout: dur(e.ConnectTimeout),
		Schedule: checkspec.Schedule{
			DelayLoop:        dur(e.DelayLoop),
			DelayBeforeRetry: dur(e.DelayBeforeRetry),
			Warmup:           dur(e.Warmup),
		},
		Virtualhost:  e.Virtualhost,
		SNI:          e.SNI,
		VerifyTLS:    e.VerifyTLS,
		HTTPVersion:  e.HTTPVersion,
		Path:         e.Path,
		Timeout:      dur(e.Timeout),
		Dynamic:      e.Dynamic,
		User:         e.User,
		HeloName:     e.HeloName,
		DNSType:      e.DNSType,
		DNSName:      e.DNSName,
		Payload:      e.Payload,
		RequireReply: e.RequireReply,
		File:         e.File,
	}
	if e.Retry != nil {
		s.Schedule.Retry = *e.Retry
	}
	for _, u := range e.URLs {
		if u != nil {
			s.URLs = append(s.URLs, checkspec.URL{Path: u.Path, Digest: u.Digest, StatusCodes: u.StatusCodes, Virtualhost: u.Virtualhost})
		}
	}
	return s
}

func addr(a *model.Addr) netip.Addr {
	if a == nil {
		return netip.Addr{}
	}
	return a.Addr
}

func dur(d *model.Duration) time.Duration {
	if d == nil {
		return 0
	}
	return d.Duration
}
