package fsm

import (
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// The tests follow RFC 5798 §6 (and RFC 3768 where v2 differs), one rule
// per test, on a simulated clock.

var (
	t0   = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	addr = netip.MustParseAddr
	me   = addr("10.0.0.2")
	peer = addr("10.0.0.3")
	low  = addr("10.0.0.1")
)

func cfg(mod func(*Config)) Config {
	c := Config{Name: "VI_1", VRID: 51, Version: 3, Priority: 100, AdvertInt: time.Second, Preempt: true, Primary: me}
	if mod != nil {
		mod(&c)
	}
	return c
}

func kinds(es []Effect) string {
	var s []string
	for _, e := range es {
		switch e := e.(type) {
		case SendAdvert:
			s = append(s, fmt.Sprintf("advert(%d)", e.Priority))
		case Transition:
			s = append(s, fmt.Sprintf("%s->%s", e.From, e.To))
		case AddAddresses:
			s = append(s, "add")
		case RemoveAddresses:
			s = append(s, "remove")
		case SendGARP:
			s = append(s, "garp")
		case Notify:
			s = append(s, "notify("+string(e.State)+")")
		case Drop:
			s = append(s, "drop("+e.Reason+")")
		case Stopped:
			s = append(s, "stopped")
		}
	}
	return strings.Join(s, " ")
}

func expect(t *testing.T, what string, got []Effect, want string) {
	t.Helper()
	if k := kinds(got); k != want {
		t.Fatalf("%s: effects %q, want %q", what, k, want)
	}
}

// §6.4.1: if Priority = 255 (owner) → send advert, ARP, become Master;
// else set Master_Down_Timer and become Backup. keepalived's `state MASTER`
// also starts as master.
func TestInitTransitions(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"backup", nil, "INIT->BACKUP notify(BACKUP)"},
		{"owner 255", func(c *Config) { c.Priority = 255 }, "advert(255) INIT->MASTER add garp notify(MASTER)"},
		{"state MASTER", func(c *Config) { c.InitialMaster = true }, "advert(100) INIT->MASTER add garp notify(MASTER)"},
		{"tracked down at start", func(c *Config) { c.Tracks = []Track{{Key: key("interface eth1")}} }, "INIT->FAULT notify(FAULT)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New(cfg(tt.mod))
			if tt.name == "tracked down at start" {
				m.trackUp[key("interface eth1")] = false
			}
			expect(t, "start", m.Start(t0), tt.want)
		})
	}
}

// Skew_Time and Master_Down_Interval: v2 (256−prio)/256 s + 3×advert_int;
// v3 (256−prio)×Master_Adver_Interval/256 + 3×Master_Adver_Interval.
func TestMasterDownInterval(t *testing.T) {
	tests := []struct {
		version  int
		prio     int
		interval time.Duration
		skew     time.Duration
	}{
		{2, 100, time.Second, 609375 * time.Microsecond},
		{2, 100, 3 * time.Second, 609375 * time.Microsecond},
		{2, 254, time.Second, 7812500 * time.Nanosecond},
		{3, 100, time.Second, 609375 * time.Microsecond},
		{3, 100, 100 * time.Millisecond, 60937500 * time.Nanosecond},
		{3, 1, 40950 * time.Millisecond, 40790039062 * time.Nanosecond},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("v%d/prio%d/%s", tt.version, tt.prio, tt.interval), func(t *testing.T) {
			m := New(cfg(func(c *Config) { c.Version, c.Priority, c.AdvertInt = tt.version, tt.prio, tt.interval }))
			if got := m.SkewTime(tt.prio); got != tt.skew {
				t.Fatalf("skew %s, want %s", got, tt.skew)
			}
			mdi := 3*tt.interval + tt.skew
			if got := m.MasterDownInterval(); got != mdi {
				t.Fatalf("MDI %s, want %s", got, mdi)
			}
			m.Start(t0)
			// Nothing heard: master exactly at Master_Down_Interval.
			expect(t, "just before", m.Tick(t0.Add(mdi-time.Nanosecond)), "")
			expect(t, "at MDI", m.Tick(t0.Add(mdi)), fmt.Sprintf("advert(%d) BACKUP->MASTER add garp notify(MASTER)", tt.prio))
		})
	}
}

