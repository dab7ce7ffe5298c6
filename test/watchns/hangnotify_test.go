package watchns

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lbx-dev/lbx/internal/nstest"
	"github.com/lbx-dev/lbx/internal/testkit"
)

// hangModel: VI_1 tracks a script that flips its own result on every run
// (until STOP exists), so the instance goes FAULT and back many times a
// second; every transition runs notify scripts that never end (HANG). Its
// timeout is well above its interval: once the flapping stops, a run that
// a busy machine slowed past 20 ms must not fault the instance again.
const hangModel = `version: 1
scripts:
  flap: {script: "FLAP", interval: 20ms, timeout: 2s, fall: 1, rise: 1}
vrrp_instances:
  - {name: VI_1, interface: d0, virtual_router_id: 9, priority: 255, state: MASTER, version: 3, advert_int: 0.1,
     track_scripts: [{name: flap}], virtual_addresses: [{address: 192.0.2.50/24}],
     notify: {master: HANG, backup: HANG, fault: HANG, any: HANG}}
`

// TestHangingNotifyKeepsVRRP is issue 26 item 2: notify scripts that hang
// must not freeze VRRP. After 300 transitions with every notify script
// sleeping forever, the daemon still advertises and holds the VIP as
// MASTER, `lbx status` says so (and counts the dropped scripts), and
// SIGTERM ends it within 5 s, the hanging scripts killed.
func TestHangingNotifyKeepsVRRP(t *testing.T) {
	nstest.Require(t)
	bin := lbxBinary(t)
	ns := linkedNamespace(t, "lh")
	dir := t.TempDir()
	pids, stop := filepath.Join(dir, "pids"), filepath.Join(dir, "stop")
	hang := filepath.Join(dir, "hang.sh")
	os.WriteFile(hang, []byte("#!/bin/sh\necho $$ >> "+pids+"\nexec sleep 1000000\n"), 0o755)
	flap := filepath.Join(dir, "flap.sh")
	state := filepath.Join(dir, "up")
	os.WriteFile(flap, []byte(fmt.Sprintf("#!/bin/sh\n[ -e %s ] && exit 0\nif [ -e %s ]; then rm %s; exit 1; fi\ntouch %s\n", stop, state, state, state)), 0o755)
	model := strings.NewReplacer("FLAP", flap, "HANG", hang).Replace(hangModel)
	file := filepath.Join(dir, "lbx.yaml")
	os.WriteFile(file, []byte(model), 0o644)
	sock := filepath.Join(dir, "s.sock")
	w := startWatch(t, ns, dir, bin, file, "--status-socket", sock)

	type hangStatus struct {
		state             string
		transitions, sent int
		dropped, pid      int
	}
	read := func() (hangStatus, error) {
		out, err := ns.Try(bin, "status", "-o", "json", "--socket", sock)
		if err != nil {
			return hangStatus{}, fmt.Errorf("lbx status: %v: %s", err, out)
		}
		var st struct {
			Daemon   struct{ PID int }
			VRRP     []struct{ State string }
			Counters map[string]int
		}
		if err := json.Unmarshal([]byte(out), &st); err != nil || len(st.VRRP) != 1 {
			return hangStatus{}, fmt.Errorf("status: %v: %s", err, out)
		}
		c := st.Counters
		return hangStatus{st.VRRP[0].State, c["vrrp_transitions"], c["vrrp_adverts_sent"], c["scripts_dropped_notify"], st.Daemon.PID}, nil
	}
	// The flapping: 300 transitions (status counters lag a second). A
	// count that stops growing for 10 s is a frozen daemon.
	const flaps = 300
	var st hangStatus
	var err error
	last, lastAt := -1, time.Now()
	for st, err = read(); err != nil || st.transitions < flaps; st, err = read() {
		if st.transitions != last {
			last, lastAt = st.transitions, time.Now()
		} else if time.Since(lastAt) > 10*time.Second {
			t.Fatalf("transitions stuck at %d for 10 s (want %d): the daemon froze; status %+v, %v", last, flaps, st, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	os.WriteFile(stop, nil, 0o644)
	t.Logf("%d transitions; stopped flapping", st.transitions)

	// The kernel's own count of what d0 sent: adverts every 100 ms.
	txPackets := func() int {
		out, _ := ns.Try("cat", "/sys/class/net/d0/statistics/tx_packets")
		n, _ := strconv.Atoi(strings.TrimSpace(out))
		return n
	}
	var vip bool
	testkit.Eventually(t, "VI_1 MASTER with its VIP, per lbx status and the kernel", settle, func() bool {
		st, err = read()
		a, _ := ns.Try("ip", "-o", "addr", "show", "dev", "d0")
		vip = strings.Contains(a, "192.0.2.50/24")
		return err == nil && st.state == "MASTER" && vip
	})
	tx := txPackets()
	time.Sleep(time.Second)
	if sent := txPackets() - tx; sent < 5 {
		t.Errorf("d0 sent %d packets in 1 s as MASTER with advert_int 0.1: not advertising", sent)
	}
	a, _ := ns.Try("ip", "-o", "addr", "show", "dev", "d0")
	if st, err = read(); err != nil || st.state != "MASTER" || !strings.Contains(a, "192.0.2.50/24") {
		t.Errorf("status %+v (%v) with d0: %s", st, err, a)
	}
	if st.dropped == 0 {
		t.Errorf("scripts_dropped_notify is 0 after %d transitions with hanging notify scripts", st.transitions)
	}
	t.Logf("status: %+v", st)

	// SIGTERM ends it within 5 s, and every notify script with it.
	start := time.Now()
	w.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-w.Done:
		w.Done <- err
		if err != nil {
			t.Errorf("exit: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("lbx watch did not stop within 5 s of SIGTERM with hanging notify scripts")
	}
	t.Logf("stopped in %s", time.Since(start).Round(time.Millisecond))
	b, _ := os.ReadFile(pids)
	if len(strings.Fields(string(b))) == 0 {
		t.Fatal("no notify script ran")
	}
	for _, p := range strings.Fields(string(b)) {
		pid, _ := strconv.Atoi(p)
		testkit.Eventually(t, "notify script "+p+" gone", settle, func() bool {
			s, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
			return err != nil || strings.Contains(string(s), ") Z ")
		})
	}
}
