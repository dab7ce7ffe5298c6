package monitoring

import (
	"fmt"
	"maps"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/lbx-dev/lbx/metrics"
	"github.com/lbx-dev/lbx/metrics/metricstest"
	"github.com/lbx-dev/lbx/state"
)

// sample is one exported series: what a scrape of lbx watch shows.
type sample struct {
	name   string
	labels map[string]string // as exported; Prometheus drops the empty ones
	value  float64
}

// populate calls every setter of m once or twice, so that every family lbx
// exports has series, shaped as the watch loop makes them: one VRRP
// instance with two addresses, an address service and an fwmark service.
func populate(m *metrics.Registry) {
	v := metrics.VRRP{Name: "VI_1", Interface: "eth0", VRID: 51}
	m.SetBuildInfo("v1.2.3", "0123abcd", "go1.26.8")
	m.SetVRRP(v, "MASTER", 150, 150)
	m.Transition(v, "BACKUP")
	m.Transition(v, "MASTER")
	m.SetAddresses(v, []metrics.Address{{IP: netip.MustParseAddr("192.0.2.50"), Held: true}, {IP: netip.MustParseAddr("2001:db8::50"), Held: true}})
	m.SetTracked(map[string]bool{"chk_nginx": true}, map[string]bool{"eth0": true})
	m.SetAdvertCounts(v, metrics.AdvertCounts{Sent: 100, Received: 3, PriorityZeroSent: 1, PriorityZeroReceived: 1, Invalid: map[string]uint64{"auth": 2}})
	m.AdvertInvalid(metrics.VRRP{Interface: "eth0", VRID: 99}, "vrid")
	web := state.ServiceKey{Protocol: state.TCP, Addr: netip.MustParseAddr("192.0.2.10"), Port: 80, Family: state.IPv4}
	fwm := state.ServiceKey{FWMark: 26, Family: state.IPv4}
	m.SetChecker(metrics.Real{Service: web, Real: state.RealKey{Addr: netip.MustParseAddr("10.0.0.1"), Port: 8080}}, true, 3*time.Millisecond, 10, 1)
	m.CheckResult(metrics.Real{Service: web, Real: state.RealKey{Addr: netip.MustParseAddr("10.0.0.2"), Port: 8080}}, false, time.Second, false)
	m.SetChecker(metrics.Real{Service: fwm, Real: state.RealKey{Addr: netip.MustParseAddr("10.0.1.1")}}, true, time.Millisecond, 5, 0)
	m.Reconcile(2*time.Millisecond, nil, 4, map[string]int{"real": 1, "address": 1})
	m.Reload(true, time.Now())
	m.Reload(false, time.Now())
	m.SetCheckerRestarts(1)
}

// exportedSamples gathers a populated metrics.New(): every series lbx
// watch exports, histograms and summaries expanded as the text format
// shows them (_bucket with le, _sum, _count).
func exportedSamples(t *testing.T) []sample {
	t.Helper()
	m := metrics.New()
	populate(m)
	mfs, err := metricstest.Gather(m)
	if err != nil {
		t.Fatal(err)
	}
	var out []sample
	for _, mf := range mfs {
		name := mf.GetName()
		for _, mt := range mf.GetMetric() {
			l := map[string]string{}
			for _, lp := range mt.GetLabel() {
				l[lp.GetName()] = lp.GetValue()
			}
			with := func(k, v string) map[string]string {
				c := maps.Clone(l)
				c[k] = v
				return c
			}
			switch mf.GetType().String() {
			case "COUNTER":
				out = append(out, sample{name, l, mt.GetCounter().GetValue()})
			case "GAUGE":
				out = append(out, sample{name, l, mt.GetGauge().GetValue()})
			case "UNTYPED":
				out = append(out, sample{name, l, mt.GetUntyped().GetValue()})
			case "HISTOGRAM":
				h := mt.GetHistogram()
				for _, b := range h.GetBucket() {
					out = append(out, sample{name + "_bucket", with("le", strconv.FormatFloat(b.GetUpperBound(), 'g', -1, 64)), float64(b.GetCumulativeCount())})
				}
				out = append(out, sample{name + "_bucket", with("le", "+Inf"), float64(h.GetSampleCount())},
					sample{name + "_sum", l, h.GetSampleSum()}, sample{name + "_count", l, float64(h.GetSampleCount())})
			case "SUMMARY":
				s := mt.GetSummary()
				for _, q := range s.GetQuantile() {
					out = append(out, sample{name, with("quantile", strconv.FormatFloat(q.GetQuantile(), 'g', -1, 64)), q.GetValue()})
				}
				out = append(out, sample{name + "_sum", l, s.GetSampleSum()}, sample{name + "_count", l, float64(s.GetSampleCount())})
			default:
				t.Fatalf("%s: metric type %s not handled", name, mf.GetType())
			}
		}
	}
	return out
}

