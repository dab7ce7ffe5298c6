package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/lbx-dev/lbx/checkproc"
	"github.com/lbx-dev/lbx/cmd/lbx/internal/ops"
	"github.com/lbx-dev/lbx/internal/buildinfo"
	"github.com/lbx-dev/lbx/internal/cli"
	"github.com/lbx-dev/lbx/internal/footprint"
	"github.com/lbx-dev/lbx/internal/paths"
	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/vrrponly"
	"github.com/lbx-dev/lbx/watch"
)

func init() {
	var file, node, stateDir, runDir, statsFile, metricsAddr, statusSocket, checker, engine string
	var vrrpSpec, handedBack bool
	var resumeMasters []string
	c := &cobra.Command{
		Use:   "watch -f FILE",
		Short: "Stay resident: VRRP, health checks, and the kernel kept at the model (foreground)",
		Long: `watch runs the model's VRRP instances (v2/v3, keepalived-compatible) and
health checks, and keeps the kernel at compile(model, VRRP states, health)
through the plan/apply path: every transition is applied at once, a periodic
resync (global.resync_interval, 10s) and address notifications repair drift
made behind lbx's back. One writer: the daemon holds lbx's lock.

Signals: SIGHUP reloads the model as a diff (nothing flushed, health of
unchanged real servers kept; an invalid file leaves the running model in
force). SIGTERM or SIGINT stops cleanly: masters send priority 0 so that a
backup takes over at once, addresses are removed, IPVS is kept (or removed
with global.ipvs_on_stop: remove). Logs go to stderr; ` + "`lbx status`" + ` reads the
running daemon.

Health checks run in a child process, lbx-check (next to lbx, or on PATH),
as keepalived's checker does, started with the first checked real server; lbx watch restarts it if it dies and gives it
every server's last verdict, so IPVS does not change. ssl_get checks run in
lbx-check-tls instead (the same with TLS, which lbx and lbx-check leave out
to save resident memory): a model with one starts it, a reload that adds
the first moves the checks to it. --checker inline runs the checks in the
daemon itself, ssl_get excepted. lbx-check must be the same build as lbx (same
version, revision and sources; lbx-check --version prints it): --checker
process refuses another, auto warns and runs the checks inline, and a
restart of a replaced binary fails (logged, retried) until they match.

The daemon runs on one CPU, as keepalived's processes do, unless the
GOMAXPROCS environment variable says otherwise, and opts out of transparent
huge pages (with the kernel's THP mode "always", they make megabytes
resident that the daemon does not use): it re-executes itself once at its
start (same process, same PID) so that the setting covers its first pages;
lbx-check and scripts inherit it.
It collects garbage at GOGC=50 unless GOGC or GOMEMLIMIT is set.

A model of VRRP alone (instances, their scripts, sync groups and virtual
addresses; no virtual servers, static addresses, routes, ipvs, bgp or
lvs_sync_daemon) runs in lbx-vrrp, which lbx watch executes in its own
place (same PID) after loading and checking the model: it links no model
loader, planner or IPVS code and holds about half the memory, with the
same behaviour, status socket and signals, and no metrics. --engine full,
--metrics-addr, or lbx-vrrp missing or of another build keep the whole
engine (logged). A reload that brings more than VRRP hands the daemon back
to the whole engine in place, its MASTER instances staying MASTER.`,
		Example: `  lbx watch -f /etc/lbx/lbx.yaml
  lbx watch -f lbx.yaml --metrics-addr 127.0.0.1:9650 --log-format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if file == "" {
				return errors.New("give the model with -f FILE")
			}
			if vrrpSpec {
				return printVRRPSpec(file, node, checker)
			}
			if engine != "auto" && engine != "full" {
				return fmt.Errorf("--engine %q: want auto or full", engine)
			}
			if n := cli.DaemonProcs(os.Getenv); n > 0 {
				runtime.GOMAXPROCS(n)
			}
			// Re-executes lbx watch once, with huge pages off from its
			// first page (footprint.WithoutHugePages says why).
			if err := footprint.WithoutHugePages(); err != nil {
				slog.Warn("resident memory may grow by huge pages", "err", err)
			}
			footprint.Daemon(os.Getenv)
			// From here a stop or a reload is kept for the daemon, not
			// fatal: a daemon handed back by lbx-vrrp holds its masters'
			// addresses already, and must release them at a stop.
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			term := make(chan os.Signal, 1)
			signal.Notify(term, syscall.SIGTERM, syscall.SIGINT)
			go func() {
				select {
				case <-term:
					cancel()
				case <-ctx.Done():
				}
			}()
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			// The checker's build is probed (a start of lbx-check) while
			// the model loads: both are on the way to the first table.
			probed := make(chan probe, 1)
			go func() {
				nc, err := checkerOf(checker, checkproc.Find)
				probed <- probe{nc, err}
			}()
			m, name, err := ops.LoadView(file, node)
			p := <-probed
			if err != nil {
				return err
			}
			newChecker, err := p.newChecker, p.err
			if err != nil {
				return err
			}
			lockPath, err := paths.Lock(runDir, "")
			if err != nil {
				return err
			}
			netnsID, err := paths.NetnsID("")
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("status-socket") {
				if statusSocket, err = paths.StatusSocket(runDir, ""); err != nil {
					return err
				}
			}
			if engine == "auto" {
				why, err := execVRRPProcess(m, file, cmp.Or(name, node), vrrpArgs{stateDir: stateDir, netnsID: netnsID, lock: lockPath,
					statusSocket: statusSocket, statsFile: statsFile, metricsAddr: metricsAddr}, execSignals{ctx: ctx, term: term, hup: hup})
				if errors.Is(err, errStoppedAtStart) {
					slog.Info("lbx watch stopped before it started")
					return nil
				}
				if err != nil {
					return err
				}
				slog.Info("lbx watch runs its whole engine", "why", why)
			}
			reload := make(chan struct{}, 1)
			go func() {
				for range hup {
					select {
					case reload <- struct{}{}:
					default: // a reload is already pending
					}
				}
			}()
			return watch.Run(ctx, watch.Options{
				Model: m, File: file, Node: cmp.Or(name, node), StateDir: stateDir, StatsFile: statsFile,
				MetricsAddr: metricsAddr, StatusSocket: statusSocket, LockPath: lockPath, NetnsID: netnsID,
				Reload: reload, Version: version, NewChecker: newChecker,
				HandedBack: handedBack, ResumeMasters: resumeMasters,
			})
		},
	}
	c.Flags().StringVarP(&file, "file", "f", "", "model file (YAML)")
	nodeFlag(c, &node)
	c.Flags().StringVar(&stateDir, "state-dir", paths.StateDir, "directory of the ownership record")
	c.Flags().StringVar(&runDir, "run-dir", paths.RunDir, "directory of the one-writer lock and the status socket")
	c.Flags().StringVar(&statsFile, "stats-file", "", "write VRRP counters (drops by reason, adverts) as JSON to this file")
	c.Flags().StringVar(&metricsAddr, "metrics-addr", "", "serve Prometheus metrics on this address (e.g. 127.0.0.1:9650); off when empty")
	c.Flags().StringVar(&statusSocket, "status-socket", paths.HostStatusSocket, "unix socket `lbx status` reads (default: lbx.sock in --run-dir, suffixed by namespace inside `ip netns exec`); empty to disable")
	c.Flags().StringVar(&checker, "checker", "auto", "where health checks run: process (lbx-check, a child process, as keepalived's checker), inline (in lbx watch itself; no ssl_get, which needs lbx-check-tls) or auto (process when lbx-check is next to lbx or on PATH)")
	c.Flags().StringVar(&engine, "engine", "auto", "auto: a model of VRRP alone runs in lbx-vrrp (next to lbx, or on PATH), a leaner process, in lbx watch's place (same PID); full: always lbx watch's whole engine")
	c.Flags().BoolVar(&vrrpSpec, "vrrp-spec", false, "print the model compiled for lbx-vrrp as JSON and exit (lbx-vrrp's reload runs it)")
	c.Flags().BoolVar(&handedBack, "handed-back", false, "lbx-vrrp hands a reloaded model back (the start is that reload)")
	c.Flags().StringArrayVar(&resumeMasters, "resume-master", nil, "with --handed-back: an instance to start as MASTER, its addresses kept (repeated)")
	for _, f := range []string{"vrrp-spec", "handed-back", "resume-master"} {
		c.Flags().MarkHidden(f)
	}
	addCommand(c)
}

// probe is checkerOf's answer.
type probe struct {
	newChecker func(*slog.Logger) watch.Checker
	err        error
}

// checkerOf turns --checker into watch.Options.NewChecker (nil: inline);
// find locates lbx-check (checkproc.Find).
// The checker binary must be lbx's own build (checkproc.Build): --checker
// process refuses to start with another, --checker auto warns and runs
// the checks inline. A stale lbx-check next to a new lbx is what a
// half-done upgrade leaves; refusing there would take the load balancer
// (and its VRRP addresses) down over a helper that auto lets go anyway,
// while an explicit "process" is a promise that must not silently change.
func checkerOf(mode string, find func() (string, error)) (func(*slog.Logger) watch.Checker, error) {
	if mode == "inline" {
		return nil, nil
	}
	if mode != "auto" && mode != "process" {
		return nil, fmt.Errorf("--checker %q: want auto, process or inline", mode)
	}
	path, err := find()
	if err != nil {
		if mode == "process" {
			return nil, fmt.Errorf("--checker process: %w", err)
		}
		slog.Warn("health checks run inline, in lbx watch itself", "why", err.Error())
		return nil, nil
	}
	opts := checkproc.Options{Path: path, FindTLS: checkproc.FindTLS, Args: []string{"--log-level", logLevel, "--log-format", logFormat}, Build: checkproc.ThisBuild(version)}
	if err := checkproc.New(opts).Probe(); err != nil {
		var mismatch *checkproc.BuildMismatchError
		if mode == "auto" && errors.As(err, &mismatch) {
			slog.Warn("health checks run inline, in lbx watch itself: "+err.Error(), "checker", path)
			return nil, nil
		}
		return nil, fmt.Errorf("--checker %s: %w", mode, err)
	}
	// Lazy: the child starts with the first checked real server, so a
	// VRRP-only daemon runs no idle lbx-check.
	return func(log *slog.Logger) watch.Checker {
		opts.Logger = log
		return checkproc.NewLazy(opts)
	}, nil
}

// vrrpArgs are lbx watch's settings that lbx-vrrp takes over.
type vrrpArgs struct {
	stateDir, netnsID, lock, statusSocket, statsFile, metricsAddr string
}

// execSignals are lbx watch's signal handling, which the exec into
// lbx-vrrp hands over: term receives SIGTERM and SIGINT (and then ctx
// ends), hup receives SIGHUP.
type execSignals struct {
	ctx       context.Context
	term, hup chan os.Signal
}

// errStoppedAtStart: SIGTERM or SIGINT came before lbx watch started
// anything; it ends there.
var errStoppedAtStart = errors.New("stopped at start")

// execVRRPProcess executes lbx-vrrp in this process's place when the
// model is VRRP alone (package vrrponly); otherwise, or when the exec
// failed, it returns why not. An error stops the start (the model does
// not pass Preflight; errStoppedAtStart: a stop came first).
func execVRRPProcess(m *model.Model, file, node string, a vrrpArgs, sig execSignals) (why string, err error) {
	if why := watch.NeedsWholeEngine(m); why != "" {
		return why, nil
	}
	if a.metricsAddr != "" {
		return "--metrics-addr: lbx-vrrp serves no metrics", nil
	}
	if why, err := watch.LeftForTheEngine(a.stateDir, a.netnsID); why != "" || err != nil {
		return why, err
	}
	build := buildinfo.This(version)
	path, err := watch.FindVRRPProcess(build)
	if err != nil {
		return err.Error(), nil
	}
	cfg, _, err := watch.Preflight(m, slog.Default())
	if err != nil {
		return "", err
	}
	self, err := os.Executable()
	if err != nil {
		return "lbx's own path is unknown: " + err.Error(), nil
	}
	spec, err := watch.VRRPOnlySpec(m, cfg, file, node, build)
	if err != nil {
		return "", err
	}
	args := []string{"--state-dir", a.stateDir, "--netns-id", a.netnsID, "--lock", a.lock, "--status-socket", a.statusSocket,
		"--stats-file", a.statsFile, "--log-level", logLevel, "--log-format", logFormat}
	// Across the exec: SIGHUP ignored (lbx-vrrp takes it again once it can
	// reload), SIGTERM and SIGINT back to their default (this process
	// holds nothing yet: one that comes now ends it). One that came while
	// the model loaded is honoured: a stop ends the start, a reload is
	// made by lbx-vrrp at once (the file may have changed since).
	signal.Ignore(syscall.SIGHUP)
	signal.Reset(syscall.SIGTERM, syscall.SIGINT)
	if sig.ctx.Err() != nil || len(sig.term) > 0 {
		return "", errStoppedAtStart
	}
	reload := len(sig.hup) > 0
	if reload {
		args = append(args, "--reload")
	}
	args = append(append(args, "--", self), os.Args[1:]...)
	err = watch.ExecVRRPProcess(path, spec, args)
	// Still here: the whole engine runs, with the signals back.
	signal.Notify(sig.term, syscall.SIGTERM, syscall.SIGINT)
	signal.Notify(sig.hup, syscall.SIGHUP)
	return err.Error(), nil
}

// printVRRPSpec prints the model's spec for lbx-vrrp (a reload of it):
// the compiled model, or why the whole engine must run it, or why it
// cannot run (Spec.Error; exit status 0: the spec says it). A model for
// the whole engine is checked as that engine's start checks it (with
// checker, --checker), since lbx-vrrp then executes it in its place.
func printVRRPSpec(file, node, checker string) error {
	spec, err := vrrpSpecOf(file, node, checker)
	if err != nil {
		spec = &vrrponly.Spec{Error: err.Error()}
	}
	return spec.Write(os.Stdout)
}

func vrrpSpecOf(file, node, checker string) (*vrrponly.Spec, error) {
	m, name, err := ops.LoadView(file, node)
	if err != nil {
		return nil, err
	}
	cfg, _, err := watch.Preflight(m, slog.Default())
	if err != nil {
		return nil, err
	}
	node, build := cmp.Or(name, node), buildinfo.This(version)
	if why := watch.NeedsWholeEngine(m); why != "" {
		if _, err := checkerOf(checker, checkproc.Find); err != nil {
			return nil, err
		}
		return watch.HandOverSpec(why, file, node, build), nil
	}
	return watch.VRRPOnlySpec(m, cfg, file, node, build)
}
