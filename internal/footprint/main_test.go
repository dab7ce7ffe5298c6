package footprint

import (
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/lbx-dev/lbx/internal/testkit"
)

// TestMain prints one line on the tests skipped here (root-only, or a
// tool missing), which go test ./... shows without -v. Started with
// reexecLog set, the test binary is TestWithoutHugePages's process.
func TestMain(m *testing.M) {
	if log := os.Getenv(reexecLog); log != "" {
		os.Exit(reexecChild(log))
	}
	os.Exit(testkit.Main(m.Run))
}

const reexecLog = "LBX_FOOTPRINT_REEXEC_LOG"

// reexecChild logs each start of this process image with its THP flag to
// log, turning the flag off at its first start when asked (a process
// whose parent left huge pages on), then calls WithoutHugePages and logs
// that it returned.
func reexecChild(log string) int {
	f, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return 2
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 2
	}
	if st.Size() == 0 && os.Getenv("LBX_FOOTPRINT_THP_ON") == "1" {
		unix.Prctl(unix.PR_SET_THP_DISABLE, 0, 0, 0, 0)
	}
	flag := func() int { v, _ := unix.PrctlRetInt(unix.PR_GET_THP_DISABLE, 0, 0, 0, 0); return v }
	fmt.Fprintf(f, "start pid=%d thp_disabled=%d\n", os.Getpid(), flag())
	if err := WithoutHugePages(); err != nil {
		fmt.Fprintf(f, "error %v\n", err)
		return 1
	}
	fmt.Fprintf(f, "returned pid=%d thp_disabled=%d\n", os.Getpid(), flag())
	return 0
}
