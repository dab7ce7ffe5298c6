// Package helperflags parses the command line of lbx's helper programs
// (lbx-check, lbx-check-tls, lbx-vrrp), which lbx watch starts: the
// standard flag package, no cobra (their resident pages are what they cost
// next to keepalived's processes), with lbx's conventions for errors.
package helperflags

import (
	"errors"
	"flag"
	"io"
	"os"

	"github.com/lbx-dev/lbx/internal/cli"
)

// Parse parses args into fs. A bad flag is reported by cli.Fatal alone
// (one JSON record with --log-format json, not the flag package's usage
// text) and exits with status 2; -h prints the defaults on stdout, and
// ok is false: the caller returns.
func Parse(fs *flag.FlagSet, prog string, args []string) (ok bool) {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(os.Stdout)
			fs.PrintDefaults()
			return false
		}
		cli.Fatal(os.Stderr, cli.LogFormatOf(args), prog, "", err, 2)
		os.Exit(2)
	}
	return true
}
