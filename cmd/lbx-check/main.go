// Command lbx-check is lbx watch's checker process: it runs the health
// checks it is given on fd 3 (package checkproc) and reports their
// transitions there. lbx watch starts it; it is not meant to be run by
// hand. It links only the check and model packages — no cobra, netlink or
// VRRP — because its resident pages are what lbx's checker costs next to
// keepalived's.
package main

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
	"github.com/lbx-dev/lbx/internal/cli"
	"github.com/lbx-dev/lbx/internal/footprint"
)

func main() {
	level := flag.String("log-level", "info", "log level: debug, info, warn, error")
	format := flag.String("log-format", "text", "log format on stderr: text or json")
	flag.Parse()
	if err := run(*level, *format); err != nil {
		fmt.Fprintln(os.Stderr, "lbx-check:", err)
		os.Exit(1)
	}
}

func run(level, format string) error {
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
		return fmt.Errorf("fd 3 is not lbx watch's socket (lbx-check is started by lbx watch): %w", err)
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
		Applied: func() {
			limit := footprint.Retune()
			slog.Debug("memory limit retuned", "limit_bytes", limit)
		},
	})
}