// §6.4.2: a Backup receiving an advert with priority ≥ its own (or any
// with preempt off) resets Master_Down_Timer.
func TestBackupResetsTimerOnAdvert(t *testing.T) {
	m := New(cfg(nil))
	m.Start(t0)
	mdi := m.MasterDownInterval()
	now := t0
	for i := 0; i < 10; i++ {
		now = now.Add(time.Second)
		expect(t, "advert", m.Receive(now, Advert{Src: peer, Priority: 150, Interval: time.Second}), "")
		expect(t, "tick", m.Tick(now.Add(mdi-time.Millisecond)), "")
	}
	if m.State() != Backup || !m.Deadline().Equal(now.Add(mdi)) {
		t.Fatalf("state %s deadline %s", m.State(), m.Deadline())
	}
}

// §6.4.2 preempt: an advert with lower priority is discarded when
// Preempt_Mode is true, so the backup takes over at Master_Down_Interval.
func TestPreempt(t *testing.T) {
	for _, preempt := range []bool{true, false} {
		t.Run(fmt.Sprint("preempt=", preempt), func(t *testing.T) {
			m := New(cfg(func(c *Config) { c.Preempt = preempt }))
			m.Start(t0)
			mdi := m.MasterDownInterval()
			now := t0
			for i := 0; i < 5; i++ {
				now = now.Add(time.Second)
				m.Receive(now, Advert{Src: peer, Priority: 50, Interval: time.Second})
			}
			m.Tick(t0.Add(mdi))
			want := Backup
			if preempt {
				want = Master
			}
			if m.State() != want {
				t.Fatalf("state %s, want %s", m.State(), want)
			}
		})
	}
}

// keepalived's preempt_delay: for that long after start, a lower master is
// not preempted.
func TestPreemptDelay(t *testing.T) {
	m := New(cfg(func(c *Config) { c.PreemptDelay = 10 * time.Second }))
	m.Start(t0)
	now := t0
	for now.Before(t0.Add(10 * time.Second)) {
		now = now.Add(time.Second)
		m.Receive(now, Advert{Src: peer, Priority: 50, Interval: time.Second})
		m.Tick(now)
		if now.Before(t0.Add(10*time.Second)) && m.State() != Backup {
			t.Fatalf("preempted at %s, before preempt_delay", now.Sub(t0))
		}
	}
	// After the delay adverts are discarded; takeover at MDI.
	for i := 0; i < 5 && m.State() == Backup; i++ {
		now = now.Add(time.Second)
		m.Receive(now, Advert{Src: peer, Priority: 50, Interval: time.Second})
		m.Tick(now)
	}
	if m.State() != Master {
		t.Fatalf("state %s after preempt_delay, want MASTER", m.State())
	}
}

// §6.4.2: priority 0 from the master → Master_Down_Timer = Skew_Time.
func TestPriorityZeroFastTakeover(t *testing.T) {
	for _, v := range []int{2, 3} {
		t.Run(fmt.Sprint("v", v), func(t *testing.T) {
			m := New(cfg(func(c *Config) { c.Version = v }))
			m.Start(t0)
			now := t0.Add(time.Second)
			m.Receive(now, Advert{Src: peer, Priority: 200, Interval: time.Second})
			now = now.Add(500 * time.Millisecond)
			m.Receive(now, Advert{Src: peer, Priority: 0, Interval: time.Second})
			skew := m.SkewTime(100)
			expect(t, "before skew", m.Tick(now.Add(skew-time.Nanosecond)), "")
			expect(t, "at skew", m.Tick(now.Add(skew)), "advert(100) BACKUP->MASTER add garp notify(MASTER)")
		})
	}
}

// §6.4.3: a Master receiving priority 0 sends an advert at once.
func TestMasterAnswersPriorityZero(t *testing.T) {
	m := New(cfg(func(c *Config) { c.InitialMaster = true }))
	m.Start(t0)
	expect(t, "prio 0", m.Receive(t0.Add(300*time.Millisecond), Advert{Src: peer, Priority: 0, Interval: time.Second}), "advert(100)")
	if m.State() != Master {
		t.Fatal(m.State())
	}
}

