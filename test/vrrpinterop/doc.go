// Package vrrpinterop holds the acceptance tests of lbx's VRRP: lbx watch
// against keepalived (Debian's 2.2.7) and against itself, in network
// namespaces on one bridge, plus hostile-input tests from a raw socket and
// the failover/RSS benchmark. Everything is in _test.go files; run as root:
//
//	go test ./test/vrrpinterop/ -v
//	go test ./test/vrrpinterop/ -run '^$' -bench . -benchtime 5x
package vrrpinterop
