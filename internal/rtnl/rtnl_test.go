package rtnl

import (
	"errors"
	"net/netip"
	"os"
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
