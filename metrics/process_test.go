package metrics

import (
	"os"
	"testing"
	"time"
)

// TestProcessSamples checks the process_* and go_* series against what
// the test process itself is: they come from /proc/self and the runtime,
// so each has a range it must fall in.
func TestProcessSamples(t *testing.T) {
	got := map[string]float64{}
	for _, s := range append(processSamples(), goSamples()...) {
		got[s.Name] = s.Value
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	now := float64(time.Now().Unix())
	for _, tc := range []struct {
		name     string
		min, max float64
	}{
		{"process_resident_memory_bytes", 1 << 20, 4 << 30},
		{"process_virtual_memory_bytes", 1 << 20, 1 << 50},
		{"process_cpu_seconds_total", 0, 3600},
		{"process_start_time_seconds", now - 86400, now + 1},
		{"process_open_fds", float64(len(fds)) - 2, float64(len(fds)) + 2},
		{"process_max_fds", 3, 1 << 31},
		{"go_goroutines", 1, 10000},
		{"go_threads", 1, 10000},
		{"go_memstats_alloc_bytes", 1, 1 << 32},
		{"go_sched_gomaxprocs_threads", 1, 1024},
	} {
		v, ok := got[tc.name]
		if !ok {
			t.Errorf("%s missing", tc.name)
			continue
		}
		if v < tc.min || v > tc.max {
			t.Errorf("%s = %g, want in [%g, %g]", tc.name, v, tc.min, tc.max)
		}
	}
}
