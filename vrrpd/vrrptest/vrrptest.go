// Package vrrptest is a network in memory for tests of vrrpd's runtime,
// as raft tests its node with a fake transport: a vrrpd.Transport whose
// links, addresses and link states the test sets, which records what the
// daemon does on the wire (adverts, gratuitous ARP / NA, address reads,
// sockets opened and closed) as Events on the test's clock, and into which
// the test delivers packets. Tests only: nothing the binaries link
// imports it, and nothing in it needs root.
package vrrptest

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/lbx-dev/lbx/internal/clock"
	"github.com/lbx-dev/lbx/vrrpd"
	"github.com/lbx-dev/lbx/vrrpd/packet"
)

// Kinds of Event.
const (
	Open     = "open"     // a link's socket opened
	Close    = "close"    // a link's socket closed
	Send     = "send"     // an advert sent (Packet, Src, Dst)
	Announce = "announce" // one round of GARP / NA (Addrs)
	Addrs    = "addrs"    // a link's addresses read
)

// Event is one thing the daemon did on the network.
type Event struct {
	At     time.Time // on the transport's clock
	Kind   string
	Link   string // the interface
	V6     bool
	Packet *packet.Packet // Send
	Src    netip.Addr     // Send
	Dst    netip.Addr     // Send
	Addrs  []netip.Addr   // Announce
}

// Transport is a vrrpd.Transport in memory. Links are up and have no
// addresses until the test says otherwise.
type Transport struct {
	clk clock.Clock

	mu      sync.Mutex
	events  []Event
	changed chan struct{} // closed and replaced at every new event
	open    map[linkID]*Link
	addrs   map[string][]netip.Addr
	addrErr map[string]error
	openErr map[string]error
	annErr  map[string]error
	down    map[string]bool
	index   map[string]int // the interfaces' indexes; Recreate changes one
	indexes int            // the last index given
	watches []*watch
}

type linkID struct {
	name string
	v6   bool
}

// watch is one WatchLinks or WatchAddrs call, fed by SetUp and SetAddrs.
type watch struct {
	names []string
	links chan vrrpd.LinkState // WatchLinks
	addrs chan string          // WatchAddrs
}

var _ vrrpd.Transport = (*Transport)(nil)

// New returns an empty network whose events are stamped with clk's time.
func New(clk clock.Clock) *Transport {
	return &Transport{clk: clk, changed: make(chan struct{}), open: map[linkID]*Link{},
		addrs: map[string][]netip.Addr{}, addrErr: map[string]error{}, openErr: map[string]error{}, annErr: map[string]error{}, down: map[string]bool{}, index: map[string]int{}}
}

// record appends an event. t.mu held.
func (t *Transport) record(e Event) {
	e.At = t.clk.Now()
	t.events = append(t.events, e)
	close(t.changed)
	t.changed = make(chan struct{})
}

// Events returns what happened so far, in order.
func (t *Transport) Events() []Event {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.events)
}

// Await waits until cond holds for the events so far, or until timeout
// passes in real time (a safety net for a broken daemon, not a pace: the
// events come as fast as the daemon makes them). It returns the events and
// whether cond held.
func (t *Transport) Await(timeout time.Duration, cond func([]Event) bool) ([]Event, bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		t.mu.Lock()
		evs, ch := slices.Clone(t.events), t.changed
		t.mu.Unlock()
		if cond(evs) {
			return evs, true
		}
		select {
		case <-ch:
		case <-deadline.C:
			return evs, false
		}
	}
}

// Filter returns the events of a kind on a link.
func Filter(evs []Event, kind, link string) []Event {
	var out []Event
	for _, e := range evs {
		if e.Kind == kind && e.Link == link {
			out = append(out, e)
		}
	}
	return out
}

// SetAddrs sets an interface's addresses and tells the address watchers.
func (t *Transport) SetAddrs(ifname string, addrs ...netip.Addr) {
	t.mu.Lock()
	t.addrs[ifname] = addrs
	delete(t.addrErr, ifname)
	t.mu.Unlock()
	t.tell(ifname, nil)
}

