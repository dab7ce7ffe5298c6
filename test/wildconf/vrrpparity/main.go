// Command vrrpparity compares the VRRP instances of a converted model with
// the ones keepalived runs, from keepalived's configuration dump (the log
// of `keepalived --vrrp -l -d`). The e2e VM's parity-wild-vrrp scenario
// runs it on the wild files with lvs_sync_daemon, whose VRRP process
// needs IPVS (TestWildVRRP does the same comparison on the host for the
// other files).
//
//	vrrpparity KEEPALIVED.LOG MODEL.yaml
//
// It prints "@@VRRP instances=N differ=M" and one block per difference;
// the exit status is 1 when anything differs, 2 when it cannot compare.
package main

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/lbx-dev/lbx/model"
	"github.com/lbx-dev/lbx/test/wildconf/vrrpdump"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: vrrpparity KEEPALIVED.LOG MODEL.yaml")
		os.Exit(2)
	}
	problems, err := run(os.Args[1], os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "vrrpparity:", err)
		os.Exit(2)
	}
	if problems > 0 {
		os.Exit(1)
	}
}

func run(logFile, modelFile string) (int, error) {
	data, err := os.ReadFile(logFile)
	if err != nil {
		return 0, err
	}
	var lines []string
	for _, l := range strings.Split(string(data), "\n") {
		lines = append(lines, vrrpdump.Unstamp(l))
	}
	if slices.ContainsFunc(lines, vrrpdump.NoIPVS) {
		return 0, fmt.Errorf("%s: keepalived's VRRP process found no IPVS", logFile)
	}
	ka := vrrpdump.Parse(lines)
	if len(ka) == 0 {
		return 0, fmt.Errorf("%s: keepalived dumped no VRRP instance (start it with -l -d)", logFile)
	}
	src, err := os.ReadFile(modelFile)
	if err != nil {
		return 0, err
	}
	m, err := model.Parse(src, modelFile)
	if err != nil {
		return 0, err
	}
	n, problems := vrrpdump.Compare(ka, m, nil)
	fmt.Printf("@@VRRP instances=%d differ=%d\n", n, len(problems))
	for _, p := range problems {
		fmt.Println(p)
	}
	return len(problems), nil
}
