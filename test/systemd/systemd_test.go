// Package systemd runs examples/lbx.service, unmodified, under a real
// systemd: systemd-nspawn boots the host's own /usr (read-only, with a
// tmpfs root: --volatile=yes) with systemd as PID 1 in a private network
// namespace, the unit file is bind-mounted to /etc/systemd/system/lbx.service
// and a freshly built lbx is overlaid at /usr/local/bin/lbx, the paths the
// unit names. One drop-in shortens WatchdogSec to 3s. The test drives the unit
// with systemctl inside the container and checks what systemd itself saw
// (its debug log of every sd_notify message) and what the kernel holds (the
// model's VRRP address on a veth). Needs root and systemd-nspawn (Debian
// package systemd-container); under CI=true a skip fails.
package systemd

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/nspawn"
	"github.com/lbx-dev/lbx/internal/testkit"
)

const (
	vip1     = "192.0.2.50"
	vip2     = "192.0.2.51"
	watchdog = 3 * time.Second
)

// model is a VRRP-only model (no IPVS: the host kernel has none) that is
// MASTER at once on lbx0; extra adds a second virtual address (a reload
// that changes only addresses takes effect without a restart).
func model(extra bool) string {
	if extra {
		return nspawn.VRRPModel("systemd-test", 51, vip1, vip2)
	}
	return nspawn.VRRPModel("systemd-test", 51, vip1)
}

const brokenModel = "version: 1\nbogus_key: 1\n"

func TestMain(m *testing.M) { os.Exit(testkit.Main(m.Run)) }

