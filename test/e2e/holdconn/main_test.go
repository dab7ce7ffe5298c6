package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestHoldReport: connections answered throughout are kept; one the
// server resets, one it stops answering and one answered by another
// server name are broken, each with its reason.
func TestHoldReport(t *testing.T) {
	tests := []struct {
		name   string
		spoil  func(i int) func(c net.Conn, line string) // nil: answer normally
		wantOK int
		want   string
	}{
		{name: "all answered", wantOK: 6},
		{name: "every other reset", wantOK: 3, want: "connection reset",
			spoil: func(i int) func(net.Conn, string) {
				if i%2 == 1 {
					return nil
				}
				return func(c net.Conn, _ string) { c.(*net.TCPConn).SetLinger(0); c.Close() }
			}},
		{name: "one silent", wantOK: 5, want: "no exchange within",
			spoil: func(i int) func(net.Conn, string) {
				if i != 0 {
					return nil
				}
				return func(net.Conn, string) { time.Sleep(time.Hour) }
			}},
		{name: "one moved", wantOK: 5, want: "answered by rs1, then by rs2",
			spoil: func(i int) func(net.Conn, string) {
				if i != 2 {
					return nil
				}
				return func(c net.Conn, line string) {
					fmt.Fprintf(c, "%s rs2\n", line)
					echo(c, "rs2")
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			var spoiled atomic.Bool
			go spoilingServer(ln, tc.spoil, &spoiled)
			conns, err := dialAll(ln.Addr().String(), 6, 10*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			spoiled.Store(true)
			var out bytes.Buffer
			kept := report(&out, conns, 500*time.Millisecond)
			if kept != tc.wantOK || !strings.Contains(out.String(), fmt.Sprintf("kept %d/6", tc.wantOK)) {
				t.Errorf("kept %d, want %d:\n%s", kept, tc.wantOK, out.String())
			}
			if tc.want != "" && !strings.Contains(out.String(), tc.want) {
				t.Errorf("report lacks %q:\n%s", tc.want, out.String())
			}
		})
	}
}

// spoilingServer answers as rs1; once spoiled is set, connection i does
// what spoil(i) returns instead, if anything.
func spoilingServer(ln net.Listener, spoil func(int) func(net.Conn, string), spoiled *atomic.Bool) {
	for i := 0; ; i++ {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		var bad func(net.Conn, string)
		if spoil != nil {
			bad = spoil(i)
		}
		go func() {
			r := bufio.NewReader(c)
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					return
				}
				line = strings.TrimSuffix(line, "\n")
				if bad != nil && spoiled.Load() {
					bad(c, line)
					return
				}
				fmt.Fprintf(c, "%s rs1\n", line)
			}
		}()
	}
}

// TestServe: the real server answers each line with its name.
func TestServe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go serveOn(ln, "rs9")
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	for _, line := range []string{"1", "2", "hello"} {
		fmt.Fprintln(c, line)
		got, err := r.ReadString('\n')
		if err != nil || got != line+" rs9\n" {
			t.Fatalf("answer to %q: %q, %v", line, got, err)
		}
	}
}