// §6.4.3: Master sends an advert every Advertisement_Interval.
func TestMasterAdvertises(t *testing.T) {
	m := New(cfg(func(c *Config) { c.InitialMaster = true; c.AdvertInt = 100 * time.Millisecond }))
	m.Start(t0)
	n := 0
	for now := t0; now.Before(t0.Add(time.Second)); now = now.Add(10 * time.Millisecond) {
		for _, e := range m.Tick(now) {
			if _, ok := e.(SendAdvert); ok {
				n++
			}
		}
	}
	if n != 9 { // at 0.1 .. 0.9 s (the one at 0 came with Start)
		t.Fatalf("%d adverts in 1 s at 0.1 s, want 9", n)
	}
	// Each advert's effect is made once, not boxed anew, and returned in
	// the machine's buffer: a master's interval allocates nothing.
	now := t0.Add(time.Second)
	if a := testing.AllocsPerRun(20, func() { now = now.Add(100 * time.Millisecond); m.Tick(now) }); a != 0 {
		t.Errorf("a master's advert tick allocated %v times, want none", a)
	}
}

// §6.4.3: a Master receiving a higher priority (or equal priority from a
// higher primary address) becomes Backup and releases the addresses; lower
// or equal-from-lower-address is answered with an advert.
func TestMasterYields(t *testing.T) {
	tests := []struct {
		name string
		a    Advert
		want string
	}{
		{"higher priority", Advert{Src: low, Priority: 101, Interval: time.Second}, "MASTER->BACKUP remove notify(BACKUP)"},
		{"equal priority, higher address", Advert{Src: peer, Priority: 100, Interval: time.Second}, "MASTER->BACKUP remove notify(BACKUP)"},
		{"equal priority, lower address", Advert{Src: low, Priority: 100, Interval: time.Second}, "advert(100)"},
		{"lower priority", Advert{Src: peer, Priority: 99, Interval: time.Second}, "advert(100)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New(cfg(func(c *Config) { c.InitialMaster = true }))
			m.Start(t0)
			expect(t, "receive", m.Receive(t0.Add(time.Second/2), tt.a), tt.want)
		})
	}
}

// Our own packets (source = our primary address) never change anything.
func TestOwnPacketsIgnored(t *testing.T) {
	m := New(cfg(func(c *Config) { c.InitialMaster = true }))
	m.Start(t0)
	expect(t, "own", m.Receive(t0.Add(time.Millisecond), Advert{Src: me, Priority: 254, Interval: time.Second}), "drop(own)")
	if m.State() != Master {
		t.Fatal(m.State())
	}
}

// Interval mismatch: RFC 3768 §7.1 (v2) discards the advert; RFC 5798
// §6.4.2 (v3): the backup adopts the master's interval.
func TestIntervalMismatch(t *testing.T) {
	t.Run("v2 drops", func(t *testing.T) {
		m := New(cfg(func(c *Config) { c.Version = 2 }))
		m.Start(t0)
		expect(t, "mismatch", m.Receive(t0.Add(time.Second), Advert{Src: peer, Priority: 200, Interval: 2 * time.Second}), "drop(interval)")
		// The dropped advert did not reset the timer.
		if !m.Deadline().Equal(t0.Add(m.MasterDownInterval())) {
			t.Fatalf("deadline moved to %s", m.Deadline())
		}
	})
	t.Run("v3 adopts", func(t *testing.T) {
		m := New(cfg(nil))
		m.Start(t0)
		m.Receive(t0, Advert{Src: peer, Priority: 200, Interval: 100 * time.Millisecond})
		if m.MasterAdvertInt() != 100*time.Millisecond {
			t.Fatalf("master interval %s", m.MasterAdvertInt())
		}
		want := 300*time.Millisecond + 156*100*time.Millisecond/256
		if got := m.Deadline().Sub(t0); got != want {
			t.Fatalf("Master_Down_Interval %s, want %s", got, want)
		}
		// Once master, it advertises at its own interval again.
		m.Tick(t0.Add(want))
		if m.State() != Master || !m.Deadline().Equal(t0.Add(want+time.Second)) {
			t.Fatalf("state %s deadline %s", m.State(), m.Deadline().Sub(t0))
		}
	})
}

