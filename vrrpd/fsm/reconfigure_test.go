package fsm

import (
	"testing"
	"time"
)

// Reconfigure (a reload of an instance whose identity is unchanged): the
// state and timers stay; what changed takes effect as RFC 5798 §6 says.
func TestReconfigure(t *testing.T) {
	heard := Advert{Src: peer, Priority: 120, Interval: time.Second}
	tests := []struct {
		name    string
		start   func(m *Machine) // brings the machine to the state under test
		mod     func(*Config)
		initial map[TrackKey]bool
		want    string // effects
		state   State
	}{
		{"master unchanged: nothing at all", asMaster, nil, nil, "", Master},
		{"backup unchanged: nothing at all", asBackup(heard), nil, nil, "", Backup},
		{"master, priority lowered: advertises it now", asMaster, func(c *Config) { c.Priority = 50 }, nil, "advert(50)", Master},
		{"master, priority raised: advertises it now", asMaster, func(c *Config) { c.Priority = 200 }, nil, "advert(200)", Master},
		{"master, interval changed: advertises at the new one", asMaster, func(c *Config) { c.AdvertInt = 2 * time.Second }, nil, "advert(100)", Master},
		{"master, preempt off: nothing to send", asMaster, func(c *Config) { c.Preempt = false }, nil, "", Master},
		{"backup, priority above master's: waits for the timer", asBackup(heard), func(c *Config) { c.Priority = 200 }, nil, "", Backup},
		{"backup becomes owner: master now", asBackup(heard), func(c *Config) { c.Priority = 255 },
			nil, "advert(255) BACKUP->MASTER add garp notify(MASTER)", Master},
		{"master, new weight-0 track known down: FAULT with priority 0", asMaster,
			func(c *Config) { c.Tracks = []Track{{Key: key("interface eth1")}} }, map[TrackKey]bool{key("interface eth1"): false},
			"advert(0) MASTER->FAULT remove notify(FAULT)", Fault},
		{"master, new weight-0 track of unknown state: assumed up", asMaster,
			func(c *Config) { c.Tracks = []Track{{Key: key("interface eth1")}} }, nil, "", Master},
		{"master, new negative-weight track down: lower priority advertised", asMaster,
			func(c *Config) { c.Tracks = []Track{{Key: key("script chk"), Weight: -30}} }, map[TrackKey]bool{key("script chk"): false}, "advert(70)", Master},
		{"fault, failing track removed: back to BACKUP", asFault, func(c *Config) { c.Tracks = nil }, nil,
			"FAULT->BACKUP notify(BACKUP)", Backup},
		{"stopped: settings only", func(m *Machine) { m.Start(t0); m.Shutdown(t0) }, func(c *Config) { c.Priority = 10 }, nil, "", Stop},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New(cfg(nil))
			tt.start(m)
			dl := m.Deadline()
			c := m.Config()
			if tt.mod != nil {
				tt.mod(&c)
			}
			now := t0.Add(1500 * time.Millisecond)
			expect(t, "reconfigure", m.Reconfigure(now, c, tt.initial), tt.want)
			if m.State() != tt.state {
				t.Fatalf("state %s, want %s", m.State(), tt.state)
			}
			if tt.want == "" && !m.Deadline().Equal(dl) {
				t.Fatalf("timer moved from %s to %s on a no-op reconfigure", dl, m.Deadline())
			}
		})
	}
}

func asMaster(m *Machine) {
	c := m.Config()
	c.InitialMaster = true
	m.cfg = c
	m.Start(t0)
}

func asBackup(a Advert) func(*Machine) {
	return func(m *Machine) { m.Start(t0); m.Receive(t0.Add(time.Second), a) }
}

func asFault(m *Machine) {
	c := m.Config()
	c.Tracks = []Track{{Key: key("interface eth1")}}
	m.cfg = c
	m.trackUp[key("interface eth1")] = false
	m.Start(t0)
}

// pair runs two machines on a simulated wire: every advert one sends the
// other receives at once. It steps the clock to the next deadline.
type pair struct {
	a, b *Machine
	now  time.Time
}

func (p *pair) deliver(from, to *Machine, effs []Effect) {
	for _, e := range effs {
		if s, ok := e.(SendAdvert); ok {
			p.deliver(to, from, to.Receive(p.now, Advert{Src: from.cfg.Primary, Priority: s.Priority, Interval: s.Interval}))
		}
	}
}

func (p *pair) run(d time.Duration) {
	end := p.now.Add(d)
	for {
		next := end
		for _, m := range []*Machine{p.a, p.b} {
			if dl := m.Deadline(); !dl.IsZero() && dl.Before(next) {
				next = dl
			}
		}
		if next.Equal(end) {
			p.now = end
			return
		}
		p.now = next
		p.deliver(p.a, p.b, p.a.Tick(p.now))
		p.deliver(p.b, p.a, p.b.Tick(p.now))
	}
}

// A master whose priority drops below a preempting backup's loses the
// election (its advert of the lower priority is ignored by the backup,
// whose Master_Down_Timer fires; the old master then hears a higher
// priority and steps down); raising it again with preempt takes the role
// back. The unchanged peer is never reconfigured.
func TestReconfigureSwapsRoles(t *testing.T) {
	a := New(cfg(func(c *Config) { c.Priority, c.InitialMaster = 150, true }))
	b := New(cfg(func(c *Config) { c.Priority, c.Primary = 100, peer }))
	p := &pair{a: a, b: b, now: t0}
	p.deliver(a, b, a.Start(p.now))
	p.deliver(b, a, b.Start(p.now))
	p.run(5 * time.Second)
	if a.State() != Master || b.State() != Backup {
		t.Fatalf("before: a %s b %s", a.State(), b.State())
	}
	c := a.Config()
	c.Priority = 50
	p.deliver(a, b, a.Reconfigure(p.now, c, nil))
	// Within one Master_Down_Interval of b (plus the advert in flight).
	p.run(b.MasterDownInterval() + time.Second)
	if a.State() != Backup || b.State() != Master {
		t.Fatalf("after lowering a to 50: a %s b %s", a.State(), b.State())
	}
	c.Priority = 150
	p.deliver(a, b, a.Reconfigure(p.now, c, nil))
	p.run(a.MasterDownInterval() + time.Second)
	if a.State() != Master || b.State() != Backup {
		t.Fatalf("after raising a to 150 again: a %s b %s", a.State(), b.State())
	}
	// nopreempt on the backup: raising its priority changes nothing.
	cb := b.Config()
	cb.Priority, cb.Preempt = 200, false
	p.deliver(b, a, b.Reconfigure(p.now, cb, nil))
	p.run(10 * time.Second)
	if a.State() != Master || b.State() != Backup {
		t.Fatalf("nopreempt backup raised to 200: a %s b %s", a.State(), b.State())
	}
}