// exportedNames is the set of series names lbx watch exports.
func exportedNames(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	for _, s := range exportedSamples(t) {
		names[s.name] = true
	}
	return names
}

// labelShape is the sorted label names of a series as Prometheus stores it:
// empty values dropped, the target labels (job, instance, cluster) left out.
func labelShape(l map[string]string) string {
	var names []string
	for k, v := range l {
		if v != "" && k != "job" && k != "instance" && k != "cluster" {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	return strings.Join(names, ",")
}

// The promtool test files' input series are shaped like lbx's: each names
// an exported metric with the label names lbx gives it.
func TestRuleTestSeriesAreShapedLikeLbx(t *testing.T) {
	shapes := map[string]map[string]bool{} // name -> label shapes
	for _, s := range exportedSamples(t) {
		if shapes[s.name] == nil {
			shapes[s.name] = map[string]bool{}
		}
		shapes[s.name][labelShape(s.labels)] = true
	}
	shapes["up"] = map[string]bool{"": true}
	files, _ := filepath.Glob(ruleTestsGlob)
	for _, f := range files {
		for _, series := range inputSeries(t, f) {
			name, labels, err := parseSeries(series)
			if err != nil {
				t.Errorf("%s: %v", f, err)
				continue
			}
			if shapes[name] == nil {
				t.Errorf("%s: %s: lbx exports no metric %s", f, series, name)
			} else if !shapes[name][labelShape(labels)] {
				t.Errorf("%s: %s: lbx exports %s with labels %v, not {%s}", f, series, name, slices.Sorted(maps.Keys(shapes[name])), labelShape(labels))
			}
			if labels["job"] == "" || labels["instance"] == "" {
				t.Errorf("%s: %s: no job or instance label (Prometheus adds both to every series)", f, series)
			}
		}
	}
}

func inputSeries(t *testing.T, file string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Tests []struct {
			InputSeries []struct {
				Series string `yaml:"series"`
			} `yaml:"input_series"`
		} `yaml:"tests"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	var out []string
	for _, tc := range f.Tests {
		for _, s := range tc.InputSeries {
			out = append(out, s.Series)
		}
	}
	return out
}

// parseSeries splits promtool's `name{a="b",...}` (no commas or quotes in
// values: the test files do not need them).
func parseSeries(s string) (string, map[string]string, error) {
	name, rest, ok := strings.Cut(s, "{")
	if !ok || !strings.HasSuffix(rest, "}") {
		return "", nil, fmt.Errorf("series %q: want name{labels}", s)
	}
	labels := map[string]string{}
	for _, kv := range strings.Split(strings.TrimSuffix(rest, "}"), ",") {
		k, v, ok := strings.Cut(kv, "=")
		uq, err := strconv.Unquote(v)
		if !ok || err != nil {
			return "", nil, fmt.Errorf("series %q: label %q: want name=\"value\"", s, kv)
		}
		labels[strings.TrimSpace(k)] = uq
	}
	return name, labels, nil
}

// promtool's unit-test file format, for the generated dashboard test.
type (
	unitFile struct {
		RuleFiles          []string   `yaml:"rule_files"`
		EvaluationInterval string     `yaml:"evaluation_interval"`
		Tests              []unitTest `yaml:"tests"`
	}
	unitTest struct {
		Name        string      `yaml:"name"`
		Interval    string      `yaml:"interval"`
		InputSeries []unitInput `yaml:"input_series"`
		ExprTests   []exprTest  `yaml:"promql_expr_test"`
	}
	unitInput struct {
		Series string `yaml:"series"`
		Values string `yaml:"values"`
	}
	exprTest struct {
		Expr       string       `yaml:"expr"`
		EvalTime   string       `yaml:"eval_time"`
		ExpSamples []expSamples `yaml:"exp_samples"`
	}
	expSamples struct {
		Labels string  `yaml:"labels"`
		Value  float64 `yaml:"value"`
	}
)

// seriesNotation renders a sample with the target labels Prometheus adds,
// leaving out empty values as Prometheus does.
func seriesNotation(s sample, instance string) string {
	parts := []string{`job="lbx"`, `instance=` + strconv.Quote(instance)}
	for _, k := range slices.Sorted(maps.Keys(s.labels)) {
		if s.labels[k] != "" {
			parts = append(parts, k+"="+strconv.Quote(s.labels[k]))
		}
	}
	return s.name + "{" + strings.Join(parts, ",") + "}"
}

// Every dashboard query returns data from directors exporting what lbx
// watch exports: a query on a renamed metric or label value, or one that
// filters everything away, shows an empty panel and fails here. promtool
// also checks each query's syntax. Each query is wrapped as
// `count(QUERY) > bool 0`, which is 1 when it returns series and nothing
// when it returns none.
func TestDashboardQueriesReturnData(t *testing.T) {
	tool := promtool(t)
	used := map[string]bool{}
	exprs := dashboardExprs(t)
	for _, e := range exprs {
		for _, n := range metricNames(e) {
			used[n] = true
		}
	}
	// Two directors exporting every series (populate), and a third
	// exporting what the real scrape holds.
	directors := map[string][]sample{
		"lb1:9650": exportedSamples(t), "lb2:9650": exportedSamples(t),
		"lb3:9650": scrapedSamples(t, scrapeFile),
	}
	test := unitTest{Name: "dashboard queries", Interval: "15s"}
	for _, inst := range slices.Sorted(maps.Keys(directors)) {
		test.InputSeries = append(test.InputSeries, unitInput{`up{job="lbx",instance="` + inst + `"}`, "1x40"})
		for _, s := range directors[inst] {
			if used[s.name] {
				// Growing values: counters have a rate, gauges a change.
				test.InputSeries = append(test.InputSeries, unitInput{seriesNotation(s, inst), fmt.Sprintf("%g+1x40", s.value)})
			}
		}
	}
	for _, e := range exprs {
		test.ExprTests = append(test.ExprTests, exprTest{Expr: "count(" + e + ") > bool 0", EvalTime: "10m", ExpSamples: []expSamples{{Labels: "{}", Value: 1}}})
	}
	rules, err := filepath.Abs(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	b, err := yaml.Marshal(unitFile{RuleFiles: []string{rules}, EvaluationInterval: "1m", Tests: []unitTest{test}})
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "dashboard.test.yaml")
	if err := os.WriteFile(f, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "test", "rules", f).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool test rules (%d dashboard queries): %v\n%s", len(exprs), err, out)
	}
	t.Logf("%d dashboard queries return data", len(exprs))
}

// scrapeFile is a real scrape of a running lbx watch, committed by
// test/watchns's TestTrackingMetricsAndStatus (-update-scrape).
const scrapeFile = "../metrics/testdata/scrape.prom"

var scrapeLabel = regexp.MustCompile(`(\w+)="((?:[^"\\]|\\.)*)"`)

