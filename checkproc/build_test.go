package checkproc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/testkit"
)

// buildChecker builds cmd/lbx-check with ldflags into dir/name.
func buildChecker(t *testing.T, dir, name, ldflags string) string {
	t.Helper()
	bin := filepath.Join(dir, name)
	out, err := exec.Command("go", "build", "-ldflags", ldflags, "-o", bin, "../cmd/lbx-check").CombinedOutput()
	if err != nil {
		t.Fatalf("go build lbx-check %s: %v\n%s", ldflags, err, out)
	}
	return bin
}

// buildOf asks a real lbx-check for its build: a Probe with a build no
// binary has gets the mismatch, which carries what the child said.
func buildOf(t testing.TB, path string) Build {
	t.Helper()
	err := New(Options{Path: path, Build: Build{Version: "no such build"}}).Probe()
	var m *BuildMismatchError
	if !errors.As(err, &m) {
		t.Fatalf("probe of %s: %v, want a build mismatch", path, err)
	}
	return m.Child
}

// TestCheckerBuildCheck builds real lbx-check binaries that differ from a
// reference one as two builds do (another version, other sources), and
// checks that lbx's client refuses them, naming both builds, and accepts
// the reference.
func TestCheckerBuildCheck(t *testing.T) {
	if testing.Short() {
		testkit.Skip(t, "-short: builds lbx-check three times")
	}
	dir := t.TempDir()
	ref := buildChecker(t, dir, "lbx-check", "-X main.version=v9.9.9 -X github.com/lbx-dev/lbx/internal/buildinfo.sourceHash=aaaa")
	want := buildOf(t, ref)
	if want.Version != "v9.9.9" || want.Source != "aaaa" || want.Go == "" {
		t.Fatalf("the reference checker says it is %+v", want)
	}
	_, open := listener(t)
	for _, tc := range []struct {
		name, ldflags string
		refused       []string // in the error; nil: accepted
	}{
		{"same build", "", nil},
		{"another version", "-X main.version=v9.9.8 -X github.com/lbx-dev/lbx/internal/buildinfo.sourceHash=aaaa", []string{"v9.9.8 (", " is v9.9.9 ("}},
		{"other sources", "-X main.version=v9.9.9 -X github.com/lbx-dev/lbx/internal/buildinfo.sourceHash=bbbb", []string{"source bbbb", "source aaaa"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := ref
			if tc.ldflags != "" {
				path = buildChecker(t, dir, strings.ReplaceAll(tc.name, " ", "-"), tc.ldflags)
			}
			c := New(Options{Path: path, Build: want, CallTimeout: 5 * time.Second})
			err := c.Start(context.Background(), targets(t, open), nil)
			if tc.refused == nil {
				if err != nil {
					t.Fatalf("the same build was refused: %v", err)
				}
				defer c.Stop()
				testkit.Eventually(t, "the server probed", childWait, func() bool { st := c.Stats(); return len(st) == 1 && st[0].Checks[0].Total > 0 })
				return
			}
			if err == nil {
				c.Stop()
				t.Fatal("a checker of another build was accepted")
			}
			var m *BuildMismatchError
			if !errors.As(err, &m) {
				t.Fatalf("error %v is not a build mismatch", err)
			}
			msg := err.Error()
			self, _ := os.Executable()
			for _, s := range append(tc.refused, "found "+path+" built from ", self+" is ", "install lbx and lbx-check from the same build") {
				if !strings.Contains(msg, s) {
					t.Errorf("the refusal does not say %q:\n%s", s, msg)
				}
			}
		})
	}
}

// syncBuffer is a log destination the client's goroutines write to.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRestartRechecksBuild: the binary replaced under a running client
// (an upgrade that unpacked a new lbx-check) is refused at the restart
// after a crash, and the old health is kept; once the right build is back
// the restart succeeds.
func TestRestartRechecksBuild(t *testing.T) {
	if testing.Short() {
		testkit.Skip(t, "-short: builds lbx-check twice")
	}
	dir := t.TempDir()
	good := buildChecker(t, dir, "good", "-X main.version=v1")
	other := buildChecker(t, dir, "other", "-X main.version=v2")
	path := filepath.Join(dir, "lbx-check")
	install := func(from string) {
		t.Helper()
		// As a package manager does: a new file renamed over the old.
		data, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path+".new", data, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(path+".new", path); err != nil {
			t.Fatal(err)
		}
	}
	install(good)
	var logs syncBuffer
	c := New(Options{Path: path, Build: buildOf(t, good), Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, CallTimeout: 5 * time.Second})
	_, open := listener(t)
	ts := targets(t, open)
	if err := c.Start(context.Background(), ts, nil); err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	testkit.Eventually(t, "the server up", childWait, func() bool { return c.Health()[ts[0].ID].Up })

	install(other)
	c.mu.Lock()
	pid := c.sess.cmd.Process.Pid
	c.mu.Unlock()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "the replaced binary refused", childWait, func() bool {
		return strings.Contains(logs.String(), fmt.Sprintf("found %s built from v2", path))
	})
	if n := c.Restarts(); n != 0 {
		t.Errorf("%d restarts with a binary of another build", n)
	}
	if !c.Health()[ts[0].ID].Up {
		t.Error("health was not kept while the checker was refused")
	}
	install(good)
	testkit.Eventually(t, "the right build restarted", childWait, func() bool { return c.Restarts() == 1 })
}

// TestCheckHello judges the hello replies a child can give.
func TestCheckHello(t *testing.T) {
	want := Build{Version: "v1", Revision: "abc", Source: "s1", Go: "go1.26"}
	other := want
	other.Dirty = true
	for _, tc := range []struct {
		name     string
		m        message
		callErr  error
		mismatch bool   // a *BuildMismatchError
		says     string // in the error; "" with mismatch false: accepted
	}{
		{"same", message{Op: opReply, Build: &want}, nil, false, ""},
		{"dirty", message{Op: opReply, Build: &other}, nil, true, "built from v1 (revision abc, dirty, source s1, go1.26)"},
		{"older than the handshake", message{Op: opReply, Err: `unknown request "hello"`}, errors.New(`unknown request "hello"`), true, "built before lbx checked builds"},
		{"exited", message{}, errors.New("the checker process exited"), false, "asking for its build: the checker process exited"},
		{"no build", message{Op: opReply}, nil, false, "has no build"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkHello("/x/lbx-check", want, tc.m, tc.callErr)
			var m *BuildMismatchError
			if errors.As(err, &m) != tc.mismatch {
				t.Errorf("error %v: mismatch %v, want %v", err, !tc.mismatch, tc.mismatch)
			}
			switch {
			case tc.says == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.says != "" && (err == nil || !strings.Contains(err.Error(), tc.says)):
				t.Errorf("error %v, want one saying %q", err, tc.says)
			}
		})
	}
}
