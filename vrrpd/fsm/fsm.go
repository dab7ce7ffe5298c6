// Package fsm is the VRRP protocol as a pure, deterministic state machine
// (the etcd raft pattern): the caller feeds it inputs — received
// advertisements, the time, tracking events, shutdown — and carries out the
// effects it returns (send an advertisement, own or release the addresses,
// gratuitous ARP, notify). It does no I/O and reads no clock, so tests drive
// it with a simulated clock, one test per rule of RFC 5798 §6.
package fsm

import (
	"fmt"
	"iter"
	"net/netip"
	"time"
)

// State is a VRRP state, named as keepalived names them in notify scripts.
type State string

const (
	Init   State = "INIT"
	Backup State = "BACKUP"
	Master State = "MASTER"
	Fault  State = "FAULT"
	Stop   State = "STOP"
)

// Config is one virtual router's protocol settings.
type Config struct {
	Name    string
	VRID    uint8
	Version int // 2 or 3
	// Priority is the configured priority 1..255; 255 is the address owner.
	Priority  int
	AdvertInt time.Duration
	// Preempt: a higher-priority backup takes over from a lower master.
	Preempt bool
	// PreemptDelay: after start, a higher-priority backup waits this long
	// before preempting a lower master (keepalived's preempt_delay).
	PreemptDelay time.Duration
	// InitialMaster: keepalived's `state MASTER` — start as master at once.
	InitialMaster bool
	// Primary is our address on the link (breaks priority ties).
	Primary netip.Addr
	// Tracks are the tracked objects (interfaces, scripts) with weights.
	Tracks []Track
}

// Track is one tracked object. Weight 0: down puts the instance in FAULT.
// Weight > 0 is added to the priority while up; weight < 0 is added while
// down (keepalived's track_interface / track_script semantics).
type Track struct {
	Key    TrackKey
	Weight int
}

// TrackKey names a tracked object. The machine only compares keys; the
// caller says what they are (vrrpd: a link, a script, a source address).
type TrackKey struct {
	Kind string // e.g. "interface", "script"
	Name string // e.g. "eth1", "chk_nginx"
	// Qualifier tells apart objects of one kind and name (vrrpd: a
	// source address's family, "IPv4" or "IPv6"); usually "".
	Qualifier string
}

// String names the object in reasons: "interface eth1", "source eth0 IPv4".
func (k TrackKey) String() string {
	if k.Qualifier != "" {
		return k.Kind + " " + k.Name + " " + k.Qualifier
	}
	return k.Kind + " " + k.Name
}

// Advert is a received advertisement, already validated by the codec and
// the runtime (TTL, checksum, VRID, authentication).
type Advert struct {
	Src      netip.Addr
	Priority int
	Interval time.Duration
}

// Effect is something the caller must do.
type Effect interface{ isEffect() }

// SendAdvert: send one advertisement with this priority and interval.
type SendAdvert struct {
	Priority int
	Interval time.Duration
}

// Transition: the state changed; log it with Reason.
type Transition struct {
	From, To State
	Reason   string
	Priority int // effective priority at the transition
}

// AddAddresses: own the virtual addresses (reconcile the kernel).
type AddAddresses struct{}

// RemoveAddresses: release the virtual addresses.
type RemoveAddresses struct{}

// SendGARP: announce the addresses (gratuitous ARP / unsolicited NA) — the
// caller does it after the addresses are in place.
type SendGARP struct{}

// Notify: run the notify scripts for State.
type Notify struct {
	State    State
	Priority int
}

// Drop: an advertisement was ignored; count it by Reason.
type Drop struct{ Reason string }

// Stopped: the machine is stopped; no more inputs are expected.
type Stopped struct{}

func (SendAdvert) isEffect()      {}
func (Transition) isEffect()      {}
func (AddAddresses) isEffect()    {}
func (RemoveAddresses) isEffect() {}
func (SendGARP) isEffect()        {}
func (Notify) isEffect()          {}
func (Drop) isEffect()            {}
func (Stopped) isEffect()         {}

// Machine is one VRRP virtual router. The effects its methods return are
// valid until the next call of one of them: they share its buffer.
type Machine struct {
	cfg   Config
	state State
	// masterAdvInt is the master's interval (v3 backups adopt it).
	masterAdvInt time.Duration
	// Timers as absolute deadlines on the caller's clock; zero = not running.
	masterDown time.Time
	adver      time.Time
	// preemptAfter: a lower master may not be preempted before this time.
	preemptAfter time.Time
	trackUp      map[TrackKey]bool
	// forced holds the reason of a sync-group-imposed FAULT, if any.
	forcedFault string
	out         []Effect
	// sent is the last SendAdvert emitted, and sentEffect the same as an
	// Effect: a master emits one every interval, the same but for a
	// priority change, and boxing it anew each time would allocate.
	sent       SendAdvert
	sentEffect Effect
	// changes counts the changes to the state, the configuration and the
	// tracked objects' states (Changes).
	changes uint64
}

