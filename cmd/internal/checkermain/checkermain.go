// Package checkermain is the main of lbx watch's checker processes,
// lbx-check and lbx-check-tls (the same with SSL_GET's TLS): each runs
// the health checks it is given on fd 3 (package checkproc) and reports
// their transitions there. lbx watch starts them; they are not meant to
// be run by hand. They link only the checks and their wire — no model,
// YAML, cobra, netlink or VRRP (cmd/lbx-check's TestLinksOnlyWhatItRuns) — because their
// resident pages are what lbx's checker costs next to keepalived's.
package checkermain

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/lbx-dev/lbx/checkproc"
	"github.com/lbx-dev/lbx/cmd/internal/helperflags"
	"github.com/lbx-dev/lbx/internal/cli"
	"github.com/lbx-dev/lbx/internal/footprint"
)

// Main runs the checker process called name; version is its main's
// (-ldflags "-X main.version=v1.2.3" sets every main's): lbx watch refuses
// a checker whose build (checkproc.Build: this version, the VCS revision,
// the source hash) is not its own.
func Main(name, version string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	level := fs.String("log-level", "info", "log level: debug, info, warn, error")
	format := fs.String("log-format", "text", "log format on stderr: text or json")
	showVersion := fs.Bool("version", false, "print the build (what lbx watch compares with its own) and exit")
	if !helperflags.Parse(fs, name, os.Args[1:]) {
		return
	}
	if *showVersion {
		fmt.Println(name, checkproc.ThisBuild(version))
		return
	}
	if err := run(*level, *format, version); err != nil {
		cli.Fatal(os.Stderr, *format, name, "", err, 1)
		os.Exit(1)
	}
}

func run(level, format, version string) error {
	// Before the heap grows (package footprint): a huge page would hold
	// half of what this process needs.
	thpErr := footprint.NoHugePages()
	if n := cli.DaemonProcs(os.Getenv); n > 0 {
		runtime.GOMAXPROCS(n)
	}
	if err := cli.SetupLogging(os.Stderr, level, format); err != nil {
		return err
	}
	if thpErr != nil {
		slog.Warn("resident memory may grow by huge pages", "err", thpErr)
	}
	f := os.NewFile(3, "checkproc")
	conn, err := net.FileConn(f)
	if err != nil {
		return fmt.Errorf("fd 3 is not lbx watch's socket (the checker process is started by lbx watch): %w", err)
	}
	// Only the close-on-exec duplicate stays open: a MISC_CHECK script
	// must not hold the parent's socket (its EOF is how the child learns
	// that lbx watch is gone).
	f.Close()
	defer conn.Close()
	// SIGTERM and SIGINT go to the whole process group (systemd, ^C): the
	// parent stops the child itself, in order.
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	// The memory limit follows the checks' live data (package footprint:
	// without it, decoding an update sets a peak twice the steady state).
	footprint.Start()
	return checkproc.Serve(context.Background(), conn, checkproc.ServeOptions{
		Build: checkproc.ThisBuild(version),
		Applied: func() {
			limit := footprint.Retune()
			slog.Debug("memory limit retuned", "limit_bytes", limit)
		},
	})
}