// FailAddrs makes reading an interface's addresses fail with err (EMFILE,
// say) until SetAddrs; the watchers are not told (the kernel would not).
func (t *Transport) FailAddrs(ifname string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.addrErr[ifname] = err
}

// FailOpen makes opening an interface's links fail with err (a missing
// interface, say); nil lets them open again.
func (t *Transport) FailOpen(ifname string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.openErr[ifname] = err
}

// FailAnnounce makes opening an interface's announcers fail with err; nil
// lets them open again.
func (t *Transport) FailAnnounce(ifname string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.annErr[ifname] = err
}

// SetUp sets a link's state and tells the link watchers.
func (t *Transport) SetUp(ifname string, up bool) {
	t.mu.Lock()
	t.down[ifname] = !up
	t.mu.Unlock()
	t.tell(ifname, &up)
}

// tell feeds the watchers of ifname: a link state, or (up nil) an address
// change.
func (t *Transport) tell(ifname string, up *bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, w := range t.watches {
		if !slices.Contains(w.names, ifname) {
			continue
		}
		switch {
		case up != nil && w.links != nil:
			w.links <- t.linkState(ifname, *up)
		case up == nil && w.addrs != nil:
			w.addrs <- ifname
		}
	}
}

// linkState is name's state as a watcher reports it (t.mu held).
func (t *Transport) linkState(name string, up bool) vrrpd.LinkState {
	if up {
		return vrrpd.LinkState{Name: name, Up: true, Reason: "link " + name + " is up", Index: t.indexOf(name)}
	}
	return vrrpd.LinkState{Name: name, Reason: "link " + name + " is down"}
}

// indexOf is the index of the interface called name, one given at its
// first use (t.mu held).
func (t *Transport) indexOf(name string) int {
	if t.index[name] == 0 {
		t.indexes++
		t.index[name] = t.indexes
	}
	return t.index[name]
}

// Recreate deletes the interface and makes it again under its name, up:
// it gets another index, the links opened on the old one hear nothing
// more (they stay open until closed), and the link watchers are told.
func (t *Transport) Recreate(ifname string) {
	t.mu.Lock()
	t.indexes++
	t.index[ifname] = t.indexes
	for id := range t.open {
		if id.name == ifname {
			delete(t.open, id)
		}
	}
	delete(t.down, ifname)
	t.mu.Unlock()
	up := true
	t.tell(ifname, &up)
}

// Deliver hands a packet to the open link of ifname and family, as if
// received.
func (t *Transport) Deliver(ifname string, v6 bool, r vrrpd.Received) error {
	t.mu.Lock()
	l := t.open[linkID{ifname, v6}]
	t.mu.Unlock()
	if l == nil {
		return fmt.Errorf("vrrptest: no open link %s (IPv6 %v)", ifname, v6)
	}
	select {
	case l.rx <- r:
		return nil
	case <-l.closed:
		return fmt.Errorf("vrrptest: link %s closed", ifname)
	}
}

// DeliverAdvert delivers p as sent by src to the VRRP group of its family,
// with the TTL a valid advert has.
func (t *Transport) DeliverAdvert(ifname string, p *packet.Packet, src netip.Addr) error {
	dst := packet.Group4
	if src.Is6() {
		dst = packet.Group6
	}
	b, err := packet.Marshal(p, src, dst)
	if err != nil {
		return err
	}
	return t.Deliver(ifname, src.Is6(), vrrpd.Received{Data: b, Src: src, Dst: dst, TTL: packet.TTL})
}

// Open opens a link; one per interface and family at a time.
func (t *Transport) Open(ifname string, v6 bool) (vrrpd.Link, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.openErr[ifname]; err != nil {
		return nil, err
	}
	id := linkID{ifname, v6}
	if t.open[id] != nil {
		return nil, fmt.Errorf("vrrptest: link %s (IPv6 %v) opened twice", ifname, v6)
	}
	l := &Link{t: t, id: id, index: t.indexOf(ifname), rx: make(chan vrrpd.Received, 16), closed: make(chan struct{})}
	t.open[id] = l
	t.record(Event{Kind: Open, Link: ifname, V6: v6})
	return l, nil
}

