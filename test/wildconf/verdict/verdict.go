// Package verdict is keepalived 2.2.7's verdict on a configuration as its
// config test (`keepalived -t`) reports it, and whether keepalived runs
// with it; test/wildconf's tests and its stage command share it, with
// where the corpus kept outside the repository is.
package verdict

import (
	"os"
	"path/filepath"
	"strings"
)

// Verdict is what `keepalived -t` said of a file.
type Verdict struct {
	Exit     int      `json:"exit"`
	Messages []string `json:"messages"`
}

// Accepted: keepalived starts with this file. Exit 5 means it reported
// configuration errors that it corrects or skips and runs with; 6 that it
// runs with the scripts disabled (script security). Any other exit (2:
// "permanent error CONFIG") and keepalived does not start; nor does it
// after one of stopsKeepalived, which -t reports with exit 5.
func (v Verdict) Accepted() bool {
	if v.Exit != 0 && v.Exit != 5 && v.Exit != 6 {
		return false
	}
	for _, m := range v.Messages {
		for _, stop := range stopsKeepalived {
			if strings.Contains(m, stop) {
				return false
			}
		}
	}
	return true
}

// stopsKeepalived: messages of keepalived's config test after which a
// running keepalived terminates: vrrp_complete_init fails on them, the VRRP
// process exits with KEEPALIVED_EXIT_CONFIG and keepalived stops ("exited
// with permanent error CONFIG. Terminating"), while -t carries on and exits
// 5 (convert's TestKeepalivedRuns runs keepalived on each).
var stopsKeepalived = []string{"the virtual router id must be set", "No VIP specified; at least one is required"}

// SharedStore is the corpus kept outside the repository (GPL and
// unlicensed files), beside it as keepalived's samples are:
// ../shared/corpus/wild from the project root, or $LBX_WILD_CORPUS (a
// copy elsewhere, for a tree not in that place).
func SharedStore(projectRoot string) string {
	dir := os.Getenv("LBX_WILD_CORPUS")
	if dir == "" {
		dir = filepath.Join(projectRoot, "..", "shared", "corpus", "wild")
	}
	abs, _ := filepath.Abs(dir)
	return abs
}
