package monitoring

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// PromQL is validated by promtool; these helpers only pick the metric names
// out of an expression that promtool accepts, so a renamed metric fails a
// test instead of silently emptying an alert or a panel.
var (
	promqlStrings   = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`")
	promqlMatchers  = regexp.MustCompile(`\{[^}]*\}`)
	promqlRanges    = regexp.MustCompile(`\[[^\]]*\]`)
	promqlLabelList = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promqlIdent     = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	// Grafana's variable syntax: $name, ${name}, ${name:format}, [[name]].
	grafanaVar = regexp.MustCompile(`\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]`)
)

var promqlKeywords = map[string]bool{
	"and": true, "or": true, "unless": true, "bool": true, "offset": true,
	"by": true, "without": true, "on": true, "ignoring": true,
	"group_left": true, "group_right": true, "inf": true, "nan": true, "atan2": true,
}

// metricNames returns the metric names an expression selects, sorted.
func metricNames(expr string) []string {
	s := promqlStrings.ReplaceAllString(expr, `""`)
	s = promqlMatchers.ReplaceAllString(s, " ")
	s = promqlRanges.ReplaceAllString(s, " ")
	s = promqlLabelList.ReplaceAllString(s, " ")
	var names []string
	for _, m := range promqlIdent.FindAllStringIndex(s, -1) {
		name := s[m[0]:m[1]]
		// Glued to a digit or dot, it is part of a number (5m, 1e3);
		// followed by "(", a function or aggregation.
		number := m[0] > 0 && strings.ContainsAny(s[m[0]-1:m[0]], "0123456789.")
		call := strings.HasPrefix(strings.TrimLeft(s[m[1]:], " \t\n"), "(")
		if number || call || promqlKeywords[strings.ToLower(name)] {
			continue
		}
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// dashboardVars are the values the dashboard's variables take when the test
// evaluates its queries: "All" for the selectors, one minute for the range.
var dashboardVars = map[string]string{
	"job": ".*", "instance": ".*", "vrrp": ".*",
	"__rate_interval": "1m", "__interval": "1m", "__range": "1h",
}

// expand replaces Grafana variables with dashboardVars' values; a variable
// it does not know is an error (the dashboard would show nothing for it).
func expand(expr string) (string, error) {
	var unknown []string
	out := grafanaVar.ReplaceAllStringFunc(expr, func(v string) string {
		m := grafanaVar.FindStringSubmatch(v)
		name := m[1] + m[2] + m[3]
		val, ok := dashboardVars[name]
		if !ok {
			unknown = append(unknown, name)
		}
		return val
	})
	if len(unknown) > 0 {
		return "", fmt.Errorf("unknown dashboard variable(s) %v in %q", unknown, expr)
	}
	return out, nil
}

func TestMetricNames(t *testing.T) {
	for _, c := range []struct{ expr, want string }{
		{`up{job=~"lbx.*"} == 0`, "up"},
		{`sum by (cluster, iname, vrid) (lbx_vrrp_state == bool 2) == 0`, "lbx_vrrp_state"},
		{`increase(lbx_drift_repaired_total[30m]) > 0`, "lbx_drift_repaired_total"},
		{`rate(lbx_reconciles_total{result="error", job=~"a|b"}[5m]) > 0`, "lbx_reconciles_total"},
		{`max_over_time(director_vrrp_instance:lbx_vrrp_state:present[1d]) unless group without (intf) (lbx_vrrp_state) and on (job, instance) (up == 1)`,
			"director_vrrp_instance:lbx_vrrp_state:present lbx_vrrp_state up"},
		{`histogram_quantile(0.99, sum by (le) (rate(lbx_reconcile_duration_seconds_bucket[1m])))`, "lbx_reconcile_duration_seconds_bucket"},
		{`time() - lbx_last_reload_timestamp_seconds offset 5m`, "lbx_last_reload_timestamp_seconds"},
		{`topk(10, lbx_checker_latency_seconds) * 1e3`, "lbx_checker_latency_seconds"},
		{`a_metric{name="not_a_metric"} / on (x) group_left (y) b_metric`, "a_metric b_metric"},
		{`absent(up{job=~"lbx.*"})`, "up"},
		{`vector(1)`, ""},
	} {
		t.Run(c.expr, func(t *testing.T) {
			if got := strings.Join(metricNames(c.expr), " "); got != c.want {
				t.Errorf("metricNames(%q) = %q, want %q", c.expr, got, c.want)
			}
		})
	}
}

func TestExpand(t *testing.T) {
	for _, c := range []struct{ in, want, err string }{
		{`up{job=~"$job", instance=~"${instance}"}`, `up{job=~".*", instance=~".*"}`, ""},
		{`rate(x[$__rate_interval])`, `rate(x[1m])`, ""},
		{`x{a=~"[[vrrp]]"}`, `x{a=~".*"}`, ""},
		{`x{a=~"$nope"}`, "", "unknown dashboard variable(s) [nope]"},
	} {
		t.Run(c.in, func(t *testing.T) {
			got, err := expand(c.in)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("expand(%q) error = %v, want %q", c.in, err, c.err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Errorf("expand(%q) = %q, %v; want %q", c.in, got, err, c.want)
			}
		})
	}
}