// Shutdown: a master sends priority 0 and releases its addresses; a
// backup just stops.
func TestShutdown(t *testing.T) {
	m := New(cfg(func(c *Config) { c.InitialMaster = true }))
	m.Start(t0)
	expect(t, "master", m.Shutdown(t0.Add(time.Second)), "advert(0) MASTER->STOP remove notify(STOP) stopped")
	b := New(cfg(nil))
	b.Start(t0)
	expect(t, "backup", b.Shutdown(t0.Add(time.Second)), "BACKUP->STOP notify(STOP) stopped")
	if !b.Deadline().IsZero() || len(b.Tick(t0.Add(time.Hour))) != 0 {
		t.Fatal("timers run after stop")
	}
}

// Effective priority: weights of tracked objects, kept in 1..254; an owner
// (255) keeps 255 (keepalived).
func TestEffectivePriority(t *testing.T) {
	tests := []struct {
		name  string
		prio  int
		track []Track
		down  []TrackKey
		want  int
	}{
		{"positive weight while up", 100, []Track{{key("script a"), 20}}, nil, 120},
		{"positive weight lost when down", 100, []Track{{key("script a"), 20}}, []TrackKey{key("script a")}, 100},
		{"negative weight when down", 100, []Track{{key("interface eth1"), -30}}, []TrackKey{key("interface eth1")}, 70},
		{"negative weight unused when up", 100, []Track{{key("interface eth1"), -30}}, nil, 100},
		{"clamped high", 250, []Track{{key("script a"), 50}}, nil, 254},
		{"clamped low", 10, []Track{{key("script a"), -50}}, []TrackKey{key("script a")}, 1},
		{"owner keeps 255", 255, []Track{{key("script a"), -50}}, []TrackKey{key("script a")}, 255},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New(cfg(func(c *Config) { c.Priority = tt.prio; c.Tracks = tt.track }))
			m.Start(t0)
			for _, k := range tt.down {
				m.SetTrack(t0, k, false)
			}
			if got := m.Priority(); got != tt.want {
				t.Fatalf("priority %d, want %d", got, tt.want)
			}
		})
	}
}

// Tracks says, per tracked object, whether it is up and what it does to
// the instance now: the weight it adds to the priority, or FAULT.
func TestTracksExplainPriority(t *testing.T) {
	tracks := []Track{{key("interface eth0"), 0}, {key("script up"), 20}, {key("script down"), -30}, {key("interface eth1"), 10}, {key("script fault"), 0}}
	tests := []struct {
		name string
		prio int
		down []TrackKey
		want []TrackState
	}{
		{
			name: "all up: only positive weights apply",
			prio: 100,
			want: []TrackState{
				{Track: tracks[0], Up: true}, {Track: tracks[1], Up: true, Applied: 20},
				{Track: tracks[2], Up: true}, {Track: tracks[3], Up: true, Applied: 10}, {Track: tracks[4], Up: true},
			},
		},
		{
			name: "down: negative weight applies, positive lost, weight 0 is the fault",
			prio: 100,
			down: []TrackKey{key("script down"), key("interface eth1"), key("script fault")},
			want: []TrackState{
				{Track: tracks[0], Up: true}, {Track: tracks[1], Up: true, Applied: 20},
				{Track: tracks[2], Applied: -30}, {Track: tracks[3]}, {Track: tracks[4], Fault: true},
			},
		},
		{
			name: "owner: weights ignored, faults not",
			prio: 255,
			down: []TrackKey{key("script down"), key("interface eth0")},
			want: []TrackState{
				{Track: tracks[0], Fault: true}, {Track: tracks[1], Up: true},
				{Track: tracks[2]}, {Track: tracks[3], Up: true}, {Track: tracks[4], Up: true},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New(cfg(func(c *Config) { c.Priority = tt.prio; c.Tracks = tracks }))
			m.Start(t0)
			for _, k := range tt.down {
				m.SetTrack(t0, k, false)
			}
			got := slices.Collect(m.Tracks())
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Tracks()\n got %+v\nwant %+v", got, tt.want)
			}
			sum := tt.prio
			for _, ts := range got {
				sum += ts.Applied
			}
			if tt.prio < 255 && min(max(sum, 1), 254) != m.Priority() {
				t.Errorf("applied weights sum to %d, Priority() = %d", sum, m.Priority())
			}
		})
	}
}

