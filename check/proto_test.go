package check

import (
	"bufio"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/lbx-dev/lbx/internal/testkit"
)

// dnsServer answers on a UDP loopback socket according to mode.
func dnsServer(t *testing.T, mode string) net.Addr {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var p dnsmessage.Parser
			h, err := p.Start(buf[:n])
			if err != nil {
				continue
			}
			q, _ := p.Question()
			reply := func(id uint16, rcode dnsmessage.RCode, response bool) {
				b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: id, Response: response, RCode: rcode})
				b.StartQuestions()
				b.Question(q)
				out, _ := b.Finish()
				pc.WriteTo(out, from)
			}
			switch mode {
			case "ok":
				reply(h.ID, dnsmessage.RCodeSuccess, true)
			case "nxdomain":
				reply(h.ID, dnsmessage.RCodeNameError, true)
			case "wrong id then ok":
				reply(h.ID+1, dnsmessage.RCodeServerFailure, true)
				pc.WriteTo([]byte{1, 2, 3}, from) // garbage
				reply(h.ID, dnsmessage.RCodeServerFailure, false)
				reply(h.ID, dnsmessage.RCodeSuccess, true)
			case "wrong id only":
				reply(h.ID+1, dnsmessage.RCodeSuccess, true)
			case "silent":
			}
		}
	}()
	return pc.LocalAddr()
}

func TestDNS(t *testing.T) {
	tests := []struct {
		mode   string
		up     bool
		reason string
	}{
		{"ok", true, ""},
		{"nxdomain", false, "rcode NameError"},
		{"wrong id then ok", true, ""},
		{"wrong id only", false, "timeout"},
		{"silent", false, "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			d := &DNS{Conn: conn(t, dnsServer(t, tt.mode)), Type: dnsmessage.TypeSOA, Name: "."}
			within(t, d, tt.up, tt.reason, testTimeout+slack)
		})
	}
}

// smtpServer greets with banner and answers HELO with heloReply, each
// after delay.
func smtpServer(t *testing.T, banner, heloReply string, delay time.Duration) net.Addr {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				if banner == "" {
					bufio.NewReader(c).ReadString('\n') // never greets
					return
				}
				time.Sleep(delay)
				c.Write([]byte(banner + "\r\n"))
				r := bufio.NewReader(c)
				line, _ := r.ReadString('\n')
				if !strings.HasPrefix(line, "HELO ") {
					c.Write([]byte("500 want HELO\r\n"))
					return
				}
				time.Sleep(delay)
				c.Write([]byte(heloReply + "\r\n"))
				if line, _ := r.ReadString('\n'); strings.TrimSpace(line) == "QUIT" {
					c.Write([]byte("221 bye\r\n"))
				}
			}()
		}
	}()
	return ln.Addr()
}

func TestSMTP(t *testing.T) {
	// Each reply within connect_timeout passes, as keepalived re-arms its
	// timer for every read: a greeting delayed by 0.6 of it and a HELO
	// reply as slow (1.2 in all) pass. That row has a timeout of its own,
	// long enough that 0.4 of it is a margin a loaded machine keeps.
	const slowTimeout = time.Second
	tests := []struct {
		name, banner, helo string
		delay, timeout     time.Duration
		up                 bool
		reason             string
	}{
		{"good", "220 mx ESMTP", "250 mx", 0, testTimeout, true, ""},
		{"multi-line banner", "220-mx\r\n220 ESMTP", "250 mx", 0, testTimeout, true, ""},
		{"slow greeting and HELO reply", "220 mx ESMTP", "250 mx", slowTimeout * 6 / 10, slowTimeout, true, ""},
		{"busy banner", "554 go away", "250 mx", 0, testTimeout, false, "banner: 554"},
		{"helo refused", "220 mx", "501 bad", 0, testTimeout, false, "HELO: 501"},
		{"silent", "", "", 0, testTimeout, false, "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := conn(t, smtpServer(t, tt.banner, tt.helo, tt.delay))
			c.Timeout = tt.timeout
			s := &SMTP{Conn: c, HeloName: DefaultHeloName}
			within(t, s, tt.up, tt.reason, smtpSteps*tt.timeout+slack)
		})
	}
}

func udpEcho(t *testing.T, answer bool) net.Addr {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if answer {
				pc.WriteTo(buf[:n], from)
			}
		}
	}()
	return pc.LocalAddr()
}

func closedUDPPort(t *testing.T) net.Addr {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := pc.LocalAddr()
	pc.Close()
	return a
}

func TestUDP(t *testing.T) {
	tests := []struct {
		name    string
		addr    net.Addr
		require bool
		up      bool
		reason  string
	}{
		{"reply required and received", udpEcho(t, true), true, true, ""},
		{"reply required, silence", udpEcho(t, false), true, false, "no reply"},
		{"reply required, port closed", closedUDPPort(t), true, false, "port unreachable"},
		{"no reply required, silence is up", udpEcho(t, false), false, true, ""},
		{"no reply required, port closed", closedUDPPort(t), false, false, "port unreachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := &UDP{Conn: conn(t, tt.addr), Payload: []byte("ping"), RequireReply: tt.require}
			within(t, u, tt.up, tt.reason, testTimeout+slack)
		})
	}
}

func TestPing(t *testing.T) {
	c, _, err := listenICMP(false, netipZero)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no ICMP socket (needs root or ping_group_range): %v", err)
		}
		testkit.Skip(t, "no ICMP socket (needs root or ping_group_range)")
	}
	c.Close()
	p := &Ping{Conn: Conn{Addr: mustAddrPort("127.0.0.1:0"), Timeout: time.Second}}
	within(t, p, true, "", time.Second+slack)
	// 192.0.2.0/24 (TEST-NET-1) never answers: down at the deadline.
	p = &Ping{Conn: Conn{Addr: mustAddrPort("192.0.2.55:0"), Timeout: testTimeout}}
	within(t, p, false, "", testTimeout+slack)
}
