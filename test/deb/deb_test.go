// Package deb tests the Debian package that `make deb` builds, for real:
// systemd-nspawn boots the host's own root as a volatile overlay
// (--volatile=overlay: every write lands in a tmpfs, so the host's files
// and dpkg database stay as they were) with systemd as PID 1 in a private
// network namespace; inside it the test installs the package with dpkg,
// runs lbx.service with a VRRP-only model on a veth, reloads, stops, and
// purges it, checking what systemd, the kernel and the file system say at
// each step; TestLintian runs lintian on the same .deb. Needs root,
// systemd-nspawn (systemd-container), dpkg-deb, make and lintian; under
// CI=true a skip fails. LBX_DEB=path tests a prebuilt .deb.
package deb

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/nspawn"
)

const (
	vip1        = "192.0.2.50"
	vip2        = "192.0.2.51"
	metricsAddr = "127.0.0.1:9650"
)

// model is a VRRP-only model (the host kernel has no IPVS), MASTER at
// once on lbx0; extra adds a second address (a reload's visible effect).
func model(extra bool) string {
	if extra {
		return nspawn.VRRPModel("deb-test", 52, vip1, vip2)
	}
	return nspawn.VRRPModel("deb-test", 52, vip1)
}

// built is make deb's result, shared by the tests of this package.
var built struct {
	once sync.Once
	deb  string
	err  error
}

