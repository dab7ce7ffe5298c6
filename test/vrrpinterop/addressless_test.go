package vrrpinterop

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/statusd"
)

// v2novip is a VRRPv2 IPv4 instance without virtual addresses, which
// keepalived 2.2.7 runs ("No VIP specified; at least one is sensible") and
// lbx convert gives an instance whose addresses another one owns
// (1102.conf): its adverts carry none. 1 s adverts: keepalived's VRRPv2
// takes whole seconds.
var v2novip = vr{version: 2, advert: time.Second, vrid: 57, pass: "s3cret"}

// kaEntering is keepalived's log line of a state change.
var kaEntering = regexp.MustCompile(`\(VI_1\) Entering ([A-Z]+) STATE`)

// vrrpState is the instance's state as the router says it, "" before it
// says one: lbx status, or the last state keepalived logged entering.
func (p *peer) vrrpState() string {
	if p.kind == "keepalived" {
		m := kaEntering.FindAllStringSubmatch(p.out.String(), -1)
		if len(m) == 0 {
			return ""
		}
		return m[len(m)-1][1]
	}
	out, err := p.ns.Cmd(lbxBin, "status", "-o", "json", "--run-dir", p.dir).Output()
	var st statusd.Status
	if err != nil || json.Unmarshal(out, &st) != nil || len(st.VRRP) != 1 {
		return "" // not listening yet
	}
	return st.VRRP[0].State
}

// waitState waits until p says state and returns how long that took
// from from.
func (p *peer) waitState(state string, within time.Duration, from time.Time) time.Duration {
	p.t.Helper()
	for {
		got := p.vrrpState()
		if got == state {
			return time.Since(from)
		}
		if time.Since(from) > within {
			p.t.Fatalf("%s: state %q, not %s within %s", p.name(), got, state, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// holdStates asserts that each peer stays in its state for d.
func holdStates(t *testing.T, want map[*peer]string, d time.Duration) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		for p, state := range want {
			if got := p.vrrpState(); got != state {
				t.Fatalf("%s left %s for %q", p.name(), state, got)
			}
		}
	}
}

// addressCountDrops is how many adverts p dropped for the number of
// addresses they carry (keepalived's two messages, lbx's counter).
func (p *peer) addressCountDrops() uint64 {
	if p.kind == "keepalived" {
		out := p.out.String()
		return uint64(strings.Count(out, "received an unexpected ip number count") + strings.Count(out, "VIPs but received"))
	}
	return p.stats()["drop_address_count"]
}

// A VRRPv2 instance without virtual addresses interoperates with
// keepalived's: the higher priority becomes and stays MASTER whichever
// implementation it is, neither drops the other's adverts, and SIGKILL of
// the master hands over within Master_Down_Interval (plus slack: the
// machine is shared).
func TestAddresslessInterop(t *testing.T) {
	v := v2novip
	for _, k := range pairs {
		t.Run(name(v, k), func(t *testing.T) {
			hi, lo := setup(t, v, k, 150, 100)
			lo.start()
			lo.waitState("MASTER", v.mdi(100)+5*time.Second, time.Now())
			hi.start()
			hi.waitState("MASTER", v.mdi(150)+5*time.Second, time.Now())
			lo.waitState("BACKUP", 2*v.advert+3*time.Second, time.Now())
			holdStates(t, map[*peer]string{hi: "MASTER", lo: "BACKUP"}, 3*v.advert)
			for _, p := range []*peer{hi, lo} {
				if n := p.addressCountDrops(); n != 0 {
					t.Errorf("%s dropped %d adverts for their address count", p.name(), n)
				}
				if p.kind == "keepalived" && !strings.Contains(p.out.String(), "(VI_1) No VIP specified; at least one is sensible") {
					t.Errorf("%s does not run the instance without addresses", p.name())
				}
			}
			killed := time.Now()
			hi.kill()
			took := lo.waitState("MASTER", v.mdi(100)+3*time.Second, killed)
			t.Logf("%s MASTER %s after the kill (Master_Down_Interval %s)", lo.name(), took.Round(time.Millisecond), v.mdi(100))
		})
	}
}

// What lbx convert warns of an instance left without the addresses its
// keepalived configuration lists (another instance owns them): a keepalived
// peer still on that configuration drops its adverts for their address
// count and becomes MASTER beside it.
func TestAddresslessAgainstAddressedKeepalived(t *testing.T) {
	hi, lo := setup(t, v2novip, [2]string{"lbx", "keepalived"}, 150, 100)
	lo.vr.vip = "10.77.0.100/24"
	hi.start()
	hi.waitState("MASTER", v2novip.mdi(150)+5*time.Second, time.Now())
	lo.start()
	lo.waitState("MASTER", v2novip.mdi(100)+5*time.Second, time.Now())
	lo.waitVIP(true, 2*time.Second, time.Now())
	holdStates(t, map[*peer]string{hi: "MASTER", lo: "MASTER"}, 3*v2novip.advert)
	// The message lbx convert's warning quotes.
	if !strings.Contains(lo.out.String(), "received an unexpected ip number count 0") || lo.addressCountDrops() == 0 {
		t.Errorf("keepalived did not say it dropped lbx's adverts for their address count")
	}
}
