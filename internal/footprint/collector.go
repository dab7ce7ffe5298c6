// Package footprint keeps a small, long-running Go process's resident
// memory close to its live data: lbx-check, whose resident memory is
// compared with keepalived's checker's, lbx watch, and lbx-vrrp, compared
// with keepalived's VRRP process.
//
// Transparent huge pages. Where the kernel's THP mode is "always" (Debian's
// and many distributions' kernels), a page fault in a 2 MiB-aligned stretch
// of the Go heap, or khugepaged collapsing a stretch with a few pages
// present, makes the whole 2 MiB resident — including pages the runtime
// has returned to the kernel, which it then counts as released. Measured in
// the bench VM (Debian 6.1, THP always, 500 HTTP checks): lbx-check's
// anonymous memory jumped by 1.4 MB at a time with no change in the
// runtime's own figures, 5.4–9.1 MB from run to run; with NoHugePages, 4.0–
// 5.6 MB in every run, none of it in huge pages. A process this size gains
// nothing from huge pages (its heap fits in a handful of TLB entries
// either way), which is why Redis and others turn them off too.
//
// The collector. Go's default (GOGC=100) lets the heap grow to twice the
// live heap before it collects. lbx-check's live heap is 1–2 MB (500 HTTP
// checks; the more probes are in flight, the more) and it allocates about
// 0.2 MB/s between updates, so it sets GOGC=25: the heap grows a quarter
// before a collection, one every few seconds, each of a 2 MB heap. Its
// peak is a transient, though: decoding an update of every real server's
// checks builds the JSON, the wire targets and the checkers side by side,
// several times what stays live, and the small heaps at the start of that
// escape GOGC's 4 MB minimum goal. A soft memory limit
// (debug.SetMemoryLimit), Floor at the start and half again what the
// runtime holds after each update's full collection, makes the collector
// run during such a transient instead; the runtime caps the collector at
// half the CPU when the limit is too tight, so a larger model only costs
// more collections while its update is decoded. Measured on the host (THP
// madvise, 500 servers): peak 10.5–11.0 MB with GOGC=100 and no limit,
// 8.8–8.9 MB with both.
package footprint

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// Floor is the lowest limit set, and the limit until the first update is
// applied: a Go process holding nothing of its own already uses 2–3 MiB
// (runtime, stacks, GC metadata), and the first update needs room above
// that. Measured with 500 HTTP checks: a floor of 4 or 5 MiB took 90–150
// collections to decode it, 6 MiB 35, for the same peak (8.8 MB); 8 MiB
// raised the peak by 0.3 MB.
const Floor = 6 << 20

// For returns the soft limit for a process whose runtime holds inUse bytes
// after a full collection: half as much again, and never under Floor.
func For(inUse uint64) int64 {
	return int64(max(inUse+inUse/2, Floor))
}

// GCPercent is the GOGC lbx-check runs with (see the package comment).
const GCPercent = 25

// DaemonGCPercent is the GOGC lbx watch runs with. Its live heap is small
// (under 1 MiB for a VRRP-only model of 100 instances) and its garbage
// comes in bursts (a reconcile, a dump of the namespace's addresses), so
// GOGC=100 let the heap grow to its 4 MiB minimum goal and kept the pages.
// Measured on the host (VmHWM of lbx watch after 4 s, medians of 3–7
// runs, 2026-12-05): 100 VRRP instances 18.4 MiB at GOGC=100, 16.6 at 50,
// 16.6 at 25; one instance 13.7, 13.6 and 14.2. A fixed soft limit did
// better at 100 instances (15.4 MiB at GOMEMLIMIT=8MiB), but it would make
// the collector run without end for a model whose live heap is above it;
// GOGC=50 costs a collection twice as often, of a heap this small.
const DaemonGCPercent = 50

// Daemon sets DaemonGCPercent for lbx watch, unless the environment tunes
// the collector itself.
func Daemon(getenv func(string) string) {
	if !Operator(getenv) {
		debug.SetGCPercent(DaemonGCPercent)
	}
}

// Operator reports whether the environment sets GOMEMLIMIT or GOGC: an
// operator's tuning wins over this package's.
func Operator(getenv func(string) string) bool {
	return getenv("GOMEMLIMIT") != "" || getenv("GOGC") != ""
}

// Start sets GCPercent and the Floor limit (for the time before the first
// Retune), unless the environment tunes the collector itself.
func Start() {
	if !Operator(os.Getenv) {
		debug.SetGCPercent(GCPercent)
		debug.SetMemoryLimit(Floor)
	}
}

// Retune collects, reads what the runtime holds (the figure the memory
// limit applies to: all its mapped memory less what it returned to the
// kernel) and sets the limit For it, unless the environment tunes the
// collector itself. It returns the limit in force. Call it when the live
// data changes: after an update has been applied.
func Retune() int64 {
	if Operator(os.Getenv) {
		return debug.SetMemoryLimit(-1)
	}
	// Two collections: what sync.Pool caches (encoding/json's buffers,
	// grown to the update's reply) survives the first one.
	runtime.GC()
	runtime.GC()
	limit := For(InUse())
	debug.SetMemoryLimit(limit)
	return limit
}

// InUse is the memory the Go runtime holds and counts against its limit.
func InUse() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64() - s[1].Value.Uint64()
}

// Settle returns to the kernel the heap a burst of work let go: lbx watch
// calls it once its start has ended (the model's load and the first
// apply) and after each reload. Go's scavenger gives such pages back only
// slowly, so they stayed resident for minutes: in the bench VM (500
// checked real servers, 2026-12-05), lbx watch held 6.5–8.1 MB of
// anonymous memory 12 s after its start where its heap was 2–3 MB; with
// Settle, 5.5–6.3 MB. The cost is one collection. A heap under
// SettleAbove is left alone: the forced collection touches code a small
// daemon has not run yet: lbx watch running 1 VRRP instance in its whole
// engine peaked higher when it always collected (make bench-vrrp,
// medians of 10: 12.3 MiB; 11.9 with this threshold; 11.6 without
// Settle).
func Settle() {
	if HeapHeld() >= SettleAbove {
		debug.FreeOSMemory()
	}
}

// SettleStart is Settle without the threshold, for lbx-vrrp at the end of
// its start, the largest burst of allocation it sees. Go's first
// collection maps the runtime's bookkeeping for each size class in use
// (about 0.7 MiB at 100 VRRP instances) whenever it comes; made here, it
// comes while the start's garbage is dead, so that what runs after reuses
// those pages or finds them returned, rather than touching new ones until
// a collection comes minutes later. Host probes of make bench-vrrp's pair
// at 100 instances (2026-12-06): 6.9 MiB peak after that later collection
// without it, 6.5 with it.
func SettleStart() { debug.FreeOSMemory() }

// SettleAbove is the heap (HeapHeld) from which Settle collects.
const SettleAbove = 4 << 20

// HeapHeld is the heap's memory not returned to the kernel: its objects,
// live or garbage not yet swept, its free pages and the unused rest of
// its spans.
func HeapHeld() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/free:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64() + s[1].Value.Uint64() + s[2].Value.Uint64()
}
