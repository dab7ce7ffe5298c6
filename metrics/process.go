package metrics

import (
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/lbx-dev/lbx/metrics/internal/expo"
)

// processSamples are the process_* series client_golang's process
// collector exports under the same names (the dashboard in monitoring/
// graphs three of them), read from /proc/self at each scrape. A file that
// cannot be read leaves its series out of that scrape.
func processSamples() []expo.Sample {
	var out []expo.Sample
	gauge := func(name, help string, v float64) {
		out = append(out, expo.Sample{Name: name, Help: help, Value: v})
	}
	if st, ok := readStat(); ok {
		out = append(out, expo.Sample{Name: "process_cpu_seconds_total", Help: "Total user and system CPU time spent in seconds.", Counter: true, Value: st.cpuSeconds})
		gauge("process_resident_memory_bytes", "Resident memory size in bytes.", st.rss)
		gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", st.vsize)
		if boot, ok := bootTime(); ok {
			gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", boot+st.startTicks/clockTicks)
		}
	}
	if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
		gauge("process_open_fds", "Number of open file descriptors.", float64(len(fds)))
	}
	var lim unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &lim) == nil {
		gauge("process_max_fds", "Maximum number of open file descriptors.", float64(lim.Cur))
	}
	return out
}

// clockTicks is USER_HZ, the unit of /proc's CPU times: 100 on every Linux
// architecture lbx is built for (client_golang's procfs assumes it too).
const clockTicks = 100

type procStat struct {
	cpuSeconds, rss, vsize, startTicks float64
}

// readStat reads /proc/self/stat: utime and stime (fields 14, 15),
// starttime (22), vsize (23) and rss in pages (24), counted after the
// command name, which may hold spaces and parentheses.
func readStat() (procStat, bool) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return procStat{}, false
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return procStat{}, false
	}
	f := strings.Fields(string(b[i+1:])) // f[0] is field 3, state
	if len(f) < 22 {
		return procStat{}, false
	}
	num := func(field int) float64 {
		v, _ := strconv.ParseFloat(f[field-3], 64)
		return v
	}
	return procStat{
		cpuSeconds: (num(14) + num(15)) / clockTicks,
		startTicks: num(22),
		vsize:      num(23),
		rss:        num(24) * float64(os.Getpagesize()),
	}, true
}

// bootTime is /proc/stat's btime, read once: it does not change.
var bootTime = sync.OnceValues(func() (float64, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			t, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return t, err == nil
		}
	}
	return 0, false
})

// goSamples are the go_* series of client_golang's Go collector that
// describe the daemon's health, under the same names, from runtime/metrics
// (no stop-the-world, unlike runtime.ReadMemStats).
func goSamples() []expo.Sample {
	rm := []metrics.Sample{
		{Name: "/sched/goroutines:goroutines"},
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/total:bytes"},
		{Name: "/gc/gogc:percent"},
		{Name: "/gc/gomemlimit:bytes"},
		{Name: "/sched/gomaxprocs:threads"},
	}
	metrics.Read(rm)
	v := func(i int) float64 {
		if rm[i].Value.Kind() == metrics.KindBad {
			return 0
		}
		return float64(rm[i].Value.Uint64())
	}
	threads, _ := runtime.ThreadCreateProfile(nil)
	return []expo.Sample{
		{Name: "go_goroutines", Help: "Number of goroutines that currently exist.", Value: v(0)},
		{Name: "go_threads", Help: "Number of OS threads created.", Value: float64(threads)},
		{Name: "go_info", Help: "Information about the Go environment.", Labels: expo.Labels{"version": runtime.Version()}, Value: 1},
		{Name: "go_memstats_alloc_bytes", Help: "Number of heap bytes allocated and currently in use.", Value: v(1)},
		{Name: "go_memstats_sys_bytes", Help: "Number of bytes obtained from system.", Value: v(2)},
		{Name: "go_gc_gogc_percent", Help: "Heap size target percentage configured by the user, otherwise 100.", Value: v(3)},
		{Name: "go_gc_gomemlimit_bytes", Help: "Go runtime memory limit configured by the user, otherwise math.MaxInt64.", Value: v(4)},
		{Name: "go_sched_gomaxprocs_threads", Help: "The current runtime.GOMAXPROCS setting.", Value: v(5)},
	}
}
