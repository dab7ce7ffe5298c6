// Package expo holds labelled counters, gauges and histograms and writes
// them in the Prometheus text exposition format (version 0.0.4), the
// subset of client_golang's API that lbx's metrics use, with the same
// names (GaugeVec.With, CounterVec.DeletePartialMatch, ...) and the same
// output (families by name, series by label values, labels by name).
//
// Why not client_golang: linking it costs every lbx process resident pages
// at start, metrics on or off. It and its dependencies (protobuf, procfs,
// expfmt, ...) run about 30 package initialisers, each touching code and
// data spread over the binary (the kernel maps 64 KiB of file around each
// page fault), and client_golang's own init registers the default
// registry's Go and process collectors. Measured on the host (VmHWM,
// 2026-12-05): a program linking net/http, yaml, netlink and cobra 4.1
// MiB, with client_golang too 6.2 MiB; lbx watch with one VRRP instance
// 13.7 MiB with it, 11.5 MiB with this package (median of 4).
package expo

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Labels maps label names to values.
type Labels map[string]string

// Opts name and describe a family. GaugeOpts and CounterOpts are Opts
// under client_golang's names.
type Opts struct {
	Name, Help string
}

type (
	GaugeOpts   = Opts
	CounterOpts = Opts
)

// HistogramOpts are a histogram's name, help and bucket upper bounds
// (ascending; +Inf is implied).
type HistogramOpts struct {
	Name, Help string
	Buckets    []float64
}

type kind string

const (
	counter   kind = "counter"
	gauge     kind = "gauge"
	histogram kind = "histogram"
)

// family is one metric name: its series by label values.
type family struct {
	name, help string
	kind       kind
	labels     []string  // label names, in the order values are given
	buckets    []float64 // histograms only

	mu     sync.Mutex
	series map[string]*series // by key(values)
}

type series struct {
	values []string // label values, in family.labels' order
	value  float64  // counter, gauge
	counts []uint64 // histogram: per bucket, not cumulative
	sum    float64
	count  uint64
}

func newFamily(name, help string, k kind, labels []string) *family {
	return &family{name: name, help: help, kind: k, labels: slices.Clone(labels), series: map[string]*series{}}
}

// key joins label values with a byte no label value holds in practice.
func key(values []string) string { return strings.Join(values, "\xff") }

// get returns the series of values, made (at zero) if new. With f.mu held.
func (f *family) get(values []string) *series {
	if len(values) != len(f.labels) {
		panic(fmt.Sprintf("expo: %s takes %d label values, got %d", f.name, len(f.labels), len(values)))
	}
	k := key(values)
	s := f.series[k]
	if s == nil {
		s = &series{values: slices.Clone(values)}
		if f.kind == histogram {
			s.counts = make([]uint64, len(f.buckets))
		}
		f.series[k] = s
	}
	return s
}

// valuesOf orders l by the family's label names; a name missing or extra
// is a programming error, as in client_golang.
func (f *family) valuesOf(l Labels) []string {
	if len(l) != len(f.labels) {
		panic(fmt.Sprintf("expo: %s takes labels %v, got %v", f.name, f.labels, l))
	}
	values := make([]string, len(f.labels))
	for i, n := range f.labels {
		v, ok := l[n]
		if !ok {
			panic(fmt.Sprintf("expo: %s takes labels %v, got %v", f.name, f.labels, l))
		}
		values[i] = v
	}
	return values
}

// update runs fn on the series of values under the family's lock.
func (f *family) update(values []string, fn func(*series)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f.get(values))
}

func (f *family) delete(values []string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := key(values)
	_, ok := f.series[k]
	delete(f.series, k)
	return ok
}

// deletePartialMatch deletes every series whose labels include l.
func (f *family) deletePartialMatch(l Labels) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for k, s := range f.series {
		if f.matches(s, l) {
			delete(f.series, k)
			n++
		}
	}
	return n
}

func (f *family) matches(s *series, l Labels) bool {
	for name, v := range l {
		i := slices.Index(f.labels, name)
		if i < 0 || s.values[i] != v {
			return false
		}
	}
	return true
}

func (f *family) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.series)
}

// Gauge is one gauge series.
type Gauge struct {
	f      *family
	values []string
}

// Set sets the gauge to v.
func (g Gauge) Set(v float64) { g.f.update(g.values, func(s *series) { s.value = v }) }

// Counter is one counter series.
type Counter struct {
	f      *family
	values []string
}

