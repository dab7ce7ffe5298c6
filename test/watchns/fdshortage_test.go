package watchns

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/nstest"
)

// TestFdShortageIsNoFault is issue 26 item 1's second half: while the
// daemon has no file descriptor to spare, its track script cannot start
// and its link's addresses cannot be read. Neither is a failed script nor
// a missing address: the MASTER stays MASTER (advertising, no
// transition), and once descriptors are back nothing needs an address
// event to recover. The shortage is real: prlimit lowers the running
// daemon's RLIMIT_NOFILE to the descriptors it has open.
func TestFdShortageIsNoFault(t *testing.T) {
	nstest.Require(t, "prlimit")
	bin, ns, dir, sock, file := trackedMaster(t, "lx")
	startWatch(t, ns, dir, bin, file, "--status-socket", sock)
	st := waitMaster(t, ns, bin, sock)
	pid := strconv.Itoa(st.pid)
	fds, _ := os.ReadDir("/proc/" + pid + "/fd")
	// Only the soft limit moves: raising a hard one back needs
	// CAP_SYS_RESOURCE, which a container's root may lack.
	var soft, hard string
	for _, l := range strings.Split(readFile("/proc/"+pid+"/limits"), "\n") {
		if f := strings.Fields(l); len(f) >= 5 && strings.HasPrefix(l, "Max open files") {
			soft, hard = f[3], f[4]
		}
	}
	if soft == "" {
		t.Fatal("no open files limit in /proc/PID/limits")
	}
	limits := soft + ":" + hard
	// Below what is open (a track script's pipes may be among it): no
	// descriptor at all to spare.
	short := fmt.Sprintf("%d:%s", len(fds)-4, hard)
	ns.Run(t, "prlimit", "--pid", pid, "--nofile="+short)
	restored := false
	restore := func() {
		if !restored {
			restored = true
			ns.Run(t, "prlimit", "--pid", pid, "--nofile="+limits)
		}
	}
	t.Cleanup(restore)
	// An address event: the daemon reads d0's addresses again (and fails).
	ns.Run(t, "ip", "addr", "add", "192.0.2.99/24", "dev", "d0")
	// tx_packets of d0, read in the namespace.
	txNS := func() int {
		out, _ := ns.Try("cat", "/sys/class/net/d0/statistics/tx_packets")
		n, _ := strconv.Atoi(strings.TrimSpace(out))
		return n
	}
	before := txNS()
	time.Sleep(2 * time.Second)
	if sent := txNS() - before; sent < 10 {
		t.Errorf("d0 sent %d packets in 2 s without spare fds: the MASTER stopped advertising", sent)
	}
	restore()
	// Back: MASTER, without a transition and without an address event.
	time.Sleep(2 * time.Second)
	after := waitMaster(t, ns, bin, sock)
	if after.transitions != st.transitions {
		t.Errorf("vrrp_transitions %d -> %d: the fd shortage was taken for a fault", st.transitions, after.transitions)
	}
	if a := ns.Run(t, "ip", "-o", "addr", "show", "dev", "d0"); !strings.Contains(a, "192.0.2.50/24") {
		t.Errorf("VIP gone after the shortage: %s", a)
	}
}

func readFile(name string) string { b, _ := os.ReadFile(name); return string(b) }
