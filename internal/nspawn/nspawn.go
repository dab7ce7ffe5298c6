// Package nspawn boots the host's own systemd in a throwaway container
// for tests (systemd-nspawn --directory=/ with a volatile root, so the
// host's files stay untouched) and runs commands inside it with nsenter.
// Tests that need it: test/systemd (the unit file as is) and test/deb
// (the Debian package installed, run and purged).
package nspawn

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/testkit"
)

// Skip skips with one line saying why; under CI=true a skip would hide an
// untested unit or package, so it fails instead.
func Skip(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true and the test cannot run: %s", why)
	}
	testkit.Skip(t, "skipped: "+why)
}

// Volatile modes of the container's root (systemd-nspawn --volatile=).
const (
	// VolatileYes: a tmpfs root with the host's /usr bound read-only.
	VolatileYes = "yes"
	// VolatileOverlay: the host's root as the lower layer of an overlayfs
	// whose upper layer is a tmpfs: every file is there and writable
	// (dpkg can install), every write is gone with the container. Boot
	// mounts it itself: nspawn refuses --volatile=overlay on the host's /.
	VolatileOverlay = "overlay"
)

// Require skips (fails under CI=true) unless a container in this mode
// can boot here: Linux, root, systemd-nspawn, nsenter and systemd.
func Require(t testing.TB, volatile string) {
	t.Helper()
	if runtime.GOOS != "linux" {
		Skip(t, "needs Linux")
	}
	if testing.Short() {
		Skip(t, "-short")
	}
	if os.Geteuid() != 0 {
		Skip(t, "needs root (systemd-nspawn)")
	}
	if _, err := exec.LookPath("systemd-nspawn"); err != nil {
		Skip(t, "systemd-nspawn missing (apt-get install systemd-container)")
	}
	if _, err := exec.LookPath("nsenter"); err != nil {
		Skip(t, "nsenter missing (apt-get install util-linux)")
	}
	if _, err := os.Stat("/usr/lib/systemd/systemd"); err != nil {
		Skip(t, "/usr/lib/systemd/systemd missing (apt-get install systemd)")
	}
	if volatile == VolatileYes {
		for _, d := range []string{"/bin", "/sbin", "/lib"} {
			if l, err := os.Readlink(d); err != nil || !strings.HasPrefix(l, "usr/") {
				Skip(t, d+" is not a symlink into /usr: --volatile=yes cannot boot this host's /usr alone")
			}
		}
	}
	if volatile == VolatileOverlay {
		b, _ := os.ReadFile("/proc/filesystems")
		if !strings.Contains(string(b), "\toverlay\n") {
			if err := exec.Command("modprobe", "overlay").Run(); err != nil {
				Skip(t, "the kernel has no overlayfs (--volatile=overlay)")
			}
		}
	}
}

// Options of a container.
type Options struct {
	Name     string   // machine name; the test's PID is appended
	Volatile string   // VolatileYes or VolatileOverlay
	Args     []string // more systemd-nspawn options: --bind=, --overlay-ro=, ...
	LogFile  string   // nspawn's console output
}

// Container is a booted systemd-nspawn machine.
type Container struct {
	PID int // the container's PID 1 (systemd), in the host's PID namespace
}

// In runs a command inside the container (all its namespaces and root).
func (c *Container) In(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "nsenter", append([]string{"-t", strconv.Itoa(c.PID), "-a", "--"}, args...)...)
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// Must runs a command inside the container and fails t on error.
func (c *Container) Must(t testing.TB, args ...string) string {
	t.Helper()
	out, err := c.In(args...)
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// Show returns systemctl show's properties of a unit.
func (c *Container) Show(t testing.TB, unit string, props ...string) map[string]string {
	t.Helper()
	out := c.Must(t, "systemctl", "show", unit, "-p", strings.Join(props, ","))
	m := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			m[k] = v
		}
	}
	return m
}

