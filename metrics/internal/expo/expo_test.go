package expo

import (
	"math"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestWriteText pins the exposition, byte for byte, against what
// client_golang writes for the same series: families by name, series by
// label values in label-name order, labels by name, le last, escaping.
func TestWriteText(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func(r *Registry)
		want string
	}{
		{
			name: "gauge vec, series ordered by values in label-name order",
			make: func(r *Registry) {
				g := NewGaugeVec(GaugeOpts{Name: "g", Help: "A gauge."}, []string{"zone", "app"})
				r.MustRegister(g)
				g.WithLabelValues("b", "x").Set(2)
				g.With(Labels{"zone": "a", "app": "y"}).Set(-1.5)
				g.WithLabelValues("c", "x").Set(1e9)
			},
			want: "# HELP g A gauge.\n# TYPE g gauge\n" +
				`g{app="x",zone="b"} 2` + "\n" +
				`g{app="x",zone="c"} 1e+09` + "\n" +
				`g{app="y",zone="a"} -1.5` + "\n",
		},
		{
			name: "counters: made at zero by With, families by name, empty family left out",
			make: func(r *Registry) {
				c := NewCounterVec(CounterOpts{Name: "b_total", Help: "B."}, []string{"result"})
				empty := NewCounterVec(CounterOpts{Name: "c_total", Help: "C."}, []string{"x"})
				one := NewCounter(CounterOpts{Name: "a_total", Help: "A."})
				r.MustRegister(c, empty, one)
				c.WithLabelValues("ok")
				c.WithLabelValues("error").Add(3)
				c.WithLabelValues("error").Inc()
				one.Inc()
			},
			want: "# HELP a_total A.\n# TYPE a_total counter\na_total 1\n" +
				"# HELP b_total B.\n# TYPE b_total counter\n" +
				`b_total{result="error"} 4` + "\n" + `b_total{result="ok"} 0` + "\n",
		},
		{
			name: "histogram: cumulative buckets, +Inf, sum and count",
			make: func(r *Registry) {
				h := NewHistogram(HistogramOpts{Name: "d_seconds", Help: "D.", Buckets: []float64{0.5, 0.01, 1}})
				r.MustRegister(h)
				for _, v := range []float64{0.001, 0.01, 0.2, 0.7, 3} {
					h.Observe(v)
				}
			},
			want: "# HELP d_seconds D.\n# TYPE d_seconds histogram\n" +
				`d_seconds_bucket{le="0.01"} 2` + "\n" +
				`d_seconds_bucket{le="0.5"} 3` + "\n" +
				`d_seconds_bucket{le="1"} 4` + "\n" +
				`d_seconds_bucket{le="+Inf"} 5` + "\n" +
				"d_seconds_sum 3.911\nd_seconds_count 5\n",
		},
		{
			name: "escaping of help and label values; special floats",
			make: func(r *Registry) {
				g := NewGaugeVec(GaugeOpts{Name: "e", Help: "back\\slash\nnewline \"quoted\""}, []string{"v"})
				r.MustRegister(g)
				g.WithLabelValues("a\"b\\c\nd").Set(math.Inf(1))
				g.WithLabelValues("n").Set(math.NaN())
			},
			want: "# HELP e back\\\\slash\\nnewline \"quoted\"\n# TYPE e gauge\n" +
				`e{v="a\"b\\c\nd"} +Inf` + "\n" + `e{v="n"} NaN` + "\n",
		},
		{
			name: "deletes: one series, a partial match, reset",
			make: func(r *Registry) {
				g := NewGaugeVec(GaugeOpts{Name: "f", Help: "F."}, []string{"inst", "ip"})
				h := NewGaugeVec(GaugeOpts{Name: "h", Help: "H."}, []string{"x"})
				r.MustRegister(g, h)
				for _, l := range [][]string{{"a", "1"}, {"a", "2"}, {"b", "1"}, {"c", "1"}} {
					g.WithLabelValues(l...).Set(1)
				}
				h.WithLabelValues("y").Set(1)
				if !g.Delete(Labels{"inst": "c", "ip": "1"}) || g.DeleteLabelValues("c", "1") {
					panic("Delete of a series that is there, then is not")
				}
				if n := g.DeletePartialMatch(Labels{"inst": "a"}); n != 2 {
					panic("DeletePartialMatch of inst=a")
				}
				h.Reset()
			},
			want: "# HELP f F.\n# TYPE f gauge\n" + `f{inst="b",ip="1"} 1` + "\n",
		},
		{
			name: "a Func read at each scrape",
			make: func(r *Registry) {
				r.MustRegister(Func(func() []Sample {
					return []Sample{
						{Name: "p_total", Help: "P.", Counter: true, Value: 7},
						{Name: "i", Help: "I.", Labels: Labels{"version": "go1"}, Value: 1},
					}
				}))
			},
			want: "# HELP i I.\n# TYPE i gauge\n" + `i{version="go1"} 1` + "\n" +
				"# HELP p_total P.\n# TYPE p_total counter\np_total 7\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRegistry()
			tc.make(r)
			var b strings.Builder
			if err := r.WriteText(&b); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("got\n%s\nwant\n%s", b.String(), tc.want)
			}
			// Prometheus's own parser reads it.
			p := expfmt.NewTextParser(model.LegacyValidation)
			if _, err := p.TextToMetricFamilies(strings.NewReader(b.String())); err != nil {
				t.Errorf("Prometheus's text parser: %v\n%s", err, b.String())
			}
		})
	}
}

// TestMisuse: label arity mistakes and a name registered twice are
// programming errors; they panic, as client_golang's do.
func TestMisuse(t *testing.T) {
	for _, tc := range []struct {
		name string
		do   func()
	}{
		{"too few values", func() { NewGaugeVec(GaugeOpts{Name: "a"}, []string{"x", "y"}).WithLabelValues("1") }},
		{"wrong label name", func() { NewCounterVec(CounterOpts{Name: "a"}, []string{"x"}).With(Labels{"y": "1"}) }},
		{"counter down", func() { NewCounter(CounterOpts{Name: "a"}).Add(-1) }},
		{"registered twice", func() { NewRegistry().MustRegister(NewGauge(GaugeOpts{Name: "a"}), NewCounter(CounterOpts{Name: "a"})) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			tc.do()
		})
	}
}
