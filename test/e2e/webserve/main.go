// Command webserve is the bench VM's real servers: Go's net/http serving
// a directory on one address, one request per connection (keep-alives
// off, as a health check's HTTP/1.0 request asks), on one CPU. Usage:
// webserve ADDR DIR.
//
// bench-watch checked busybox httpd before, which forks a process per
// connection: in the emulated guest that server, not the checkers, set
// the pace (420–480 answers a second for 500 checks a second), and a
// checker that read the whole reply up to the server's close waited for
// the forked child (keepalived's checker made 10–20 % fewer probes than
// its delay_loop asks for, lbx's none), so a comparison of CPU over the
// same time compared different amounts of work. A server that answers at
// once, as a real one does, lets both checkers keep their delay_loop.
package main

import (
	"fmt"
	"net/http"
	"os"
	"runtime"
	"time"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: webserve ADDR DIR")
		os.Exit(2)
	}
	runtime.GOMAXPROCS(1)
	srv := newServer(os.Args[1], os.Args[2])
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, "webserve:", err)
		os.Exit(1)
	}
}

// newServer serves dir's files on addr, closing each connection after its
// reply.
func newServer(addr, dir string) *http.Server {
	srv := &http.Server{
		Addr:              addr,
		Handler:           http.FileServer(http.Dir(dir)),
		ReadHeaderTimeout: 10 * time.Second,
	}
	srv.SetKeepAlivesEnabled(false)
	return srv
}
