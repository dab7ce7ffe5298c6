// Command holdconn holds many long-lived TCP connections and reports which
// of them broke: the connection-survival scenario of the e2e VM
// (scenarios/bgp-ecmp-survival.sh) runs it as the real servers and as the
// client behind the router.
//
//	holdconn serve ADDR NAME        answer each line read with "LINE NAME"
//	holdconn hold [-n N] [-every D] [-settle D] ADDR
//
// hold opens N connections to ADDR, each exchanging a line every D (200 ms
// by default), and prints "ready N" once every connection has had one
// answer. At SIGTERM it gives each connection that has not failed up to
// -settle to complete one more exchange (a flow moved by a router's
// rehash may be waiting for a TCP retransmission), then prints one line
// per connection, "conn LOCALADDR SERVER ok" or "conn LOCALADDR SERVER
// broken: WHY", and "kept K/N". A connection is broken when it saw an
// error (a reset: the flow reached a director or real server that did not
// know it), when a different server answered it, or when it made no
// exchange within -settle.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "serve":
		if len(os.Args) != 4 {
			usage()
		}
		err = serve(os.Args[2], os.Args[3])
	case "hold":
		err = holdMain(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "holdconn:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: holdconn serve ADDR NAME | holdconn hold [-n N] [-every D] [-settle D] ADDR")
	os.Exit(2)
}

// serve answers every line of every connection with the line and name.
func serve(addr, name string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return serveOn(ln, name)
}

func serveOn(ln net.Listener, name string) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		go echo(c, name)
	}
}

func echo(c net.Conn, name string) {
	defer c.Close()
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		if _, err := fmt.Fprintf(c, "%s %s\n", strings.TrimSuffix(line, "\n"), name); err != nil {
			return
		}
	}
}

func holdMain(args []string) error {
	fs := flag.NewFlagSet("hold", flag.ExitOnError)
	n := fs.Int("n", 90, "connections")
	every := fs.Duration("every", 200*time.Millisecond, "time between a connection's exchanges")
	settle := fs.Duration("settle", 20*time.Second, "at SIGTERM, how long a connection has to make one more exchange")
	fs.Parse(args)
	if fs.NArg() != 1 || *n < 1 {
		usage()
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	conns, err := dialAll(fs.Arg(0), *n, *every)
	if err != nil {
		return err
	}
	fmt.Printf("ready %d\n", len(conns))
	<-stop
	report(os.Stdout, conns, *settle)
	return nil
}

// conn is one held connection; its loop records the answering server, the
// time of the last exchange and the first error.
type conn struct {
	c      net.Conn
	mu     sync.Mutex
	server string
	last   time.Time
	err    error
}

// dialAll opens n connections and starts their loops; it returns once each
// has had its first answer.
func dialAll(addr string, n int, every time.Duration) ([]*conn, error) {
	conns := make([]*conn, n)
	for i := range conns {
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			return nil, fmt.Errorf("connection %d of %d: %w", i+1, n, err)
		}
		conns[i] = &conn{c: c}
		go conns[i].loop(every)
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, c := range conns {
		for !c.exchangedAfter(time.Time{}) {
			if err := c.failed(); err != nil {
				return nil, fmt.Errorf("%s: %w", c.c.LocalAddr(), err)
			}
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("%s: no answer within 30s", c.c.LocalAddr())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return conns, nil
}

// loop exchanges a numbered line every interval until the first error. The
// read deadline is long: a retransmission after a rehash may take seconds.
func (c *conn) loop(every time.Duration) {
	r := bufio.NewReader(c.c)
	for seq := 1; ; seq++ {
		c.c.SetDeadline(time.Now().Add(time.Minute))
		if _, err := fmt.Fprintf(c.c, "%d\n", seq); err != nil {
			c.fail(fmt.Errorf("write: %w", err))
			return
		}
		line, err := r.ReadString('\n')
		if err == io.EOF {
			err = fmt.Errorf("closed by the far end")
		}
		if err != nil {
			c.fail(fmt.Errorf("read: %w", err))
			return
		}
		got, server, ok := strings.Cut(strings.TrimSuffix(line, "\n"), " ")
		if !ok || got != strconv.Itoa(seq) {
			c.fail(fmt.Errorf("answer %q to line %d", line, seq))
			return
		}
		c.mu.Lock()
		if c.server != "" && c.server != server {
			c.err = fmt.Errorf("answered by %s, then by %s", c.server, server)
		}
		c.server, c.last = server, time.Now()
		c.mu.Unlock()
		if c.failed() != nil {
			return
		}
		time.Sleep(every)
	}
}

func (c *conn) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = err
	}
}

func (c *conn) failed() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *conn) exchangedAfter(t time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last.After(t)
}

// report waits up to settle for every connection that has not failed to
// make one more exchange, then prints each connection's fate and the count.
func report(w io.Writer, conns []*conn, settle time.Duration) (kept int) {
	t0 := time.Now()
	for _, c := range conns {
		for c.failed() == nil && !c.exchangedAfter(t0) && time.Since(t0) < settle {
			time.Sleep(20 * time.Millisecond)
		}
	}
	for _, c := range conns {
		c.mu.Lock()
		why := c.err
		if why == nil && !c.last.After(t0) {
			why = fmt.Errorf("no exchange within %s", settle)
		}
		if why == nil {
			kept++
			fmt.Fprintf(w, "conn %s %s ok\n", c.c.LocalAddr(), c.server)
		} else {
			fmt.Fprintf(w, "conn %s %s broken: %v\n", c.c.LocalAddr(), c.server, why)
		}
		c.mu.Unlock()
		c.c.Close()
	}
	fmt.Fprintf(w, "kept %d/%d\n", kept, len(conns))
	return kept
}