// scrapedSamples parses the lbx_ series of the text exposition in file.
func scrapedSamples(t *testing.T, file string) []sample {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []sample
	for i, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "lbx_") {
			continue
		}
		series, value, ok := cutLast(line, " ")
		v, err := strconv.ParseFloat(value, 64)
		if !ok || err != nil {
			t.Fatalf("%s:%d: %q: want `name{labels} value`", file, i+1, line)
		}
		name, labels, _ := strings.Cut(series, "{")
		l := map[string]string{}
		for _, m := range scrapeLabel.FindAllStringSubmatch(labels, -1) {
			l[m[1]], _ = strconv.Unquote(`"` + m[2] + `"`)
		}
		out = append(out, sample{name, l, v})
	}
	if len(out) == 0 {
		t.Fatalf("%s: no lbx_ series", file)
	}
	return out
}

func cutLast(s, sep string) (string, string, bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// The series populate makes are what a running lbx watch exports: every
// series of the real scrape has a name and label names populate's registry
// has too, so the tests above check rules and dashboard against reality.
func TestScrapeShapesAreCovered(t *testing.T) {
	// Label names as exported, empty values included (the text format
	// shows them; Prometheus drops them later).
	shape := func(s sample) string {
		return s.name + "{" + strings.Join(slices.Sorted(maps.Keys(s.labels)), ",") + "}"
	}
	shapes := map[string]bool{}
	for _, s := range exportedSamples(t) {
		shapes[shape(s)] = true
	}
	for _, s := range scrapedSamples(t, scrapeFile) {
		if k := shape(s); !shapes[k] {
			t.Errorf("%s: lbx watch exports %s, which populate() does not make: add it there", scrapeFile, k)
		}
	}
}
