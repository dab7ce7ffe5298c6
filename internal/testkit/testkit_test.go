package testkit

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) { os.Exit(Main(m.Run)) }

// recorder is a testing.TB that records a failure instead of failing the
// test that runs it, so that testkit's own failures can be checked.
type recorder struct {
	testing.TB
	failure string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatal(args ...any) {
	r.failure = fmt.Sprint(args...)
	runtime.Goexit()
}

func (r *recorder) Skip(args ...any) {
	r.failure = "SKIP " + fmt.Sprint(args...)
	runtime.Goexit()
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failure = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// try runs f with a recorder in a goroutine of its own (a Fatal ends that
// goroutine, as it ends a test's) and returns what failed, "" if nothing.
func try(f func(t testing.TB)) string {
	r := &recorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r.failure
}

func TestEventually(t *testing.T) {
	cases := []struct {
		name      string
		trueAfter int // calls of cond that return false first; -1: never true
		within    time.Duration
		wantFail  string
	}{
		{"true at once", 0, time.Second, ""},
		{"true on the fourth poll", 3, time.Second, ""},
		{"never true", -1, 60 * time.Millisecond, "waiting for the thing"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			calls := 0
			var took time.Duration
			start := time.Now()
			failure := try(func(tb testing.TB) {
				took = Eventually(tb, "the thing", c.within, func() bool {
					calls++
					return c.trueAfter >= 0 && calls > c.trueAfter
				})
			})
			elapsed := time.Since(start)
			switch {
			case c.wantFail == "" && failure != "":
				t.Fatalf("failed: %s", failure)
			case c.wantFail != "" && !strings.Contains(failure, c.wantFail):
				t.Fatalf("failure %q, want one naming %q", failure, c.wantFail)
			case c.wantFail != "" && !strings.Contains(failure, "timed out after 6"):
				t.Errorf("failure %q does not say how long it waited (60ms or a little more)", failure)
			case c.wantFail != "" && elapsed < c.within:
				t.Errorf("gave up after %s, before %s", elapsed, c.within)
			case c.wantFail == "" && calls != c.trueAfter+1:
				t.Errorf("cond called %d times, want %d", calls, c.trueAfter+1)
			case c.wantFail == "" && (took > elapsed || (c.trueAfter > 0 && took < time.Duration(c.trueAfter)*pollInterval(c.within))):
				t.Errorf("returned %s for %d polls of %s (the call took %s)", took, c.trueAfter, pollInterval(c.within), elapsed)
			}
		})
	}
}

func TestPollInterval(t *testing.T) {
	cases := []struct {
		within, want time.Duration
	}{
		{100 * time.Millisecond, 5 * time.Millisecond},
		{2 * time.Second, 10 * time.Millisecond},
		{5 * time.Second, 25 * time.Millisecond},
		{time.Minute, 50 * time.Millisecond},
	}
	for _, c := range cases {
		if got := pollInterval(c.within); got != c.want {
			t.Errorf("pollInterval(%s) = %s, want %s", c.within, got, c.want)
		}
	}
}

func TestDesired(t *testing.T) {
	cases := []struct {
		name     string
		yaml     string
		services int
		wantFail string
	}{
		{"one service", "version: 1\nvirtual_servers:\n  - {address: 10.0.0.1, port: 80, real_servers: [{address: 10.1.0.1}]}\n", 1, ""},
		{"empty model", "version: 1\n", 0, ""},
		{"unknown field", "version: 1\nvirtual_server: []\n", 0, "model.yaml:2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			services := -1
			failure := try(func(tb testing.TB) { services = len(Desired(tb, c.yaml).State.Services) })
			switch {
			case c.wantFail == "" && failure != "":
				t.Fatalf("failed: %s", failure)
			case c.wantFail != "" && !strings.Contains(failure, c.wantFail):
				t.Fatalf("failure %q, want one naming %q", failure, c.wantFail)
			case c.wantFail == "" && services != c.services:
				t.Errorf("%d services, want %d", services, c.services)
			}
		})
	}
}

func TestBinaries(t *testing.T) {
	if testing.Short() {
		t.Skip("builds lbx-check and lbx-check-tls")
	}
	dir := Binaries(t, "./cmd/lbx-check", "./cmd/lbx-check-tls")
	// Each command under its own name, in the one directory.
	for _, name := range []string{"lbx-check", "lbx-check-tls"} {
		t.Run("runs "+name, func(t *testing.T) {
			out, err := exec.Command(filepath.Join(dir, name), "--version").CombinedOutput()
			if err != nil || !strings.HasPrefix(string(out), name+" ") {
				t.Fatalf("the built %s --version: %v %q", name, err, out)
			}
		})
	}
	t.Run("cached in any order", func(t *testing.T) {
		if again := Binaries(t, "./cmd/lbx-check-tls", "./cmd/lbx-check"); again != dir {
			t.Errorf("second build of one package set went to %s, the first to %s", again, dir)
		}
	})
	cases := []struct {
		name     string
		inMain   bool
		pkgs     []string
		wantFail string
	}{
		{"no such command", true, []string{"./cmd/no-such-command"}, "no-such-command"},
		{"no commands named", true, nil, "name the commands"},
		{"outside Main", false, []string{"./cmd/lbx-check"}, "testkit.Main"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			setInMain(c.inMain)
			defer setInMain(true)
			failure := try(func(tb testing.TB) { Binaries(tb, c.pkgs...) })
			if !strings.Contains(failure, c.wantFail) {
				t.Errorf("failure %q, want one naming %q", failure, c.wantFail)
			}
		})
	}
}

func setInMain(v bool) {
	built.Lock()
	built.inMain = v
	built.Unlock()
}

func TestSkipSummary(t *testing.T) {
	cases := []struct {
		name    string
		reasons []string
		want    string
	}{
		{"none", nil, ""},
		{"one reason", []string{"namespace test needs root", "namespace test needs root"}, "kernel: 2 test(s) skipped: namespace test needs root (2)"},
		{"reasons sorted", []string{"no ajv", "needs root", "no ajv"}, "kernel: 3 test(s) skipped: needs root (1); no ajv (2)"},
	}
	saved := skips.by
	defer func() { skips.by = saved }()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			skips.by = nil
			for _, r := range c.reasons {
				if got := try(func(tb testing.TB) { Skip(tb, r) }); got != "SKIP "+r {
					t.Fatalf("Skip(%q) did %q, want a skip", r, got)
				}
			}
			if got := skipSummary("kernel"); got != c.want {
				t.Errorf("summary %q, want %q", got, c.want)
			}
		})
	}
}

func TestRequireRoot(t *testing.T) {
	saved := skips.by
	defer func() { skips.by = saved }()
	t.Setenv("CI", "")
	got := try(func(tb testing.TB) { RequireRoot(tb, "switching users") })
	want := "SKIP switching users needs root"
	if os.Geteuid() == 0 {
		want = ""
	}
	if got != want {
		t.Errorf("RequireRoot as uid %d: %q, want %q", os.Geteuid(), got, want)
	}
	if os.Geteuid() != 0 {
		t.Setenv("CI", "true")
		if got := try(func(tb testing.TB) { RequireRoot(tb, "switching users") }); !strings.Contains(got, "CI=true") {
			t.Errorf("RequireRoot under CI=true: %q, want a failure naming CI=true", got)
		}
	}
}

func TestPackageDir(t *testing.T) {
	if got := packageDir(); got != filepath.Join("internal", "testkit") {
		t.Errorf("packageDir() = %q, want internal/testkit", got)
	}
}
