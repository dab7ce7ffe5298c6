package footprint

import (
	"runtime/debug"
	"runtime/metrics"
	"testing"
)

func TestFor(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		inUse uint64
		want  int64
	}{
		{0, Floor},
		{2 * mib, Floor},
		{4 * mib, Floor},                // half again is 6 MiB, the floor
		{5 * mib, 7*mib + mib/2},        // half again
		{10 * mib, 15 * mib},            // half again
		{9*mib + 1, 13*mib + mib/2 + 1}, // rounds down: 1 + 1/2 bytes is 1
	} {
		if got := For(tc.inUse); got != tc.want {
			t.Errorf("For(%d MiB) = %.2f MiB, want %.2f MiB", tc.inUse/mib, float64(got)/mib, float64(tc.want)/mib)
		}
	}
}

func TestOperator(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want bool
	}{
		{nil, false},
		{map[string]string{"GOMEMLIMIT": "20MiB"}, true},
		{map[string]string{"GOGC": "off"}, true},
		{map[string]string{"GOMAXPROCS": "2"}, false},
	} {
		if got := Operator(func(k string) string { return tc.env[k] }); got != tc.want {
			t.Errorf("Operator(%v) = %v, want %v", tc.env, got, tc.want)
		}
	}
}

// TestRetune checks the limit Retune sets on this process: above what the
// runtime holds (a limit under it would make the collector run without
// end), and at most For of it.
func TestRetune(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	t.Setenv("GOGC", "")
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	hold := make([][]byte, 64) // 8 MiB live, so the floor does not decide
	for i := range hold {
		hold[i] = make([]byte, 128<<10)
	}
	limit := Retune()
	inUse := InUse()
	if got := debug.SetMemoryLimit(-1); got != limit {
		t.Fatalf("Retune returned %d, the runtime's limit is %d", limit, got)
	}
	if uint64(limit) <= inUse || limit > For(inUse)+1<<20 {
		t.Errorf("limit %d MiB for %d MiB in use: want above it and about For(in use) = %d MiB", limit>>20, inUse>>20, For(inUse)>>20)
	}
	_ = hold[63][0]
}

func TestRetuneLeavesOperatorLimit(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "123MiB")
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	debug.SetMemoryLimit(123 << 20)
	if got := Retune(); got != 123<<20 {
		t.Errorf("Retune with GOMEMLIMIT set changed the limit to %d", got)
	}
}

func TestStart(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	t.Setenv("GOGC", "")
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	Start()
	if got := debug.SetGCPercent(100); got != GCPercent {
		t.Errorf("GOGC after Start = %d, want %d", got, GCPercent)
	}
	if got := debug.SetMemoryLimit(-1); got != Floor {
		t.Errorf("memory limit after Start = %d, want Floor %d", got, Floor)
	}
	t.Setenv("GOGC", "200")
	debug.SetGCPercent(200)
	Start()
	if got := debug.SetGCPercent(-1); got != 200 {
		t.Errorf("Start with GOGC=200 in the environment set GOGC %d", got)
	}
}

// TestDaemon checks the collector lbx watch runs with: DaemonGCPercent,
// unless the operator's GOGC or GOMEMLIMIT tunes it.
func TestDaemon(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	for _, tc := range []struct {
		env  map[string]string
		want int
	}{
		{nil, DaemonGCPercent},
		{map[string]string{"GOGC": "200"}, 100},
		{map[string]string{"GOMEMLIMIT": "64MiB"}, 100},
	} {
		debug.SetGCPercent(100)
		Daemon(func(k string) string { return tc.env[k] })
		if got := debug.SetGCPercent(100); got != tc.want {
			t.Errorf("env %v: GOGC %d, want %d", tc.env, got, tc.want)
		}
	}
}

// TestSettleReleases: heap let go is returned to the kernel at once
// (counted as released), not left for the scavenger.
func TestSettleReleases(t *testing.T) {
	garbage := make([][]byte, 0, 64)
	for range 64 {
		garbage = append(garbage, make([]byte, 256<<10))
	}
	garbage[0][0] = 1
	garbage = nil
	if HeapHeld() < SettleAbove {
		t.Fatalf("the heap holds %d KiB after 16 MiB of garbage: HeapHeld misses it", HeapHeld()>>10)
	}
	before := released()
	Settle()
	if got := released(); got < before+8<<20 {
		t.Errorf("released %d MiB before Settle, %d MiB after: want 8 MiB more at least", before>>20, got>>20)
	}
}

func released() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