// Add adds v (≥ 0: a counter only goes up).
func (c Counter) Add(v float64) {
	if v < 0 {
		panic(fmt.Sprintf("expo: counter %s decreased by %g", c.f.name, v))
	}
	c.f.update(c.values, func(s *series) { s.value += v })
}

// Inc adds 1.
func (c Counter) Inc() { c.Add(1) }

// Histogram is one histogram series.
type Histogram struct {
	f      *family
	values []string
}

// Observe counts v in the first bucket whose upper bound is ≥ v.
func (h Histogram) Observe(v float64) {
	h.f.update(h.values, func(s *series) {
		if i, _ := slices.BinarySearch(h.f.buckets, v); i < len(s.counts) {
			s.counts[i]++
		}
		s.sum += v
		s.count++
	})
}

// NewGauge makes a gauge without labels (its one series exists at 0).
func NewGauge(o GaugeOpts) Gauge {
	f := newFamily(o.Name, o.Help, gauge, nil)
	f.get(nil)
	return Gauge{f: f}
}

// NewCounter makes a counter without labels (its one series exists at 0).
func NewCounter(o CounterOpts) Counter {
	f := newFamily(o.Name, o.Help, counter, nil)
	f.get(nil)
	return Counter{f: f}
}

// NewHistogram makes a histogram without labels.
func NewHistogram(o HistogramOpts) Histogram {
	f := newFamily(o.Name, o.Help, histogram, nil)
	f.buckets = slices.Clone(o.Buckets)
	slices.Sort(f.buckets)
	f.get(nil)
	return Histogram{f: f}
}

// vec is the label-handling shared by GaugeVec and CounterVec.
type vec struct{ f *family }

// Delete removes the series with labels l, reporting whether there was one.
func (v vec) Delete(l Labels) bool { return v.f.delete(v.f.valuesOf(l)) }

// DeleteLabelValues removes the series with these label values.
func (v vec) DeleteLabelValues(values ...string) bool { return v.f.delete(values) }

// DeletePartialMatch removes every series whose labels include l and
// returns how many.
func (v vec) DeletePartialMatch(l Labels) int { return v.f.deletePartialMatch(l) }

// Reset removes every series.
func (v vec) Reset() { v.f.reset() }

// GaugeVec is a gauge family with labels.
type GaugeVec struct{ vec }

// NewGaugeVec makes a gauge family with these label names.
func NewGaugeVec(o GaugeOpts, labels []string) *GaugeVec {
	return &GaugeVec{vec{newFamily(o.Name, o.Help, gauge, labels)}}
}

// With returns the series of labels l, made at 0 if new.
func (v *GaugeVec) With(l Labels) Gauge { return v.WithLabelValues(v.f.valuesOf(l)...) }

// WithLabelValues is With by values in the family's label order.
func (v *GaugeVec) WithLabelValues(values ...string) Gauge {
	v.f.update(values, func(*series) {})
	return Gauge{f: v.f, values: slices.Clone(values)}
}

// CounterVec is a counter family with labels.
type CounterVec struct{ vec }

// NewCounterVec makes a counter family with these label names.
func NewCounterVec(o CounterOpts, labels []string) *CounterVec {
	return &CounterVec{vec{newFamily(o.Name, o.Help, counter, labels)}}
}

// With returns the series of labels l, made at 0 if new.
func (v *CounterVec) With(l Labels) Counter { return v.WithLabelValues(v.f.valuesOf(l)...) }

// WithLabelValues is With by values in the family's label order.
func (v *CounterVec) WithLabelValues(values ...string) Counter {
	v.f.update(values, func(*series) {})
	return Counter{f: v.f, values: slices.Clone(values)}
}

// Collector is anything a Registry exposes: the families above, or a Func.
type Collector interface {
	families() []*family
}

func (g Gauge) families() []*family     { return []*family{g.f} }
func (c Counter) families() []*family   { return []*family{c.f} }
func (h Histogram) families() []*family { return []*family{h.f} }
func (v vec) families() []*family       { return []*family{v.f} }

// Sample is one series a Func reports: a gauge, or a counter if Counter.
type Sample struct {
	Name, Help string
	Counter    bool
	Labels     Labels
	Value      float64
}

// Func is a collector read at each scrape (the process's CPU, memory...).
type Func func() []Sample