// A weight-0 tracked object going down puts the instance in FAULT (a master
// first sends priority 0); coming back up returns it to BACKUP.
func TestTrackFault(t *testing.T) {
	m := New(cfg(func(c *Config) { c.InitialMaster = true; c.Tracks = []Track{{Key: key("interface eth1")}} }))
	m.Start(t0)
	expect(t, "down", m.SetTrack(t0.Add(time.Second), key("interface eth1"), false), "advert(0) MASTER->FAULT remove notify(FAULT)")
	expect(t, "tick in fault", m.Tick(t0.Add(time.Hour)), "")
	expect(t, "advert in fault", m.Receive(t0.Add(time.Hour), Advert{Src: peer, Priority: 1, Interval: time.Second}), "drop(not running (FAULT))")
	expect(t, "up", m.SetTrack(t0.Add(2*time.Hour), key("interface eth1"), true), "FAULT->BACKUP notify(BACKUP)")
}

// A lowered priority is carried by the next advert and lets a preempting
// backup take over (the track_script weight use case).
func TestPriorityChangeCarried(t *testing.T) {
	m := New(cfg(func(c *Config) { c.InitialMaster = true; c.Tracks = []Track{{key("script chk"), -60}} }))
	m.Start(t0)
	expect(t, "script fails", m.SetTrack(t0.Add(100*time.Millisecond), key("script chk"), false), "")
	expect(t, "next advert", m.Tick(t0.Add(time.Second)), "advert(40)")
}

// Two machines wired together on a simulated link: the higher priority
// ends up master whichever starts first, and exactly one master remains.
func TestTwoPeersConverge(t *testing.T) {
	for _, aFirst := range []bool{true, false} {
		a := New(cfg(func(c *Config) { c.Priority = 150; c.Primary = low; c.InitialMaster = true }))
		b := New(cfg(func(c *Config) { c.Priority = 100; c.Primary = peer; c.InitialMaster = true }))
		ms := []*Machine{a, b}
		if !aFirst {
			ms = []*Machine{b, a}
		}
		deliver := func(now time.Time, from *Machine, es []Effect) {
			for _, e := range es {
				if s, ok := e.(SendAdvert); ok {
					for _, to := range ms {
						if to != from {
							to.Receive(now, Advert{Src: from.cfg.Primary, Priority: s.Priority, Interval: s.Interval})
						}
					}
				}
			}
		}
		now := t0
		for i, m := range ms {
			deliver(now.Add(time.Duration(i)*time.Second), m, m.Start(now.Add(time.Duration(i)*time.Second)))
		}
		for ; now.Before(t0.Add(20 * time.Second)); now = now.Add(10 * time.Millisecond) {
			for _, m := range ms {
				deliver(now, m, m.Tick(now))
			}
		}
		if a.State() != Master || b.State() != Backup {
			t.Fatalf("aFirst=%v: a %s b %s", aFirst, a.State(), b.State())
		}
	}
}

// Sync groups: members move together.
func TestSyncGroup(t *testing.T) {
	a := New(cfg(func(c *Config) { c.Name = "VI_A"; c.Tracks = []Track{{Key: key("interface eth1")}} }))
	b := New(cfg(func(c *Config) { c.Name = "VI_B"; c.VRID = 52 }))
	g := &Group{Name: "G", Members: []*Machine{a, b}}
	a.Start(t0)
	b.Start(t0)
	// A becomes master by timeout: B follows at once.
	es := a.Tick(t0.Add(a.MasterDownInterval()))
	tr := es[1].(Transition)
	got := g.Follow(t0, a, tr)
	if b.State() != Master || !reflect.DeepEqual(kinds(got[b]), "advert(100) BACKUP->MASTER add garp notify(MASTER)") {
		t.Fatalf("b %s effects %q", b.State(), kinds(got[b]))
	}
	// Follow's effects are the members' own copies: a call on b (as
	// applying them may make) leaves them as they were.
	b.Receive(t0, Advert{Src: peer, Priority: 200, Interval: time.Second})
	if k := kinds(got[b]); k != "advert(100) BACKUP->MASTER add garp notify(MASTER)" {
		t.Fatalf("b's effects from Follow became %q after a call on b", k)
	}
	// cascade feeds every transition back into Follow, as the runtime does.
	var cascade func(from *Machine, es []Effect)
	cascade = func(from *Machine, es []Effect) {
		es = slices.Clone(es) // from's buffer, which following may reuse
		for _, e := range es {
			if tr, ok := e.(Transition); ok {
				for m, fe := range g.Follow(t0, from, tr) {
					cascade(m, fe)
				}
			}
		}
	}
	// A faults: B is forced into FAULT too.
	cascade(a, a.SetTrack(t0.Add(time.Second), key("interface eth1"), false))
	if b.State() != Fault {
		t.Fatalf("b %s after a's fault", b.State())
	}
	// A recovers: B leaves FAULT as well (B's forced FAULT must not hold A).
	cascade(a, a.SetTrack(t0.Add(2*time.Second), key("interface eth1"), true))
	if a.State() != Backup || b.State() != Backup {
		t.Fatalf("a %s b %s after recovery", a.State(), b.State())
	}
}

