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
//
// With -tls it serves HTTPS with a self-signed certificate made at its
// start: the scenario of ssl_get checks (the guest has no openssl).
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"runtime"
	"time"
)

func main() {
	args := os.Args[1:]
	useTLS := len(args) > 0 && args[0] == "-tls"
	if useTLS {
		args = args[1:]
	}
	if len(args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: webserve [-tls] ADDR DIR")
		os.Exit(2)
	}
	runtime.GOMAXPROCS(1)
	srv := newServer(args[0], args[1])
	err := error(nil)
	if useTLS {
		var cert tls.Certificate
		if cert, err = selfSigned(); err == nil {
			srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
			err = srv.ListenAndServeTLS("", "")
		}
	} else {
		err = srv.ListenAndServe()
	}
	fmt.Fprintln(os.Stderr, "webserve:", err)
	os.Exit(1)
}

// selfSigned is a fresh P-256 certificate for "webserve", valid a day.
func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "webserve"},
		DNSNames:     []string{"webserve"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
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