func (fn Func) families() []*family {
	var out []*family
	byName := map[string]*family{}
	for _, s := range fn() {
		f := byName[s.Name]
		if f == nil {
			k := gauge
			if s.Counter {
				k = counter
			}
			names := make([]string, 0, len(s.Labels))
			for n := range s.Labels {
				names = append(names, n)
			}
			slices.Sort(names)
			f = newFamily(s.Name, s.Help, k, names)
			byName[s.Name] = f
			out = append(out, f)
		}
		f.get(f.valuesOf(s.Labels)).value = s.Value
	}
	return out
}

// Registry is a set of collectors, written together.
type Registry struct {
	mu         sync.Mutex
	collectors []Collector
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{} }

// MustRegister adds collectors; a name registered twice is a programming
// error and panics, as in client_golang.
func (r *Registry) MustRegister(cs ...Collector) {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[string]bool{}
	for _, c := range r.collectors {
		if _, ok := c.(Func); !ok {
			for _, f := range c.families() {
				seen[f.name] = true
			}
		}
	}
	for _, c := range cs {
		if _, ok := c.(Func); !ok {
			for _, f := range c.families() {
				if seen[f.name] {
					panic("expo: " + f.name + " registered twice")
				}
				seen[f.name] = true
			}
		}
		r.collectors = append(r.collectors, c)
	}
}

// ContentType is the text format's media type.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// WriteText writes every family with at least one series, by name, in the
// text exposition format.
func (r *Registry) WriteText(w io.Writer) error {
	r.mu.Lock()
	var fams []*family
	for _, c := range r.collectors {
		fams = append(fams, c.families()...)
	}
	r.mu.Unlock()
	slices.SortFunc(fams, func(a, b *family) int { return strings.Compare(a.name, b.name) })
	var b []byte
	for _, f := range fams {
		b = f.appendText(b)
	}
	_, err := w.Write(b)
	return err
}

// appendText appends f's HELP, TYPE and sample lines, its series ordered
// by their label values taken in label-name order.
func (f *family) appendText(b []byte) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.series) == 0 {
		return b
	}
	order := make([]int, len(f.labels)) // label indexes by name
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(i, j int) int { return strings.Compare(f.labels[i], f.labels[j]) })
	all := make([]*series, 0, len(f.series))
	for _, s := range f.series {
		all = append(all, s)
	}
	slices.SortFunc(all, func(x, y *series) int {
		for _, i := range order {
			if c := strings.Compare(x.values[i], y.values[i]); c != 0 {
				return c
			}
		}
		return 0
	})
	b = append(b, "# HELP "...)
	b = append(b, f.name...)
	b = append(b, ' ')
	b = appendEscaped(b, f.help, false)
	b = append(b, "\n# TYPE "...)
	b = append(b, f.name...)
	b = append(b, ' ')
	b = append(b, f.kind...)
	b = append(b, '\n')
	for _, s := range all {
		if f.kind != histogram {
			b = f.appendSample(b, "", order, s, "", s.value)
			continue
		}
		var cum uint64
		for i, ub := range f.buckets {
			cum += s.counts[i]
			b = f.appendSample(b, "_bucket", order, s, formatFloat(ub), float64(cum))
		}
		b = f.appendSample(b, "_bucket", order, s, "+Inf", float64(s.count))
		b = f.appendSample(b, "_sum", order, s, "", s.sum)
		b = f.appendSample(b, "_count", order, s, "", float64(s.count))
	}
	return b
}

// appendSample appends one line: name+suffix, the labels by name (and le
// last when given, as client_golang writes it), the value.
func (f *family) appendSample(b []byte, suffix string, order []int, s *series, le string, v float64) []byte {
	b = append(b, f.name...)
	b = append(b, suffix...)
	if len(order) > 0 || le != "" {
		b = append(b, '{')
		for n, i := range order {
			if n > 0 {
				b = append(b, ',')
			}
			b = appendLabel(b, f.labels[i], s.values[i])
		}
		if le != "" {
			if len(order) > 0 {
				b = append(b, ',')
			}
			b = appendLabel(b, "le", le)
		}
		b = append(b, '}')
	}
	b = append(b, ' ')
	b = append(b, formatFloat(v)...)
	return append(b, '\n')
}

func appendLabel(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, `="`...)
	b = appendEscaped(b, value, true)
	return append(b, '"')
}

// appendEscaped escapes as the text format asks: backslash and newline
// everywhere, the double quote in label values.
func appendEscaped(b []byte, s string, quote bool) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b = append(b, `\\`...)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '"' && quote:
			b = append(b, `\"`...)
		default:
			b = append(b, c)
		}
	}
	return b
}

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