// Announcer returns a sender that records each round.
func (t *Transport) Announcer(ifname string, v6 bool, src netip.Addr) (vrrpd.Announcer, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.annErr[ifname]; err != nil {
		return nil, err
	}
	return &announcer{t: t, link: ifname, v6: v6}, nil
}

// WatchLinks reports each named link's state at the start, then each
// SetUp of one of them, until ctx ends.
func (t *Transport) WatchLinks(ctx context.Context, names []string, report func(vrrpd.LinkState)) {
	w := t.watch(&watch{names: names, links: make(chan vrrpd.LinkState, 64)})
	defer t.unwatch(w)
	t.mu.Lock()
	for _, n := range names {
		w.links <- t.linkState(n, !t.down[n])
	}
	t.mu.Unlock()
	for {
		select {
		case <-ctx.Done():
			return
		case s := <-w.links:
			report(s)
		}
	}
}

// WatchAddrs reports each named link at the start, then each SetAddrs of
// one of them, until ctx ends.
func (t *Transport) WatchAddrs(ctx context.Context, names []string, changed func(string)) {
	w := t.watch(&watch{names: names, addrs: make(chan string, 64)})
	defer t.unwatch(w)
	for _, n := range names {
		w.addrs <- n
	}
	for {
		select {
		case <-ctx.Done():
			return
		case n := <-w.addrs:
			changed(n)
		}
	}
}

func (t *Transport) watch(w *watch) *watch {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.watches = append(t.watches, w)
	return w
}

func (t *Transport) unwatch(w *watch) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.watches = slices.DeleteFunc(t.watches, func(x *watch) bool { return x == w })
}

// Link is an open link of the Transport.
type Link struct {
	t      *Transport
	id     linkID
	index  int
	rx     chan vrrpd.Received
	closed chan struct{}
	once   sync.Once
}

// Read returns the next delivered packet, or an error once closed.
func (l *Link) Read(buf []byte) (vrrpd.Received, error) {
	select {
	case r := <-l.rx:
		r.Data = buf[:copy(buf, r.Data)]
		return r, nil
	case <-l.closed:
		return vrrpd.Received{}, errors.New("vrrptest: link closed")
	}
}

// Send records the advert, parsed (a packet that does not parse is an
// error: the daemon sent garbage).
func (l *Link) Send(b []byte, src, dst netip.Addr) error {
	p, err := packet.Parse(b, src, dst)
	if err != nil {
		return fmt.Errorf("vrrptest: the daemon sent a bad advert: %w", err)
	}
	l.t.mu.Lock()
	defer l.t.mu.Unlock()
	if l.index != l.t.indexOf(l.id.name) {
		return fmt.Errorf("vrrptest: send on %s: its interface was deleted", l.id.name)
	}
	l.t.record(Event{Kind: Send, Link: l.id.name, V6: l.id.v6, Packet: p, Src: src, Dst: dst})
	return nil
}

// Index is the index of the interface the link was opened on.
func (l *Link) Index() int { return l.index }

// Addrs returns the interface's addresses as set, or the error set.
func (l *Link) Addrs() ([]netip.Addr, error) {
	l.t.mu.Lock()
	defer l.t.mu.Unlock()
	l.t.record(Event{Kind: Addrs, Link: l.id.name, V6: l.id.v6})
	if err := l.t.addrErr[l.id.name]; err != nil {
		return nil, err
	}
	return slices.Clone(l.t.addrs[l.id.name]), nil
}

// Close closes the link; the interface and family may be opened again.
func (l *Link) Close() error {
	l.once.Do(func() {
		close(l.closed)
		l.t.mu.Lock()
		defer l.t.mu.Unlock()
		if l.t.open[l.id] == l {
			delete(l.t.open, l.id)
		}
		l.t.record(Event{Kind: Close, Link: l.id.name, V6: l.id.v6})
	})
	return nil
}

type announcer struct {
	t    *Transport
	link string
	v6   bool
}

func (a *announcer) Announce(addrs []netip.Addr) error {
	a.t.mu.Lock()
	defer a.t.mu.Unlock()
	a.t.record(Event{Kind: Announce, Link: a.link, V6: a.v6, Addrs: slices.Clone(addrs)})
	return nil
}

func (a *announcer) Close() error { return nil }