// buildDeb runs make deb (what an operator runs) once and returns the .deb.
func buildDeb(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("LBX_DEB"); p != "" {
		return p
	}
	for _, tool := range []string{"dpkg-deb", "make"} {
		if _, err := exec.LookPath(tool); err != nil {
			nspawn.Skip(t, tool+" missing (apt-get install dpkg make)")
		}
	}
	built.once.Do(func() {
		start := time.Now()
		cmd := exec.Command("make", "--no-print-directory", "deb")
		cmd.Dir = "../.."
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			built.err = fmt.Errorf("make deb: %v\n%s", err, nspawn.Tail(stderr.String(), 30))
			return
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		built.deb, built.err = filepath.Abs(filepath.Join("../..", lines[len(lines)-1]))
		t.Logf("make deb: %s in %v", filepath.Base(built.deb), time.Since(start).Round(time.Second))
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.deb
}

// TestLintian: the package is lintian clean, every tag down to pedantic
// ones; packaging/deb/lintian-overrides explains each override.
func TestLintian(t *testing.T) {
	if testing.Short() {
		nspawn.Skip(t, "-short")
	}
	if _, err := exec.LookPath("lintian"); err != nil {
		nspawn.Skip(t, "lintian missing (apt-get install lintian)")
	}
	deb := buildDeb(t)
	out, err := exec.Command("lintian", "--display-info", "--pedantic", "--fail-on", "error,warning,info,pedantic", deb).CombinedOutput()
	if err != nil {
		t.Errorf("lintian %s: %v\n%s", filepath.Base(deb), err, out)
	}
}

// hostState is what the package would change on the host if the
// container leaked: the dpkg record of lbx and the paths it installs.
func hostState() string {
	out, _ := exec.Command("dpkg-query", "-W", "-f=${Package} ${Version} ${db:Status-Abbrev}", "lbx").CombinedOutput()
	s := string(out)
	for _, p := range []string{"/usr/bin/lbx", "/etc/lbx", "/etc/default/lbx", "/lib/systemd/system/lbx.service", "/var/lib/lbx"} {
		_, err := os.Stat(p)
		s += "\n" + p + " exists=" + boolString(err == nil)
	}
	return s
}

func boolString(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

type box struct {
	*nspawn.Container
	t *testing.T
}

// write puts a file into the container's file system through its root as
// seen from the host (/proc/PID/root: the overlay, not the host's /etc).
func (b box) write(path, text string) {
	b.t.Helper()
	if err := os.WriteFile(filepath.Join("/proc", strconv.Itoa(b.PID), "root", path), []byte(text), 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func (b box) exists(path string) bool {
	_, err := b.In("test", "-e", path)
	return err == nil
}

func (b box) addrs() string {
	b.t.Helper()
	return b.Must(b.t, "ip", "-4", "-o", "addr", "show", "dev", "lbx0")
}

// waitAddr waits until addr is on lbx0 (present) or gone.
func (b box) waitAddr(addr string, present bool, timeout time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		a := b.addrs()
		if strings.Contains(a, " "+addr+"/") == present {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("address %s present=%v wanted within %v; lbx0 has:\n%s", addr, present, timeout, a)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (b box) unit() map[string]string {
	b.t.Helper()
	return b.Show(b.t, "lbx.service", "LoadState", "ActiveState", "SubState", "UnitFileState", "MainPID", "FragmentPath")
}

func TestPackage(t *testing.T) {
	nspawn.Require(t, nspawn.VolatileOverlay)
	t0 := time.Now()
	deb := buildDeb(t)

	// Checked after the container is gone (cleanups run last-in first-out).
	before := hostState()
	t.Cleanup(func() {
		if after := hostState(); after != before {
			t.Errorf("the host changed:\nbefore: %s\nafter:  %s", before, after)
		}
	})

	dir := t.TempDir()
	if err := os.Link(deb, filepath.Join(dir, "lbx.deb")); err != nil {
		b, err := os.ReadFile(deb)
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, "lbx.deb"), b, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	c := nspawn.Boot(t, nspawn.Options{
		Name: "lbx-deb", Volatile: nspawn.VolatileOverlay, LogFile: filepath.Join(dir, "nspawn.log"),
		Args: []string{"--bind-ro=" + dir + ":/lbx-deb"},
	}, func(c *nspawn.Container) {
		if out, err := c.In("journalctl", "--no-pager", "-q", "-u", "lbx.service"); err == nil {
			t.Logf("journal of lbx.service at the failure (last 40 lines):\n%s", nspawn.Tail(out, 40))
		}
	})
	b := box{Container: c, t: t}
	t.Logf("container booted in %v (PID 1 = %d on the host)", time.Since(t0).Round(time.Millisecond), c.PID)
	// A Docker-built host may have a policy-rc.d that forbids maintainer
	// scripts any service action (exit 101): the container is a machine
	// of its own, so the package's scripts run as on a real one.
	b.Must(t, "rm", "-f", "/usr/sbin/policy-rc.d")
	b.Must(t, "ip", "link", "add", "lbx0", "type", "veth", "peer", "name", "lbx0p")
	b.Must(t, "ip", "addr", "add", "10.99.0.1/24", "dev", "lbx0")
	b.Must(t, "ip", "link", "set", "lbx0", "up")
	b.Must(t, "ip", "link", "set", "lbx0p", "up")

	steps := []struct {
		name string
		run  func(b box)
	}{
		{"dpkg -i installs, leaves the service disabled and stopped", func(b box) {
			b.Must(b.t, "dpkg", "-i", "/lbx-deb/lbx.deb")
			for _, p := range []string{"/usr/bin/lbx", "/usr/bin/lbx-check", "/usr/bin/lbx-check-tls", "/usr/bin/lbx-bgp",
				"/lib/systemd/system/lbx.service", "/etc/lbx/lbx.yaml", "/etc/default/lbx", "/usr/share/man/man1/lbx.1.gz",
				"/usr/share/man/man1/lbx-watch.1.gz", "/usr/share/man/man1/lbx-check.1.gz", "/usr/share/man/man1/lbx-check-tls.1.gz",
				"/usr/share/man/man1/lbx-bgp.1.gz", "/usr/share/man/man5/lbx.yaml.5.gz", "/usr/share/bash-completion/completions/lbx",
				"/usr/share/doc/lbx/copyright", "/usr/share/lbx/lbx.schema.json"} {
				if !b.exists(p) {
					b.t.Errorf("%s not installed", p)
				}
			}
			// The two checkers are one build (lbx watch refuses a checker
			// of another), each under its own name.
			build, _ := strings.CutPrefix(b.Must(b.t, "lbx-check", "--version"), "lbx-check ")
			if tls := b.Must(b.t, "lbx-check-tls", "--version"); tls != "lbx-check-tls "+build {
				b.t.Errorf("lbx-check-tls --version printed %q, want \"lbx-check-tls\" and lbx-check's build %q", tls, build)
			}
			u := b.unit()
			if u["LoadState"] != "loaded" || u["FragmentPath"] != "/lib/systemd/system/lbx.service" {
				b.t.Errorf("systemd does not see the packaged unit: %v", u)
			}
			if u["UnitFileState"] != "disabled" || u["ActiveState"] != "inactive" {
				b.t.Errorf("after dpkg -i: %v, want disabled and inactive (the package starts nothing)", u)
			}
			// The shipped sample model is one lbx accepts, and editors find
			// the schema its modeline names.
			b.Must(b.t, "lbx", "validate", "-f", "/etc/lbx/lbx.yaml")
			if head := b.Must(b.t, "head", "-n1", "/etc/lbx/lbx.yaml"); !strings.Contains(head, "$schema=/usr/share/lbx/lbx.schema.json") {
				b.t.Errorf("/etc/lbx/lbx.yaml's modeline %q does not name the installed schema", head)
			}
		}},
		{"enable --now runs the model with LBX_OPTS", func(b box) {
			b.write("/etc/lbx/lbx.yaml", model(false))
			b.write("/etc/default/lbx", "LBX_OPTS=\"--metrics-addr "+metricsAddr+"\"\n")
			b.Must(b.t, "systemctl", "enable", "--now", "lbx.service")
			u := b.unit()
			if u["ActiveState"] != "active" || u["SubState"] != "running" || u["UnitFileState"] != "enabled" {
				b.t.Fatalf("after enable --now: %v", u)
			}
			// Type=notify: start returned after the first reconcile.
			if a := b.addrs(); !strings.Contains(a, " "+vip1+"/") {
				b.t.Errorf("systemctl start returned but %s is not on lbx0:\n%s", vip1, a)
			}
			cmdline := strings.ReplaceAll(b.Must(b.t, "cat", "/proc/"+u["MainPID"]+"/cmdline"), "\x00", " ")
			if !strings.Contains(cmdline, "/usr/bin/lbx watch -f /etc/lbx/lbx.yaml --metrics-addr "+metricsAddr) {
				b.t.Errorf("main process %q: want /usr/bin/lbx watch -f /etc/lbx/lbx.yaml with LBX_OPTS from /etc/default/lbx", cmdline)
			}
			if out := b.Must(b.t, "ss", "-Hltn", "sport = :"+metricsAddr[strings.LastIndex(metricsAddr, ":")+1:]); out == "" {
				b.t.Errorf("nothing listens on %s (--metrics-addr from LBX_OPTS)", metricsAddr)
			}
			b.Must(b.t, "lbx", "status")
		}},
		{"reload takes the changed model", func(b box) {
			pid := b.unit()["MainPID"]
			b.write("/etc/lbx/lbx.yaml", model(true))
			b.Must(b.t, "systemctl", "reload", "lbx.service")
			b.waitAddr(vip2, true, 5*time.Second)
			if u := b.unit(); u["MainPID"] != pid || u["ActiveState"] != "active" {
				b.t.Errorf("after reload: %v, want the same main PID %s, active", u, pid)
			}
		}},
		{"stop removes the addresses", func(b box) {
			b.Must(b.t, "systemctl", "stop", "lbx.service")
			a := b.addrs()
			if strings.Contains(a, " "+vip1+"/") || strings.Contains(a, " "+vip2+"/") {
				b.t.Errorf("systemctl stop returned with VRRP addresses on lbx0:\n%s", a)
			}
			if u := b.unit(); u["ActiveState"] != "inactive" {
				b.t.Errorf("after stop: %v", u)
			}
		}},
		{"purge stops a running lbx and removes everything", func(b box) {
			b.Must(b.t, "systemctl", "start", "lbx.service")
			b.waitAddr(vip1, true, 5*time.Second)
			if !b.exists("/var/lib/lbx") {
				b.t.Errorf("no /var/lib/lbx while lbx runs (StateDirectory=): the purge below would prove nothing")
			}
			b.Must(b.t, "dpkg", "--purge", "lbx")
			// prerm stopped the service: lbx handed its addresses back.
			if a := b.addrs(); strings.Contains(a, " "+vip1+"/") {
				b.t.Errorf("lbx's address still on lbx0 after dpkg --purge:\n%s", a)
			}
			if out, err := b.In("sh", "-c", "grep -lx 'lbx\\|lbx-check\\|lbx-check-tls\\|lbx-bgp' /proc/[0-9]*/comm"); err == nil {
				b.t.Errorf("lbx processes left after dpkg --purge: %s", out)
			}
			for _, p := range []string{"/usr/bin/lbx", "/usr/bin/lbx-check", "/usr/bin/lbx-check-tls", "/usr/bin/lbx-bgp",
				"/lib/systemd/system/lbx.service", "/etc/systemd/system/multi-user.target.wants/lbx.service", "/etc/lbx", "/etc/default/lbx",
				"/var/lib/lbx", "/usr/share/doc/lbx", "/usr/share/man/man1/lbx.1.gz"} {
				if b.exists(p) {
					b.t.Errorf("%s left after dpkg --purge", p)
				}
			}
			if u := b.unit(); u["LoadState"] != "not-found" {
				b.t.Errorf("systemd still knows lbx.service after the purge: %v", u)
			}
			if out, err := b.In("dpkg-query", "-W", "-f=${db:Status-Abbrev}", "lbx"); err == nil && strings.TrimSpace(out) != "" {
				b.t.Errorf("dpkg still records lbx after the purge: %q", out)
			}
		}},
	}
	for _, s := range steps {
		if !t.Run(s.name, func(t *testing.T) { s.run(box{Container: c, t: t}) }) {
			break // each step builds on the one before
		}
	}
	t.Logf("whole test %v", time.Since(t0).Round(time.Millisecond))
}
