package checkproc

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
)

// sourceHash is a hash of the module's Go sources, go.mod and go.sum, set
// by make build for both binaries at once:
//
//	-ldflags "-X github.com/lbx-dev/lbx/checkproc.sourceHash=..."
//
// Empty in a plain go build.
var sourceHash string

// Build is what lbx and lbx-check of one build have in common; lbx watch
// refuses a checker process of another build (the handshake, opHello).
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

// ThisBuild is the running executable's build, version being its
// main.version.
func ThisBuild(version string) Build {
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

// BuildMismatchError is lbx watch's refusal of a checker binary of
// another build: after a half-done upgrade a stale lbx-check would speak
// another protocol or check differently from what lbx planned for.
type BuildMismatchError struct {
	Path       string // the checker binary
	Child      Build  // what it said; zero if it predates the handshake
	ParentPath string // lbx's executable
	Parent     Build  // lbx's
	// Old: the child does not know the handshake (a build older than it).
	Old bool
}

func (e *BuildMismatchError) Error() string {
	found := "built from " + e.Child.String()
	if e.Old {
		found = "built before lbx checked builds (it does not know the hello request)"
	}
	return fmt.Sprintf("the checker binary is not the same build as lbx: found %s %s, %s is %s; install lbx and %s from the same build (make build puts both in bin/, the package installs both), or run the checks inline with --checker inline",
		e.Path, found, e.ParentPath, e.Parent, Binary)
}

// checkHello judges the child's reply to the hello request: nil if it is
// of want's build. callErr is the call's error (a reply's Err included).
func checkHello(path string, want Build, m message, callErr error) error {
	mismatch := func(child Build, old bool) error {
		self, err := os.Executable()
		if err != nil {
			self = "lbx"
		}
		return &BuildMismatchError{Path: path, Child: child, ParentPath: self, Parent: want, Old: old}
	}
	if callErr != nil {
		// An lbx-check from before the handshake answers any request it
		// does not know with this error (Serve's default case).
		if m.Err == fmt.Sprintf("unknown request %q", opHello) {
			return mismatch(Build{}, true)
		}
		return fmt.Errorf("checker process %s: asking for its build: %w", path, callErr)
	}
	if m.Build == nil {
		return errors.New("checker process " + path + ": its hello reply has no build")
	}
	if *m.Build != want {
		return mismatch(*m.Build, false)
	}
	return nil
}