// New returns a machine in Init. Tracks start up, except those listed in
// down (e.g. scripts with init_fail, links already down).
func New(cfg Config) *Machine {
	if cfg.AdvertInt <= 0 {
		cfg.AdvertInt = time.Second
	}
	m := &Machine{cfg: cfg, state: Init, masterAdvInt: cfg.AdvertInt, trackUp: map[TrackKey]bool{}}
	for _, t := range cfg.Tracks {
		m.trackUp[t.Key] = true
	}
	return m
}

// State is the current state.
func (m *Machine) State() State { return m.state }

// Config returns the machine's configuration.
func (m *Machine) Config() Config { return m.cfg }

// MasterAdvertInt is the interval the current master advertises (our own
// when we are master or have heard nobody).
func (m *Machine) MasterAdvertInt() time.Duration { return m.masterAdvInt }

// Priority is the effective priority: the configured one plus tracking
// weights, kept in 1..254; an address owner (255) keeps 255 (keepalived
// ignores weights on owners).
func (m *Machine) Priority() int {
	if m.cfg.Priority >= 255 {
		return 255
	}
	p := m.cfg.Priority
	for _, t := range m.cfg.Tracks {
		p += m.applied(t)
	}
	return min(max(p, 1), 254)
}

// applied is what track t adds to the priority now: its weight while up
// (weight > 0) or while down (weight < 0), else 0; nothing on an address
// owner, which keeps 255.
func (m *Machine) applied(t Track) int {
	up := m.trackUp[t.Key]
	if m.cfg.Priority < 255 && (t.Weight > 0 && up || t.Weight < 0 && !up) {
		return t.Weight
	}
	return 0
}

// TrackState is one tracked object as the machine sees it: whether it is
// up, and what it does to the machine now.
type TrackState struct {
	Track
	Up bool
	// Applied is the weight added to the priority now (Priority's sum,
	// before it is kept in 1..254).
	Applied int
	// Fault: a weight-0 object that is down; the machine is in FAULT
	// because of it.
	Fault bool
}

// Tracks yields every tracked object's state, in configuration order,
// with no copy made: the status, its one reader, builds its own.
func (m *Machine) Tracks() iter.Seq[TrackState] {
	return func(yield func(TrackState) bool) {
		for _, t := range m.cfg.Tracks {
			up := m.trackUp[t.Key]
			if !yield(TrackState{Track: t, Up: up, Applied: m.applied(t), Fault: t.Weight == 0 && !up}) {
				return
			}
		}
	}
}

// TrackCount is the number of tracked objects Tracks yields.
func (m *Machine) TrackCount() int { return len(m.cfg.Tracks) }

// Changes counts the changes to what State, Priority, Config and Tracks
// return. A caller that shows them (the daemon's status, rebuilt after
// every advert otherwise) compares it instead of them.
func (m *Machine) Changes() uint64 { return m.changes }

// faultReason is why the machine must be in FAULT, or "".
func (m *Machine) faultReason() string {
	for _, t := range m.cfg.Tracks {
		if t.Weight == 0 && !m.trackUp[t.Key] {
			return t.Key.String() + " is down"
		}
	}
	return m.forcedFault
}

// SkewTime is RFC 3768 / 5798's Skew_Time for a priority.
func (m *Machine) SkewTime(prio int) time.Duration {
	if m.cfg.Version == 2 {
		return time.Duration(256-prio) * time.Second / 256
	}
	return time.Duration(256-prio) * m.masterAdvInt / 256
}

// MasterDownInterval is 3 × the master's interval + Skew_Time.
func (m *Machine) MasterDownInterval() time.Duration {
	return 3*m.masterAdvInt + m.SkewTime(m.Priority())
}

// Deadline is when the caller must call Tick next (zero: no timer runs).
func (m *Machine) Deadline() time.Time {
	switch m.state {
	case Master:
		return m.adver
	case Backup:
		return m.masterDown
	}
	return time.Time{}
}

func (m *Machine) emit(e ...Effect) { m.out = append(m.out, e...) }

// flush returns the effects emitted since the last call, in the
// machine's buffer: a master's advert then allocates nothing, and the
// effects a caller gets are valid until its next call on the machine.
func (m *Machine) flush() []Effect {
	out := m.out
	m.out = m.out[:0]
	return out
}

func (m *Machine) become(to State, reason string) {
	from := m.state
	m.state = to
	m.changes++
	m.emit(Transition{From: from, To: to, Reason: reason, Priority: m.Priority()})
	switch to {
	case Master:
		m.emit(AddAddresses{}, SendGARP{})
	case Backup, Fault, Stop:
		if from == Master {
			m.emit(RemoveAddresses{})
		}
	}
	if to != Init {
		m.emit(Notify{State: to, Priority: m.Priority()})
	}
}

