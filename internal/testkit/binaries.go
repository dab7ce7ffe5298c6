package testkit

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
)

// built holds the binaries this test process built, by package set, and
// whether Main runs (it removes them when the tests end).
var built struct {
	sync.Mutex
	inMain bool
	dirs   map[string]*build
}

// build is one `go build` of a package set; once makes concurrent
// (parallel) tests wait for the first one's build instead of repeating it.
type build struct {
	once sync.Once
	dir  string
	err  string
}

// Binaries builds the named commands of this module (as `go build` names
// them from the module root: "./cmd/lbx", "./cmd/lbx-check",
// "./cmd/lbx-check-tls", "./cmd/lbx-bgp") as `make build` does (static,
// -trimpath) into a directory it returns, each binary under its command's
// name. One test process builds each package set once; the directory
// outlives the test that asked and is removed by Main. A failed build
// fails the test with go build's output.
func Binaries(t testing.TB, pkgs ...string) string {
	t.Helper()
	if len(pkgs) == 0 {
		t.Fatal("testkit.Binaries: name the commands to build (./cmd/lbx ...)")
	}
	b, ok := buildFor(pkgs)
	if !ok {
		t.Fatal("testkit.Binaries: the package's TestMain must run its tests through testkit.Main, which removes the binaries: func TestMain(m *testing.M) { os.Exit(testkit.Main(m.Run)) }")
	}
	b.once.Do(func() { b.dir, b.err = goBuild(pkgs) })
	if b.err != "" {
		t.Fatal(b.err)
	}
	return b.dir
}

// buildFor returns the build of a package set (in any order), or false
// outside Main.
func buildFor(pkgs []string) (*build, bool) {
	key := slices.Clone(pkgs)
	slices.Sort(key)
	built.Lock()
	defer built.Unlock()
	if !built.inMain {
		return nil, false
	}
	if built.dirs == nil {
		built.dirs = map[string]*build{}
	}
	k := strings.Join(key, " ")
	if built.dirs[k] == nil {
		built.dirs[k] = &build{}
	}
	return built.dirs[k], true
}

// goBuild builds pkgs from the module root into a new temporary
// directory; on failure it returns what went wrong, go build's output
// included, and removes the directory.
func goBuild(pkgs []string) (dir, failure string) {
	goBin := goBin()
	root, err := moduleRoot(goBin)
	if err != nil {
		return "", err.Error()
	}
	dir, err = os.MkdirTemp("", "lbx-testkit-bin-")
	if err != nil {
		return "", "testkit.Binaries: " + err.Error()
	}
	cmd := exec.Command(goBin, append([]string{"build", "-trimpath", "-o", dir + "/"}, pkgs...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", "testkit.Binaries: go build " + strings.Join(pkgs, " ") + " in " + root + ": " + err.Error() + "\n" + string(out)
	}
	return dir, ""
}

// moduleRoot is the directory of the go.mod that governs the test's
// working directory (the package under test).
func moduleRoot(goBin string) (string, error) {
	out, err := exec.Command(goBin, "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("testkit.Binaries: go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("testkit.Binaries: no go.mod above the test's directory (go env GOMOD printed %q)", gomod)
	}
	return filepath.Dir(gomod), nil
}

// goBin is the go command of the toolchain running the tests.
func goBin() string { return filepath.Join(runtime.GOROOT(), "bin", "go") }
