package main

import (
	"debug/elf"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lbx-dev/lbx/internal/testkit"
)

// TestLinksOnlyWhatItRuns: a binary's resident pages follow the code it
// links, not what runs (each page fault maps the 64 KiB around it;
// docs/performance.md, Memory). So lbx-check links the checks and not the
// model, its YAML decoder or a flag library (the model is turned into
// plain check settings in lbx watch, check/checkmodel); crypto/tls, with
// x509, is linked by lbx-check-tls alone, which runs the ssl_get checks
// (lbx serves its metrics without net/http, which would bring it back).
// lbx-vrrp, lbx watch for a model of VRRP alone, links no model, planner
// or IPVS.
func TestLinksOnlyWhatItRuns(t *testing.T) {
	const lbx = "github.com/lbx-dev/lbx/"
	for _, bin := range []struct {
		cmd           string
		links, leaves []string // package paths
	}{
		{"lbx-check",
			[]string{lbx + "check", lbx + "checkproc", lbx + "check/checkspec"},
			[]string{lbx + "model", lbx + "check/checkmodel", "gopkg.in/yaml.v3", "github.com/spf13/cobra", "github.com/spf13/pflag", "crypto/tls", lbx + "check/tlsclient"}},
		{"lbx-check-tls",
			[]string{lbx + "check", lbx + "checkproc", "crypto/tls", lbx + "check/tlsclient"},
			[]string{lbx + "model", "gopkg.in/yaml.v3", "github.com/spf13/cobra"}},
		// lbx watch for a model of VRRP alone: the model is compiled
		// by lbx (package vrrponly).
		{"lbx-vrrp",
			[]string{lbx + "vrrpd", lbx + "vrrponly", lbx + "internal/statusd", lbx + "ownership"},
			[]string{lbx + "model", "gopkg.in/yaml.v3", "github.com/spf13/cobra", "github.com/spf13/pflag", lbx + "plan", lbx + "apply",
				lbx + "kernel", "github.com/moby/ipvs", lbx + "check", lbx + "metrics", lbx + "watch", "crypto/tls", "net/http"}},
		{"lbx",
			[]string{lbx + "check", lbx + "metrics", lbx + "vrrpd"},
			[]string{"crypto/tls", "crypto/x509", "net/http", lbx + "check/tlsclient"}},
	} {
		deps := testkit.GoList(t, "-deps", lbx+"cmd/"+bin.cmd)
		for _, p := range bin.links {
			if !slices.Contains(deps, p) {
				t.Errorf("%s does not link %s: this test checks less than it says (go list -deps ./cmd/%s)", bin.cmd, p, bin.cmd)
			}
		}
		for _, p := range bin.leaves {
			if slices.Contains(deps, p) {
				t.Errorf("%s links %s, which it must leave out (go list -deps ./cmd/%s)", bin.cmd, p, bin.cmd)
			}
		}
	}
}

// TestVRRPLinksNoResolver: a dial or listen by address string (net.Dial,
// net.Dialer, net.ListenPacket...) links the DNS resolver, some 240 KB of
// text and tables that would be resident in lbx-vrrp for nothing: it opens
// its sockets by hand and dials the status socket with net.DialUnix. The
// package lists cannot tell (net is linked either way), so this reads the
// built binary's symbols.
func TestVRRPLinksNoResolver(t *testing.T) {
	bin := filepath.Join(testkit.Binaries(t, "./cmd/lbx-vrrp"), "lbx-vrrp")
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatalf("%s: %v (built stripped?)", bin, err)
	}
	var net, resolver []string
	for _, s := range syms {
		switch {
		case strings.HasPrefix(s.Name, "net.(*Resolver)."), strings.HasPrefix(s.Name, "net.(*Dialer)."):
			resolver = append(resolver, s.Name)
		case strings.HasPrefix(s.Name, "net."):
			net = append(net, s.Name)
		}
	}
	if len(net) == 0 {
		t.Fatalf("%s has no symbol of package net: this test checks less than it says", bin)
	}
	if len(resolver) > 0 {
		t.Errorf("lbx-vrrp links the DNS resolver (%d symbols, %s...): find the dial or listen by address string (go build -ldflags=-dumpdep ./cmd/lbx-vrrp 2>&1 | grep Resolver)", len(resolver), resolver[0])
	}
}

func TestMain(m *testing.M) { os.Exit(testkit.Main(m.Run)) }
