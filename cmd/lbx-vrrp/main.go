// Command lbx-vrrp is lbx watch for a model of VRRP alone (package
// vrrponly): lbx watch compiles such a model and executes lbx-vrrp in its
// own place with the result, so that the resident daemon links no model
// loader, planner or IPVS code. It is not meant to be run by hand.
//
//	lbx-vrrp --spec-fd 3 [flags] -- /usr/bin/lbx watch -f FILE ...
//
// The command after "--" is lbx watch as it was started: lbx-vrrp runs it
// with --vrrp-spec for a reload's spec, and executes it (whole engine) when
// a reload's model needs more than VRRP.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/lbx-dev/lbx/cmd/internal/helperflags"
	"github.com/lbx-dev/lbx/internal/buildinfo"
	"github.com/lbx-dev/lbx/internal/cli"
	"github.com/lbx-dev/lbx/internal/footprint"
	"github.com/lbx-dev/lbx/vrrponly"
)

// version is set at build time with lbx's: -ldflags "-X main.version=v1.2.3".
var version = "dev"

const name = "lbx-vrrp"

type flags struct {
	specFD                  int
	stateDir, netnsID, lock string
	statusSocket, statsFile string
	level, format           string
	reload                  bool     // reload at once: a SIGHUP came while lbx watch loaded the model
	lbx                     []string // lbx watch's command line
}

func main() {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	var f flags
	fs.IntVar(&f.specFD, "spec-fd", -1, "file descriptor to read the compiled model (lbx watch's spec) from")
	fs.StringVar(&f.stateDir, "state-dir", "", "directory of the ownership record")
	fs.StringVar(&f.netnsID, "netns-id", "", "network namespace's identity in the record's and lock's names")
	fs.StringVar(&f.lock, "lock", "", "the one-writer lock's path")
	fs.StringVar(&f.statusSocket, "status-socket", "", "unix socket `lbx status` reads; empty: none")
	fs.StringVar(&f.statsFile, "stats-file", "", "write VRRP counters as JSON to this file")
	fs.StringVar(&f.level, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&f.format, "log-format", "text", "log format on stderr: text or json")
	fs.BoolVar(&f.reload, "reload", false, "reload the model file once started (lbx watch got a SIGHUP while it loaded it)")
	showBuild := fs.Bool("build", false, "print the build as JSON (what lbx watch compares with its own) and exit")
	if !helperflags.Parse(fs, name, os.Args[1:]) {
		return
	}
	if *showBuild {
		json.NewEncoder(os.Stdout).Encode(buildinfo.This(version))
		return
	}
	f.lbx = fs.Args()
	if err := run(f); err != nil {
		cli.Fatal(os.Stderr, f.format, name, "", err, 1)
		os.Exit(1)
	}
}

func run(f flags) error {
	if n := cli.DaemonProcs(os.Getenv); n > 0 {
		runtime.GOMAXPROCS(n)
	}
	footprint.Daemon(os.Getenv)
	if err := cli.SetupLogging(os.Stderr, f.level, f.format); err != nil {
		return err
	}
	if f.specFD < 0 || len(f.lbx) == 0 {
		return errors.New("lbx watch starts lbx-vrrp (--spec-fd and lbx watch's command after --); run lbx watch instead")
	}
	spec, err := readSpecFD(f.specFD)
	if err != nil {
		return err
	}
	if b := buildinfo.This(version); spec.Build != b {
		return fmt.Errorf("the spec comes from lbx %s, and lbx-vrrp is %s: install lbx and lbx-vrrp from the same build", spec.Build, b)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	reload := make(chan struct{}, 1)
	if f.reload {
		reload <- struct{}{}
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		for range hup {
			select {
			case reload <- struct{}{}:
			default: // a reload is already pending
			}
		}
	}()
	return vrrponly.Run(ctx, vrrponly.Options{
		Spec: spec, Build: buildinfo.This(version), StateDir: f.stateDir, NetnsID: f.netnsID, LockPath: f.lock,
		StatusSocket: f.statusSocket, StatsFile: f.statsFile, Version: version, Reload: reload,
		Compile:  func(ctx context.Context) (*vrrponly.Spec, error) { return compile(ctx, f.lbx, f.level, f.format) },
		HandBack: func(masters []string) error { return handBack(ctx, hup, f.lbx, masters) },
	})
}

// readSpecFD reads the spec lbx watch left on fd (a memory file) in one
// read of its size, and closes it.
func readSpecFD(fd int) (*vrrponly.Spec, error) {
	file := os.NewFile(uintptr(fd), "spec")
	if file == nil {
		return nil, fmt.Errorf("--spec-fd %d is not open", fd)
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return nil, fmt.Errorf("--spec-fd %d: %w", fd, err)
	}
	if st.Size() > vrrponly.MaxSpec {
		return nil, fmt.Errorf("--spec-fd %d: more than %d bytes", fd, vrrponly.MaxSpec)
	}
	b := make([]byte, st.Size())
	if _, err := file.ReadAt(b, 0); err != nil {
		return nil, fmt.Errorf("--spec-fd %d: %w", fd, err)
	}
	return vrrponly.ParseSpec(b)
}

// compileTimeout bounds a reload's compile (a model of thousands of
// instances loads in well under a second).
const compileTimeout = 2 * time.Minute

// compile runs lbx watch's command line with --vrrp-spec, which loads and
// checks the model file and prints its spec (its errors in Spec.Error).
// The child logs on this process's stderr, in its format: the warnings of
// the new model's checks reach the daemon's log.
func compile(ctx context.Context, lbx []string, level, format string) (*vrrponly.Spec, error) {
	ctx, cancel := context.WithTimeout(ctx, compileTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, lbx[0], append(lbx[1:], "--vrrp-spec", "--log-level", level, "--log-format", format)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", lbx[0], err)
	}
	spec, readErr := vrrponly.ReadSpec(out)
	io.Copy(io.Discard, out) // the rest, so that Wait does not block on it
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("%s --vrrp-spec: %w", lbx[0], err)
	}
	if readErr != nil {
		return nil, readErr
	}
	if spec.Error != "" {
		return nil, errors.New(spec.Error)
	}
	return spec, nil
}

// handBack executes lbx watch with its whole engine in this process's
// place: the one-writer lock and the status socket close with the exec
// (close-on-exec), the addresses stay, and the instances that were MASTER
// start as MASTER. SIGHUP stays ignored across the exec until lbx watch
// takes it (a second reload meanwhile must not end the daemon). A stop
// (ctx) that came first is left to this process, which then releases
// the addresses.
func handBack(ctx context.Context, hup chan os.Signal, lbx []string, masters []string) error {
	args := append(append([]string{}, lbx...), "--engine", "full", "--handed-back")
	for _, name := range masters {
		args = append(args, "--resume-master", name)
	}
	signal.Ignore(syscall.SIGHUP)
	defer signal.Notify(hup, syscall.SIGHUP) // reached when no exec happened
	if ctx.Err() != nil {
		return errors.New("lbx-vrrp is stopping")
	}
	return syscall.Exec(lbx[0], args, os.Environ())
}