// Tail is the last n lines of s.
func Tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Boot starts the container with basic.target (nothing of the host's
// multi-user.target) and waits until its systemd finished booting; the
// container is halted when the test ends. onFailure, if not nil, runs
// before the halt when the test failed (to log the journal).
func Boot(t *testing.T, o Options, onFailure func(*Container)) *Container {
	t.Helper()
	logf, err := os.Create(o.LogFile)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	root := []string{"--directory=/", "--volatile=" + o.Volatile}
	if o.Volatile == VolatileOverlay {
		root = []string{"--directory=" + overlayRoot(t), "--volatile=no"}
	}
	args := []string{"--quiet",
		"--register=no", "--keep-unit", // no machined, no scope: works without a host systemd
		"--private-network", "--machine=" + fmt.Sprintf("%s-%d", o.Name, os.Getpid()), "--console=pipe"}
	args = append(args, root...)
	args = append(args, o.Args...)
	// The volatile /etc gets the distribution's presets, which may enable
	// systemd-networkd: masked, so that it leaves the test's veth alone
	// and network-online.target is reached at once instead of after
	// wait-online's 2 min timeout.
	args = append(args, "--boot", "--", "systemd.unit=basic.target", "systemd.firstboot=no",
		"systemd.mask=systemd-networkd.service", "systemd.mask=systemd-networkd-wait-online.service")
	cmd := exec.Command("systemd-nspawn", args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		Skip(t, "systemd-nspawn: "+err.Error())
	}
	c := &Container{}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if t.Failed() && onFailure != nil && c.PID > 0 {
			onFailure(c)
		}
		// SIGTERM: nspawn halts the container (systemd shuts down) and exits.
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			t.Errorf("systemd-nspawn still running 20 s after SIGTERM: killing the container")
			if c.PID > 0 {
				syscall.Kill(c.PID, syscall.SIGKILL) // PID 1 of its namespace: takes everything in it
			}
			cmd.Process.Kill()
			<-exited
		}
	})
	bootLog := func() string {
		b, _ := os.ReadFile(o.LogFile)
		return strings.ReplaceAll(Tail(strings.TrimSpace(string(b)), 3), "\n", " | ")
	}
	// The container's PID 1 is nspawn's child running systemd in a PID
	// namespace of its own (nspawn's first child, which sets the container
	// up, runs in ours).
	selfNS, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for c.PID == 0 {
		select {
		case err := <-exited:
			exited <- err
			Skip(t, fmt.Sprintf("systemd-nspawn exited at boot (%v): %s", err, bootLog()))
		default:
		}
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid))
		for _, f := range strings.Fields(string(b)) {
			ns, _ := os.Readlink("/proc/" + f + "/ns/pid")
			comm, _ := os.ReadFile("/proc/" + f + "/comm")
			if ns != "" && ns != selfNS && strings.TrimSpace(string(comm)) == "systemd" {
				c.PID, _ = strconv.Atoi(f)
			}
		}
		if c.PID != 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("systemd-nspawn started no container within 30 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// is-system-running --wait returns when boot is over; "degraded" is
	// fine (units of the host's /usr that want a real machine).
	for {
		out, _ := c.In("systemctl", "is-system-running", "--wait")
		if out == "running" || out == "degraded" {
			return c
		}
		if time.Now().After(deadline) {
			Skip(t, fmt.Sprintf("systemd in the container did not finish booting within 30 s (is-system-running: %q): %s", out, bootLog()))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// overlayRoot mounts the host's root file system read-only under an
// overlayfs whose upper layer is a tmpfs of its own and returns the merged
// directory; both are unmounted when the test ends (after the container:
// cleanups run last-in first-out). Only the root file system is in it:
// nspawn mounts /proc, /sys, /dev and /run itself.
func overlayRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "nspawn-overlay-")
	if err != nil {
		t.Fatal(err)
	}
	layers, merged := filepath.Join(dir, "layers"), filepath.Join(dir, "root")
	for _, d := range []string{layers, merged} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var mounted []string
	t.Cleanup(func() {
		for i := len(mounted) - 1; i >= 0; i-- {
			if err := syscall.Unmount(mounted[i], 0); err != nil {
				t.Errorf("unmount %s: %v", mounted[i], err)
				return // keep what is still mounted rather than delete through it
			}
		}
		os.RemoveAll(dir)
	})
	// The upper layer must not be on the lower one's file system.
	if err := syscall.Mount("tmpfs", layers, "tmpfs", 0, "mode=0755"); err != nil {
		t.Fatalf("tmpfs for the overlay: %v", err)
	}
	mounted = append(mounted, layers)
	for _, d := range []string{"upper", "work"} {
		if err := os.Mkdir(filepath.Join(layers, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	opts := "lowerdir=/,upperdir=" + filepath.Join(layers, "upper") + ",workdir=" + filepath.Join(layers, "work")
	if err := syscall.Mount("overlay", merged, "overlay", 0, opts); err != nil {
		Skip(t, "cannot mount an overlay of the host's root: "+err.Error())
	}
	mounted = append(mounted, merged)
	return merged
}
