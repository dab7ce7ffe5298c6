package check

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// DNS is DNS_CHECK: one query of Type for Name over UDP with recursion
// desired; up on a reply with the query's id and RCODE NOERROR (the answer
// section is not judged, as keepalived). Replies with another id or that
// are not responses are ignored until the deadline.
type DNS struct {
	Conn Conn
	Type dnsmessage.Type
	Name string // fully qualified or not; "." is the root
}

// DNS defaults (keepalived).
const (
	DefaultDNSType = "SOA"
	DefaultDNSName = "."
)

// dnsTypes are the query types keepalived accepts.
var dnsTypes = map[string]dnsmessage.Type{
	"A": dnsmessage.TypeA, "NS": dnsmessage.TypeNS, "CNAME": dnsmessage.TypeCNAME,
	"SOA": dnsmessage.TypeSOA, "MX": dnsmessage.TypeMX, "TXT": dnsmessage.TypeTXT,
	"AAAA": dnsmessage.TypeAAAA,
}

// ParseDNSType maps a dns_type keyword (case-insensitive) to its type.
func ParseDNSType(s string) (dnsmessage.Type, error) {
	if s == "" {
		s = DefaultDNSType
	}
	t, ok := dnsTypes[strings.ToUpper(s)]
	if !ok {
		return 0, fmt.Errorf("dns_type %q: want one of A, AAAA, CNAME, MX, NS, SOA, TXT", s)
	}
	return t, nil
}

// BuildDNSQuery encodes a query message.
func BuildDNSQuery(id uint16, name string, t dnsmessage.Type) ([]byte, error) {
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	n, err := dnsmessage.NewName(name)
	if err != nil {
		return nil, fmt.Errorf("dns_name %q: %w", name, err)
	}
	b := dnsmessage.NewBuilder(make([]byte, 0, 64), dnsmessage.Header{ID: id, RecursionDesired: true})
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	if err := b.Question(dnsmessage.Question{Name: n, Type: t, Class: dnsmessage.ClassINET}); err != nil {
		return nil, fmt.Errorf("dns_name %q: %w", name, err)
	}
	return b.Finish()
}

// errNotOurs marks a datagram to ignore (wrong id, a query, too short).
var errNotOurs = errors.New("not a reply to our query")

// ParseDNSReply judges a datagram received for the query with this id:
// errNotOurs if it should be ignored, another error if the server answered
// with a failure, nil on success. Only the header is parsed.
func ParseDNSReply(b []byte, id uint16) error {
	var p dnsmessage.Parser
	h, err := p.Start(b)
	if err != nil || h.ID != id || !h.Response {
		return errNotOurs
	}
	if h.RCode != dnsmessage.RCodeSuccess {
		return fmt.Errorf("rcode %s", strings.TrimPrefix(h.RCode.String(), "RCode"))
	}
	return nil
}

// Check implements Checker.
func (d *DNS) Check(ctx context.Context) Result {
	start := time.Now()
	ctx, cancel := withDeadline(ctx, d.Conn.Timeout)
	defer cancel()
	id := uint16(rand.Uint32())
	q, err := BuildDNSQuery(id, d.Name, d.Type)
	if err != nil {
		return down(start, "%v", err)
	}
	c, err := d.Conn.dialUDP(ctx)
	if err != nil {
		return down(start, "socket: %s", reason(err))
	}
	defer c.Close()
	if _, err := c.Write(q); err != nil {
		return down(start, "send: %s", reason(err))
	}
	buf := make([]byte, 1232)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return down(start, "no reply: %s", ioReason(ctx, err))
		}
		switch err := ParseDNSReply(buf[:n], id); {
		case err == nil:
			return up(start)
		case errors.Is(err, errNotOurs):
			continue
		default:
			return down(start, "%v", err)
		}
	}
}