func (m *Machine) advert(now time.Time, prio int) {
	m.emit(m.sendAdvert(prio))
	m.adver = now.Add(m.cfg.AdvertInt)
}

// sendAdvert is the effect SendAdvert{prio, the advert interval}.
func (m *Machine) sendAdvert(prio int) Effect {
	if e := (SendAdvert{Priority: prio, Interval: m.cfg.AdvertInt}); m.sentEffect == nil || e != m.sent {
		m.sent, m.sentEffect = e, e
	}
	return m.sentEffect
}

func (m *Machine) toMaster(now time.Time, reason string) {
	m.masterAdvInt = m.cfg.AdvertInt
	m.advert(now, m.Priority())
	m.become(Master, reason)
}

func (m *Machine) toBackup(now time.Time, reason string) {
	m.masterDown = now.Add(m.MasterDownInterval())
	m.become(Backup, reason)
}

// Start leaves Init (RFC 5798 §6.4.1): the address owner, or an instance
// configured `state MASTER`, becomes master at once; others backup. A
// tracked object already down puts it in FAULT instead.
func (m *Machine) Start(now time.Time) []Effect {
	if m.state != Init {
		return nil
	}
	m.preemptAfter = now.Add(m.cfg.PreemptDelay)
	switch {
	case m.faultReason() != "":
		m.become(Fault, m.faultReason())
	case m.cfg.Priority >= 255:
		m.toMaster(now, "priority 255: address owner")
	case m.cfg.InitialMaster:
		m.toMaster(now, "initial state MASTER")
	default:
		m.toBackup(now, "initial state BACKUP")
	}
	return m.flush()
}

// Tick fires the timers due at now.
func (m *Machine) Tick(now time.Time) []Effect {
	switch m.state {
	case Master:
		if !m.adver.IsZero() && !now.Before(m.adver) {
			m.advert(now, m.Priority())
		}
	case Backup:
		if !m.masterDown.IsZero() && !now.Before(m.masterDown) {
			m.toMaster(now, fmt.Sprintf("no advertisement for Master_Down_Interval %s", m.MasterDownInterval()))
		}
	}
	return m.flush()
}

// higher reports whether the advert wins over our priority p (RFC 5798
// §6.4.3: higher priority, or equal priority and a higher primary address).
func (m *Machine) higher(a Advert, p int) bool {
	return a.Priority > p || a.Priority == p && a.Src.Compare(m.cfg.Primary) > 0
}

// Receive handles a validated advertisement.
func (m *Machine) Receive(now time.Time, a Advert) []Effect {
	if a.Src == m.cfg.Primary {
		m.emit(Drop{Reason: "own"})
		return m.flush()
	}
	// RFC 3768 §7.1: a v2 advert whose interval differs is discarded.
	if m.cfg.Version == 2 && a.Interval != m.cfg.AdvertInt {
		m.emit(Drop{Reason: "interval"})
		return m.flush()
	}
	prio := m.Priority()
	switch m.state {
	case Backup:
		switch {
		case a.Priority == 0:
			// The master resigned: take over after Skew_Time only.
			m.masterDown = now.Add(m.SkewTime(prio))
		case !m.cfg.Preempt || a.Priority >= prio || now.Before(m.preemptAfter):
			if m.cfg.Version == 3 {
				m.masterAdvInt = a.Interval
			}
			m.masterDown = now.Add(m.MasterDownInterval())
		default:
			// Lower-priority master and we preempt: ignore it, so that our
			// Master_Down_Timer fires and we take over.
			m.emit(Drop{Reason: "lower priority, preempting"})
		}
	case Master:
		switch {
		case a.Priority == 0:
			m.advert(now, prio)
		case m.higher(a, prio):
			if m.cfg.Version == 3 {
				m.masterAdvInt = a.Interval
			}
			m.adver = time.Time{}
			m.toBackup(now, fmt.Sprintf("higher priority advertisement from %s (priority %d, ours %d)", a.Src, a.Priority, prio))
		default:
			// keepalived answers a lower-priority master at once, so that a
			// healed partition converges within one interval.
			m.advert(now, prio)
		}
	default:
		m.emit(Drop{Reason: "not running (" + string(m.state) + ")"})
	}
	return m.flush()
}

// SetTrack records a tracked object's state and applies the consequences:
// FAULT when a weight-0 object is down, back to BACKUP (or MASTER for an
// owner) when all are up again; otherwise only the priority changes, which
// the next advertisement carries.
func (m *Machine) SetTrack(now time.Time, key TrackKey, up bool) []Effect {
	if _, ok := m.trackUp[key]; !ok || m.trackUp[key] == up {
		return nil
	}
	m.trackUp[key] = up
	m.changes++
	m.reevaluate(now, key.String())
	return m.flush()
}

