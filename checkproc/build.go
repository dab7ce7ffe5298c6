package checkproc

import (
	"errors"
	"fmt"
	"os"

	"github.com/lbx-dev/lbx/internal/buildinfo"
)

// Build is what lbx and lbx-check of one build have in common
// (buildinfo.Build); lbx watch refuses a checker process of another build
// (the handshake, opHello).
type Build = buildinfo.Build

// ThisBuild is the running executable's build, version being its
// main.version.
func ThisBuild(version string) Build { return buildinfo.This(version) }

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