// buildLBX puts lbx, its checker process lbx-check and lbx-vrrp (which
// runs the test's model of VRRP alone in lbx watch's place) in dir, as
// the package installs them: a prebuilt lbx (LBX_SYSTEMD_BIN, the others
// next to it) or one built from this tree.
func buildLBX(t *testing.T, dir string) {
	t.Helper()
	lbx := os.Getenv("LBX_SYSTEMD_BIN")
	if lbx == "" {
		lbx = filepath.Join(testkit.Binaries(t, "./cmd/lbx", "./cmd/lbx-check", "./cmd/lbx-vrrp"), "lbx")
	}
	for _, name := range []string{"lbx", "lbx-check", "lbx-vrrp"} {
		from := filepath.Join(filepath.Dir(lbx), name)
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// container is the booted machine and the test (or subtest) it reports to.
type container struct {
	*nspawn.Container
	t   *testing.T
	etc string // host directory bound to /etc/lbx
}

// in runs a command inside the container.
func (c *container) in(args ...string) (string, error) { return c.In(args...) }

// must runs a command inside the container and fails the test on error.
func (c *container) must(args ...string) string {
	c.t.Helper()
	return c.Must(c.t, args...)
}

// show returns systemctl show properties of lbx.service.
func (c *container) show() map[string]string {
	c.t.Helper()
	return c.Show(c.t, "lbx.service", "ActiveState", "SubState", "MainPID", "NRestarts", "Result", "ExecMainStatus", "StatusText")
}

// journalArgs select every journal line about lbx.service: systemd's own
// (debug: each notification it received) and lbx's output. Not -u alone:
// in a container on a cgroup-v1/hybrid host, journald sometimes files a
// just-forked service's output under init.scope; the identifier is exact.
var journalArgs = []string{"journalctl", "--no-pager", "-q", "UNIT=lbx.service", "+", "_SYSTEMD_UNIT=lbx.service", "+", "SYSLOG_IDENTIFIER=lbx"}

func (c *container) journal() string {
	c.t.Helper()
	return c.must(append(journalArgs, "-o", "cat")...)
}

// waitJournal polls the journal until re matches (journald is asynchronous)
// and returns the journal and the match's index.
func (c *container) waitJournal(re *regexp.Regexp, from int, timeout time.Duration) (string, int) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		j := c.journal()
		if from <= len(j) {
			if loc := re.FindStringIndex(j[from:]); loc != nil {
				return j, from + loc[0]
			}
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("journal of lbx.service: no %q within %v after offset %d:\n%s", re, timeout, from, nspawn.Tail(j, 40))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (c *container) addrs() string {
	c.t.Helper()
	return c.must("ip", "-4", "-o", "addr", "show", "dev", "lbx0")
}

func (c *container) waitAddr(addr string, present bool, timeout time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		a := c.addrs()
		if strings.Contains(a, " "+addr+"/") == present {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("address %s present=%v wanted within %v; lbx0 has:\n%s", addr, !present, timeout, a)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *container) writeModel(text string) {
	c.t.Helper()
	if err := os.WriteFile(filepath.Join(c.etc, "lbx.yaml"), []byte(text), 0o640); err != nil {
		c.t.Fatal(err)
	}
}

// boot starts the container and waits until its systemd finished booting.
func boot(t *testing.T) *container {
	t.Helper()
	unit, err := filepath.Abs("../../examples/lbx.service")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c := &container{t: t, etc: filepath.Join(dir, "etc-lbx")}
	usr := filepath.Join(dir, "usr")
	dropin := filepath.Join(dir, "lbx.service.d")
	for _, d := range []string{filepath.Join(usr, "local", "bin"), c.etc, dropin} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	buildLBX(t, filepath.Join(usr, "local", "bin"))
	c.writeModel(model(false))
	conf := fmt.Sprintf("# test/systemd: a short watchdog so that a stopped lbx is killed quickly.\n[Service]\nWatchdogSec=%ds\n", int(watchdog/time.Second))
	if err := os.WriteFile(filepath.Join(dropin, "watchdog.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	c.Container = nspawn.Boot(t, nspawn.Options{
		Name: "lbx-systemd", Volatile: nspawn.VolatileYes, LogFile: filepath.Join(dir, "nspawn.log"),
		Args: []string{
			// lbx at /usr/local/bin/lbx, lbx-check next to it: an overlay
			// whose top layer holds only them.
			"--overlay-ro=/usr:" + usr + ":/usr",
			"--bind=" + c.etc + ":/etc/lbx",
			"--bind-ro=" + unit + ":/etc/systemd/system/lbx.service",
			"--bind-ro=" + dropin + ":/etc/systemd/system/lbx.service.d",
		},
	}, func(nc *nspawn.Container) {
		if out, err := nc.In(journalArgs...); err == nil {
			// Enough lines to hold a whole restart cycle or two (the
			// watchdog case fails on what happened before the last one).
			t.Logf("journal of lbx.service at the failure (last 300 lines):\n%s", nspawn.Tail(out, 300))
		}
	})
	return c
}

func TestSystemdUnit(t *testing.T) {
	nspawn.Require(t, nspawn.VolatileYes)
	t0 := time.Now()
	c := boot(t)
	t.Logf("container booted in %v (PID 1 = %d on the host)", time.Since(t0).Round(time.Millisecond), c.PID)

	// The VRRP interface: one end of a veth pair with an address to
	// advertise from. Every notification systemd receives is logged at debug.
	c.must("ip", "link", "add", "lbx0", "type", "veth", "peer", "name", "lbx0p")
	c.must("ip", "addr", "add", "10.99.0.1/24", "dev", "lbx0")
	c.must("ip", "link", "set", "lbx0", "up")
	c.must("ip", "link", "set", "lbx0p", "up")
	c.must("systemd-analyze", "log-level", "debug")
	if out := c.must("systemctl", "show", "lbx.service", "-p", "DropInPaths", "--value"); out != "/etc/systemd/system/lbx.service.d/watchdog.conf" {
		t.Fatalf("drop-in not loaded: DropInPaths=%s", out)
	}

	var mainPID string
	t.Run("start returns after READY=1", func(t *testing.T) {
		c.t = t
		start := time.Now()
		c.must("systemctl", "start", "lbx.service")
		took := time.Since(start)
		// At the moment start returned, not later.
		a := c.addrs()
		if !strings.Contains(a, " "+vip1+"/") {
			t.Errorf("systemctl start returned but %s is not on lbx0:\n%s", vip1, a)
		}
		s := c.show()
		if s["ActiveState"] != "active" || s["SubState"] != "running" {
			t.Fatalf("after start: %v", s)
		}
		mainPID = s["MainPID"]
		// A model of VRRP alone: lbx watch runs it in lbx-vrrp, in its
		// own place (the main PID systemd watches).
		if comm := strings.TrimSpace(c.must("cat", "/proc/"+mainPID+"/comm")); comm != "lbx-vrrp" {
			t.Errorf("the main process runs %s, want lbx-vrrp", comm)
		}
		// The model checks no real server (this kernel has no IPVS), so
		// lbx watch starts no checker process: lbx-check (or lbx-check-tls)
		// starts with the first checked real server (checkproc.Lazy; the VM
		// tier runs it under the daemon).
		if out, err := c.in("sh", "-c", "grep -lx 'lbx-check\\|lbx-check-tls' /proc/[0-9]*/comm; true"); err != nil || strings.TrimSpace(out) != "" {
			t.Errorf("a checker process runs for a model without checks: %q (%v)", out, err)
		}
		if w := c.must("systemctl", "show", "lbx.service", "-p", "WatchdogUSec", "--value"); w != "3s" {
			t.Errorf("WatchdogUSec=%s with the drop-in, want 3s", w)
		}
		j, ready := c.waitJournal(regexp.MustCompile(`Got notification message from PID `+mainPID+` \(READY=1`), 0, 5*time.Second)
		started := strings.Index(j, "Started lbx.service")
		if started < 0 || started < ready {
			t.Errorf("\"Started lbx.service\" (at %d) not after READY=1 from the main PID (at %d)", started, ready)
		}
		// STATUS= from lbx: its one instance MASTER, no checked servers.
		for deadline := time.Now().Add(5 * time.Second); s["StatusText"] != "1/1 VRRP MASTER"; s = c.show() {
			if time.Now().After(deadline) {
				t.Errorf("StatusText=%q, want \"1/1 VRRP MASTER\" (STATUS= from lbx)", s["StatusText"])
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("systemctl start took %v", took.Round(time.Millisecond))
	})
	if t.Failed() {
		return
	}

	t.Run("hardening leaves lbx working", func(t *testing.T) {
		c.t = t
		// The status socket and the one-writer lock must be where every
		// other lbx command (run by root from a shell, all capabilities)
		// looks for them: the host's paths, not a per-namespace suffix.
		if out, err := c.in("lbx", "status"); err != nil {
			ls, _ := c.in("ls", "/run/lbx")
			t.Errorf("lbx status from a root shell cannot reach the daemon under the unit: %v: %s (/run/lbx: %s)", err, out, strings.Join(strings.Fields(ls), " "))
		}
		if _, err := c.in("test", "-e", "/run/lbx/lock"); err != nil {
			ls, _ := c.in("ls", "/run/lbx")
			t.Errorf("the daemon's one-writer lock is not /run/lbx/lock (the lock lbx apply takes); /run/lbx holds: %s", strings.Join(strings.Fields(ls), " "))
		}
		if _, err := c.in("test", "-s", "/var/lib/lbx/owned-host.json"); err != nil {
			t.Errorf("no ownership record /var/lib/lbx/owned-host.json (StateDirectory=)")
		}
	})

	t.Run("watchdog is fed", func(t *testing.T) {
		c.t = t
		// Two watchdog periods of a healthy daemon: keep-alives, no kill.
		time.Sleep(2*watchdog + 500*time.Millisecond)
		s := c.show()
		if s["MainPID"] != mainPID || s["NRestarts"] != "0" || s["ActiveState"] != "active" {
			t.Fatalf("after %v: %v (want MainPID %s, no restart)", 2*watchdog, s, mainPID)
		}
		j, _ := c.waitJournal(regexp.MustCompile(`Got notification message from PID `+mainPID+` \(WATCHDOG=1\)`), 0, 5*time.Second)
		if strings.Contains(j, "has not turned for too long") {
			t.Errorf("lbx reported a wedged loop while healthy:\n%s", nspawn.Tail(j, 20))
		}
	})

	t.Run("reload", func(t *testing.T) {
		c.t = t
		from := len(c.journal())
		c.writeModel(model(true))
		c.must("systemctl", "reload", "lbx.service")
		_, rel := c.waitJournal(regexp.MustCompile(`Got notification message from PID `+mainPID+` \(RELOADING=1, MONOTONIC_USEC=[0-9]+\)`), from, 5*time.Second)
		_, ready := c.waitJournal(regexp.MustCompile(`Got notification message from PID `+mainPID+` \(READY=1\)`), rel, 5*time.Second)
		c.waitJournal(regexp.MustCompile(`Changed reload -> running`), ready, 5*time.Second)
		c.waitJournal(regexp.MustCompile(`msg=reloaded`), from, 5*time.Second)
		c.waitAddr(vip2, true, 5*time.Second)
		if s := c.show(); s["MainPID"] != mainPID || s["ActiveState"] != "active" {
			t.Fatalf("after reload: %v", s)
		}
	})

	t.Run("broken model fails reload, daemon keeps the old model", func(t *testing.T) {
		c.t = t
		from := len(c.journal())
		c.writeModel(brokenModel)
		defer c.writeModel(model(true)) // the later restart validates it
		out, err := c.in("systemctl", "reload", "lbx.service")
		if err == nil {
			t.Errorf("systemctl reload with a broken model succeeded: %s", out)
		}
		c.waitJournal(regexp.MustCompile(`lbx\.yaml:2:1: bogus_key`), from, 5*time.Second)
		c.waitJournal(regexp.MustCompile(`Reload failed for lbx\.service`), from, 5*time.Second)
		time.Sleep(time.Second) // a SIGHUP, had one been sent, would be handled by now
		j := c.journal()
		for _, bad := range []string{"RELOADING=1", "msg=reloaded", "reload refused"} {
			if strings.Contains(j[from:], bad) {
				t.Errorf("%q after a reload ExecReload's validate refused: the daemon was signalled", bad)
			}
		}
		if s := c.show(); s["MainPID"] != mainPID || s["ActiveState"] != "active" || s["SubState"] != "running" {
			t.Errorf("after a refused reload: %v (want MainPID %s active/running)", s, mainPID)
		}
		a := c.addrs()
		if !strings.Contains(a, " "+vip1+"/") || !strings.Contains(a, " "+vip2+"/") {
			t.Errorf("the running model's addresses are gone after a refused reload:\n%s", a)
		}
	})

	t.Run("watchdog kills a stopped daemon and systemd restarts it", func(t *testing.T) {
		c.t = t
		from := len(c.journal())
		stopped := time.Now()
		c.must("kill", "-STOP", mainPID)
		var s map[string]string
		for {
			s = c.show()
			if s["MainPID"] != mainPID && s["MainPID"] != "0" && s["ActiveState"] == "active" && s["SubState"] == "running" {
				break
			}
			if time.Since(stopped) > watchdog+30*time.Second {
				t.Fatalf("no restart %v after SIGSTOP: %v", time.Since(stopped), s)
			}
			time.Sleep(100 * time.Millisecond)
		}
		took := time.Since(stopped)
		mainPID = s["MainPID"]
		if took < watchdog {
			t.Errorf("restarted %v after SIGSTOP, sooner than WatchdogSec=%v", took, watchdog)
		}
		if s["NRestarts"] != "1" {
			t.Errorf("NRestarts=%s, want 1", s["NRestarts"])
		}
		c.waitJournal(regexp.MustCompile(`Watchdog timeout`), from, 5*time.Second)
		c.waitJournal(regexp.MustCompile(`Failed with result 'watchdog'`), from, 5*time.Second)
		c.waitAddr(vip1, true, 5*time.Second)
		c.waitAddr(vip2, true, 5*time.Second)
		t.Logf("SIGSTOP to a running unit again: %v (WatchdogSec=%v, RestartSec=2s)", took.Round(time.Millisecond), watchdog)
	})

	t.Run("stop releases the addresses", func(t *testing.T) {
		c.t = t
		from := len(c.journal())
		start := time.Now()
		c.must("systemctl", "stop", "lbx.service")
		took := time.Since(start)
		a := c.addrs()
		if strings.Contains(a, " "+vip1+"/") || strings.Contains(a, " "+vip2+"/") {
			t.Errorf("systemctl stop returned with VRRP addresses still on lbx0:\n%s", a)
		}
		if !strings.Contains(a, " 10.99.0.1/") {
			t.Errorf("lbx0's own address is gone after stop:\n%s", a)
		}
		s := c.show()
		if s["ActiveState"] != "inactive" || s["Result"] != "success" || s["ExecMainStatus"] != "0" || s["MainPID"] != "0" {
			t.Errorf("after stop: %v (want inactive, result success, exit status 0)", s)
		}
		c.waitJournal(regexp.MustCompile(`Got notification message from PID `+mainPID+` \(STOPPING=1\)`), from, 5*time.Second)
		if out, err := c.in("sh", "-c", "grep -lx 'lbx\\|lbx-check\\|lbx-check-tls\\|lbx-vrrp' /proc/[0-9]*/comm"); err == nil {
			t.Errorf("lbx processes left after stop: %s", out)
		}
		t.Logf("systemctl stop took %v", took.Round(time.Millisecond))
	})
	c.t = t
	t.Logf("whole test %v", time.Since(t0).Round(time.Millisecond))
}
