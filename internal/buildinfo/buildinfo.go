// Package buildinfo says which build a program of lbx's is, so that lbx
// can refuse a helper program (lbx-check, lbx-vrrp) left from another
// build by a half-done upgrade.
package buildinfo

import (
	"runtime/debug"
	"strings"
)

// sourceHash is a hash of the module's Go sources, go.mod and go.sum, set
// by make build for both binaries at once:
//
//	-ldflags "-X github.com/lbx-dev/lbx/internal/buildinfo.sourceHash=..."
//
// Empty in a plain go build.
var sourceHash string

// Build is what lbx and its helper programs (lbx-check, lbx-vrrp) of one
// build have in common; lbx watch refuses a helper of another build.
//
// Why these fields and not the Go build ID: the build ID is a hash of one
// executable's own inputs, so lbx's and lbx-check's differ even when they
// come from the same tree and command. What two binaries of one build
// share is the version (-X main.version, one flag for both mains), the
// VCS revision and its modified flag (go build stamps them), the Go
// toolchain, and the source hash: the only one that tells apart two
// builds of different uncommitted changes at the same revision, which
// go build cannot stamp by itself (make build does; a plain go build of
// a dirty tree is known only as "dirty").
type Build struct {
	Version  string `json:"version"`
	Revision string `json:"revision,omitempty"`
	Dirty    bool   `json:"dirty,omitempty"`
	Source   string `json:"source,omitempty"`
	Go       string `json:"go,omitempty"`
}

// This is the running executable's build, version being its
// main.version.
func This(version string) Build {
	b := Build{Version: version, Source: sourceHash}
	if bi, ok := debug.ReadBuildInfo(); ok {
		b.Go = bi.GoVersion
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				b.Revision = s.Value
			case "vcs.modified":
				b.Dirty = s.Value == "true"
			}
		}
	}
	return b
}

// String is the build for a person: "v1.2.3 (revision 23cc433abcde,
// dirty, source 3f2a9c01, go1.26.0)".
func (b Build) String() string {
	var parts []string
	if b.Revision != "" {
		parts = append(parts, "revision "+short(b.Revision, 12))
	}
	if b.Dirty {
		parts = append(parts, "dirty")
	}
	if b.Source != "" {
		parts = append(parts, "source "+short(b.Source, 16))
	}
	if b.Go != "" {
		parts = append(parts, b.Go)
	}
	v := b.Version
	if v == "" {
		v = "(no version)"
	}
	if len(parts) == 0 {
		return v
	}
	return v + " (" + strings.Join(parts, ", ") + ")"
}

func short(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