// A deterministic machine: the same inputs give the same effects.
func TestDeterministic(t *testing.T) {
	run := func() string {
		m := New(cfg(func(c *Config) { c.AdvertInt = 100 * time.Millisecond }))
		var all []Effect
		all = append(all, m.Start(t0)...)
		for i := 0; i < 100; i++ {
			now := t0.Add(time.Duration(i) * 37 * time.Millisecond)
			if i%7 == 0 && i < 50 {
				all = append(all, m.Receive(now, Advert{Src: peer, Priority: 120, Interval: 100 * time.Millisecond})...)
			}
			all = append(all, m.Tick(now)...)
		}
		return kinds(all)
	}
	if a, b := run(), run(); a != b || a == "" {
		t.Fatalf("runs differ or empty:\n%s\n%s", a, b)
	}
}

// key makes a TrackKey of "KIND NAME".
func key(s string) TrackKey {
	kind, name, _ := strings.Cut(s, " ")
	return TrackKey{Kind: kind, Name: name}
}

// Changes moves whenever what a status shows (state, priority, tracks,
// configuration) changes, and stays put for an advert that changes none
// of it: the daemon skips rebuilding its status on that.
func TestChanges(t *testing.T) {
	m := New(cfg(func(c *Config) { c.Tracks = []Track{{key("script chk"), -30}, {key("interface eth1"), 0}} }))
	type shown struct {
		state  State
		prio   int
		cfg    string
		tracks string
	}
	show := func() shown {
		return shown{m.State(), m.Priority(), fmt.Sprint(m.Config()), fmt.Sprint(slices.Collect(m.Tracks()))}
	}
	now := t0
	steps := []struct {
		name string
		do   func()
		same bool // nothing shown changes
	}{
		{"start", func() { m.Start(now) }, false},
		{"higher master's advert", func() { m.Receive(now, Advert{Src: peer, Priority: 150, Interval: time.Second}) }, true},
		{"its next advert", func() { m.Receive(now.Add(time.Second), Advert{Src: peer, Priority: 150, Interval: time.Second}) }, true},
		{"script down", func() { m.SetTrack(now, key("script chk"), false) }, false},
		{"script down again", func() { m.SetTrack(now, key("script chk"), false) }, true},
		{"link down: fault", func() { m.SetTrack(now, key("interface eth1"), false) }, false},
		{"link up", func() { m.SetTrack(now, key("interface eth1"), true) }, false},
		{"master gone", func() { m.Tick(now.Add(10 * time.Second)) }, false},
		{"forced fault", func() { m.ForceFault(now.Add(10*time.Second), "group") }, false},
		{"fault lifted", func() { m.ForceFault(now.Add(10*time.Second), "") }, false},
		{"new priority", func() {
			m.Reconfigure(now.Add(10*time.Second), cfg(func(c *Config) { c.Priority = 120; c.Tracks = m.Config().Tracks }), nil)
		}, false},
	}
	for _, s := range steps {
		before, n := show(), m.Changes()
		s.do()
		after := show()
		if s.same && after != before {
			t.Fatalf("%s: the test's step changed %+v to %+v", s.name, before, after)
		}
		if after != before && m.Changes() == n {
			t.Errorf("%s: %+v became %+v and Changes stayed %d", s.name, before, after, n)
		}
		if s.same && m.Changes() != n {
			t.Errorf("%s: nothing shown changed, yet Changes moved from %d to %d", s.name, n, m.Changes())
		}
	}
}