// ForceFault puts the machine in FAULT (reason != "") or lifts a forced
// fault (reason == ""); sync groups use it.
func (m *Machine) ForceFault(now time.Time, reason string) []Effect {
	if m.forcedFault == reason {
		return nil
	}
	m.forcedFault = reason
	m.reevaluate(now, "sync group")
	return m.flush()
}

func (m *Machine) reevaluate(now time.Time, what string) {
	if m.state == Init || m.state == Stop {
		return
	}
	r := m.faultReason()
	switch {
	case r != "" && m.state != Fault:
		if m.state == Master {
			// Tell the backups to take over now rather than after
			// Master_Down_Interval (keepalived does the same).
			m.emit(m.sendAdvert(0))
		}
		m.become(Fault, r)
	case r == "" && m.state == Fault:
		if m.cfg.Priority >= 255 {
			m.toMaster(now, "fault cleared; priority 255: address owner")
		} else {
			m.toBackup(now, "fault cleared: "+what+" is up")
		}
	}
	// Otherwise only the priority changed: the next advertisement carries it.
}

// ForceMaster makes a backup master now (sync group: a member became
// master); ForceBackup makes a master backup (a member lost mastership).
func (m *Machine) ForceMaster(now time.Time, reason string) []Effect {
	if m.state == Backup {
		m.toMaster(now, reason)
	}
	return m.flush()
}

// ForceBackup makes a master backup.
func (m *Machine) ForceBackup(now time.Time, reason string) []Effect {
	if m.state == Master {
		m.adver = time.Time{}
		m.toBackup(now, reason)
	}
	return m.flush()
}

// Shutdown stops the machine: a master sends priority 0 (RFC 5798 §6.4.3)
// so that a backup takes over after Skew_Time, and releases its addresses.
func (m *Machine) Shutdown(now time.Time) []Effect {
	if m.state == Stop {
		return nil
	}
	if m.state == Master {
		m.emit(m.sendAdvert(0))
	}
	m.adver, m.masterDown = time.Time{}, time.Time{}
	m.become(Stop, "shutdown")
	m.emit(Stopped{})
	return m.flush()
}

// Reconfigure applies new settings to a running machine in place (a reload
// of an instance whose identity — VRID, interface, family, version — is
// unchanged). State and timers are kept: no re-election, no gap in the
// adverts. What the new settings change follows RFC 5798 §6 as if they had
// always been in force:
//
//   - A master advertises its new priority or interval at once, so that a
//     backup with a now higher priority (and preempt) sees a lower master
//     and takes over after its Master_Down_Interval; a master whose
//     priority rises keeps the role.
//   - A backup keeps listening; if its priority now beats the master's and
//     it preempts, the master's next advert is ignored and its timer fires.
//     An address owner (255) never waits: it becomes master now.
//   - Tracks that appear start in the state given in initial (the tracked
//     object's last known state; absent = up); tracks that go are
//     forgotten. A weight-0 track down puts the machine in FAULT, and a
//     FAULT whose cause is gone ends, as for a tracking event.
//   - A changed preempt_delay counts from now.
//
// Calling it with the running configuration returns no effects.
func (m *Machine) Reconfigure(now time.Time, cfg Config, initial map[TrackKey]bool) []Effect {
	if cfg.AdvertInt <= 0 {
		cfg.AdvertInt = time.Second
	}
	old := m.cfg
	oldPrio := m.Priority()
	m.cfg = cfg
	m.changes++
	keep := map[TrackKey]bool{}
	for _, t := range cfg.Tracks {
		keep[t.Key] = true
		if _, ok := m.trackUp[t.Key]; !ok {
			up, known := initial[t.Key]
			m.trackUp[t.Key] = up || !known
		}
	}
	for k := range m.trackUp {
		if !keep[k] {
			delete(m.trackUp, k)
		}
	}
	if cfg.PreemptDelay != old.PreemptDelay {
		m.preemptAfter = now.Add(cfg.PreemptDelay)
	}
	// Our own interval is the master interval while we are master or have
	// heard nobody; v2 has only one interval (RFC 3768: mismatches drop).
	if m.state != Backup || cfg.Version == 2 || m.masterAdvInt == old.AdvertInt {
		m.masterAdvInt = cfg.AdvertInt
	}
	if m.state == Init || m.state == Stop {
		return m.flush()
	}
	m.reevaluate(now, "reload")
	switch m.state {
	case Master:
		if m.Priority() != oldPrio || cfg.AdvertInt != old.AdvertInt {
			m.advert(now, m.Priority())
		}
	case Backup:
		if cfg.Priority >= 255 {
			m.toMaster(now, "reload: priority 255: address owner")
		}
	}
	return m.flush()
}
