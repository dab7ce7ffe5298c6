package rtnl

import (
	"errors"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/sys/unix"

	"github.com/lbx-dev/lbx/internal/nstest"
	"github.com/lbx-dev/lbx/internal/testkit"
)

func TestMain(m *testing.M) { os.Exit(testkit.Main(m.Run)) }

// TestConn, in a namespace of its own: a dump of links and one of
// addresses, each whole; then the notifications of a link made, an
// address added and deleted, and the link deleted, each as the kernel
// sent it; a Close ends a Receive that waits.
func TestConn(t *testing.T) {
	nstest.Require(t)
	ns := nstest.New(t, nstest.Unique("rtnl"))
	var c, dumps *Conn
	ns.In(t, func() {
		var err error
		if c, err = Open(unix.RTNLGRP_LINK, unix.RTNLGRP_IPV4_IFADDR, unix.RTNLGRP_IPV6_IFADDR); err != nil {
			t.Fatal(err)
		}
		if dumps, err = Open(); err != nil {
			t.Fatal(err)
		}
	})
	defer dumps.Close()
	ns.Run(t, "ip", "link", "add", "a0", "type", "veth", "peer", "name", "b0")
	for i := 1; i <= 300; i++ { // more than one datagram's worth
		ns.Run(t, "ip", "addr", "add", netip.AddrFrom4([4]byte{10, 9, byte(i / 250), byte(i%250 + 1)}).String()+"/32", "dev", "a0")
	}

	links := map[string]bool{}
	if err := dumps.Dump(unix.RTM_GETLINK, unix.AF_UNSPEC, func(m Message) {
		if l, ok := m.Link(); ok {
			links[l.Name] = true
		}
	}); err != nil {
		t.Fatal(err)
	}
	if !links["lo"] || !links["a0"] || !links["b0"] || len(links) != 3 {
		t.Errorf("links dumped: %v, want lo, a0 and b0", links)
	}
	addrs := 0
	if err := dumps.Dump(unix.RTM_GETADDR, unix.AF_INET, func(m Message) {
		if a, ok := m.Addr(); ok && a.Addr.Is4() && !a.Addr.IsLoopback() {
			addrs++
		}
	}); err != nil && !errors.Is(err, ErrDumpInterrupted) {
		t.Fatal(err)
	}
	if addrs != 300 {
		t.Errorf("%d IPv4 addresses dumped, want 300", addrs)
	}
	// A dump allocates nothing once the buffer has grown: every datagram
	// read is a peek, a read and its sender, which lbx-vrrp does hundreds
	// of times as it starts (docs/performance.md, VRRP).
	count := func(Message) { addrs++ }
	if n := testing.AllocsPerRun(5, func() {
		if err := dumps.Dump(unix.RTM_GETADDR, unix.AF_INET, count); err != nil && !errors.Is(err, ErrDumpInterrupted) {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("a dump of 300 addresses allocated %v times, want none", n)
	}

	// The notifications, in order, from the link's creation on.
	type event struct {
		kind    string
		name    string
		deleted bool
	}
	var got []event
	want := []event{{"link", "a0", false}, {"link", "b0", false}}
	for len(got) < len(want) {
		if err := c.Receive(func(m Message) {
			if l, ok := m.Link(); ok {
				got = append(got, event{"link", l.Name, l.Deleted})
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	if !cmp.Equal(got, want, cmpopts.SortSlices(func(a, b event) bool { return a.name < b.name }), cmp.AllowUnexported(event{})) {
		t.Errorf("link notifications %v, want %v first (in any order: a veth's ends come together)", got, want)
	}
	ns.Run(t, "ip", "addr", "del", "10.9.0.2/32", "dev", "a0")
	var deleted Addr
	for deadline := time.Now().Add(5 * time.Second); !deleted.Deleted && time.Now().Before(deadline); {
		if err := c.Receive(func(m Message) {
			if a, ok := m.Addr(); ok && a.Deleted {
				deleted = a
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	if deleted.Addr != netip.MustParseAddr("10.9.0.2") || deleted.Bits != 32 || deleted.Label != "a0" {
		t.Errorf("deleted address %+v, want 10.9.0.2/32 labelled a0", deleted)
	}

	ended := make(chan error, 1)
	go func() {
		for {
			if err := c.Receive(func(Message) {}); err != nil {
				ended <- err
				return
			}
		}
	}()
	time.Sleep(100 * time.Millisecond)
	c.Close()
	select {
	case err := <-ended:
		if !errors.Is(err, os.ErrClosed) {
			t.Errorf("Receive after Close: %v, want os.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end a waiting Receive")
	}
}

// TestAddrRequests, in a namespace: an IPv4 address added with its label
// and its subnet's broadcast address (none for a /32), an IPv6 one
// without duplicate address detection; a second add is EEXIST; a delete
// removes it, and a second one is EADDRNOTAVAIL.
func TestAddrRequests(t *testing.T) {
	nstest.Require(t)
	ns := nstest.New(t, nstest.Unique("rtnl"))
	ns.Link(t, "a0")
	var c *Conn
	ns.In(t, func() {
		var err error
		if c, err = Open(); err != nil {
			t.Fatal(err)
		}
	})
	defer c.Close()
	index := 0
	if err := c.Dump(unix.RTM_GETLINK, unix.AF_UNSPEC, func(m Message) {
		if l, ok := m.Link(); ok && l.Name == "a0" {
			index = l.Index
		}
	}); err != nil || index == 0 {
		t.Fatalf("index of a0: %d, %v", index, err)
	}
	v4 := Addr{Index: index, Addr: netip.MustParseAddr("10.9.0.1"), Bits: 24, Label: "a0:vip"}
	host := Addr{Index: index, Addr: netip.MustParseAddr("10.8.0.1"), Bits: 32}
	v6 := Addr{Index: index, Addr: netip.MustParseAddr("2001:db8::1"), Bits: 64, Flags: unix.IFA_F_NODAD}
	for _, a := range []Addr{v4, host, v6} {
		if err := c.AddAddr(a); err != nil {
			t.Fatalf("add %v: %v", a.Addr, err)
		}
	}
	if err := c.AddAddr(v4); !errors.Is(err, unix.EEXIST) {
		t.Errorf("second add: %v, want EEXIST", err)
	}
	shown := ns.Addrs("a0")
	for _, want := range []string{"inet 10.9.0.1/24 brd 10.9.0.255 scope global a0:vip", "inet 10.8.0.1/32 scope global a0\\", "inet6 2001:db8::1/64 scope global nodad"} {
		if !strings.Contains(shown, want) {
			t.Errorf("ip addr shows\n%s\nwithout %q", shown, want)
		}
	}
	for _, a := range []Addr{v4, host, v6} {
		if err := c.DelAddr(a); err != nil {
			t.Errorf("delete %v: %v", a.Addr, err)
		}
	}
	if err := c.DelAddr(v4); !errors.Is(err, unix.EADDRNOTAVAIL) {
		t.Errorf("second delete: %v, want EADDRNOTAVAIL", err)
	}
	if shown := ns.Addrs("a0"); strings.Contains(shown, "10.9.0.1") || strings.Contains(shown, "2001:db8::1") || strings.Contains(shown, "10.8.0.1") {
		t.Errorf("after the deletes, ip addr shows\n%s", shown)
	}
}
