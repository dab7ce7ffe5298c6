package monitoring

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/lbx-dev/lbx/internal/testkit"
)

const (
	rulesFile     = "prometheus/lbx.rules.yaml"
	ruleTestsGlob = "prometheus/tests/*.yaml"
	dashboardFile = "grafana/lbx.json"
)

// skip skips with one line saying why; under CI=true a skip would hide
// untested rules, so it fails instead.
func skip(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true and the monitoring test cannot run: %s", why)
	}
	testkit.Skip(t, "monitoring test skipped: "+why)
}

// promtool returns the path of Debian's promtool (package prometheus).
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		skip(t, "promtool missing (apt-get install prometheus)")
	}
	return p
}

// runPromtool runs promtool with args and fails the test with its output
// when it exits non-zero; the output is logged either way.
func runPromtool(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command(promtool(t), args...).CombinedOutput()
	t.Logf("promtool %s:\n%s", strings.Join(args, " "), out)
	if err != nil {
		t.Fatalf("promtool %s: %v", strings.Join(args, " "), err)
	}
}

func TestPromtoolCheckRules(t *testing.T) {
	runPromtool(t, "check", "rules", rulesFile)
}

func TestPromtoolTestRules(t *testing.T) {
	files, err := filepath.Glob(ruleTestsGlob)
	if err != nil || len(files) == 0 {
		t.Fatalf("no rule test files match %s (%v)", ruleTestsGlob, err)
	}
	runPromtool(t, append([]string{"test", "rules"}, files...)...)
}

// ruleFile is the part of a Prometheus rule file the tests look at.
type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []rule `yaml:"rules"`
	} `yaml:"groups"`
}

type rule struct {
	Record      string            `yaml:"record"`
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func loadRules(t *testing.T) []rule {
	t.Helper()
	b, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var f ruleFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", rulesFile, err)
	}
	var rules []rule
	for _, g := range f.Groups {
		rules = append(rules, g.Rules...)
	}
	if len(rules) == 0 {
		t.Fatalf("%s: no rules", rulesFile)
	}
	return rules
}

// recorded returns the names the rule file records.
func recorded(rules []rule) map[string]bool {
	names := map[string]bool{}
	for _, r := range rules {
		if r.Record != "" {
			names[r.Record] = true
		}
	}
	return names
}

// checkNames reports every metric name in expr that is neither exported by
// lbx, nor Prometheus's own `up`, nor recorded by lbx.rules.yaml.
func checkNames(t *testing.T, where, expr string, exported, records map[string]bool) {
	t.Helper()
	for _, n := range metricNames(expr) {
		if !exported[n] && n != "up" && !records[n] {
			t.Errorf("%s: metric %q is not exported by lbx (metrics.New) nor recorded by %s; renamed? expr: %s", where, n, rulesFile, expr)
		}
	}
}

func TestRulesUseExportedMetrics(t *testing.T) {
	rules := loadRules(t)
	exported := exportedNames(t)
	records := recorded(rules)
	for _, r := range rules {
		checkNames(t, rulesFile+": "+r.Record+r.Alert, r.Expr, exported, records)
	}
}

// Every alert pages or warns (the severity policy of lbx.rules.yaml) and
// says what happened, why it matters and where to start.
func TestAlertsAreDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/monitoring.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range loadRules(t) {
		if r.Alert == "" {
			continue
		}
		t.Run(r.Alert, func(t *testing.T) {
			if s := r.Labels["severity"]; s != "critical" && s != "warning" {
				t.Errorf("severity %q, want critical or warning", s)
			}
			for _, a := range []string{"summary", "description", "runbook"} {
				if r.Annotations[a] == "" {
					t.Errorf("no %s annotation", a)
				}
			}
			anchor := "docs/monitoring.md#" + strings.ToLower(r.Alert)
			if !strings.Contains(r.Annotations["runbook"], anchor) {
				t.Errorf("runbook annotation does not point to %s", anchor)
			}
			if !strings.Contains(string(doc), "### "+r.Alert+"\n") {
				t.Errorf("docs/monitoring.md has no section \"### %s\"", r.Alert)
			}
		})
	}
}

// dashboard is the part of a Grafana dashboard the tests look at.
type dashboard struct {
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []struct {
			Name  string          `json:"name"`
			Type  string          `json:"type"`
			Query json.RawMessage `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	Type       string      `json:"type"`
	Title      string      `json:"title"`
	Datasource *datasource `json:"datasource"`
	Targets    []struct {
		Expr       string      `json:"expr"`
		Datasource *datasource `json:"datasource"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // a collapsed row's
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	return d
}

// queryPanels returns every panel that is not a row, rows' children included.
func queryPanels(ps []panel) []panel {
	var out []panel
	for _, p := range ps {
		if p.Type == "row" {
			out = append(out, queryPanels(p.Panels)...)
			continue
		}
		out = append(out, p)
	}
	return out
}

// The dashboard's data source is a variable, so that it imports into any
// Grafana whatever its Prometheus data source is called.
func isTemplated(ds *datasource) bool {
	return ds != nil && ds.Type == "prometheus" && ds.UID == "${datasource}"
}

func TestDashboard(t *testing.T) {
	d := loadDashboard(t)
	if d.SchemaVersion < 36 {
		t.Errorf("schemaVersion %d: want a Grafana 9+ dashboard (36 or later)", d.SchemaVersion)
	}
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
	}
	for _, want := range []string{"datasource", "job", "instance", "vrrp"} {
		if !vars[want] {
			t.Errorf("no template variable %q", want)
		}
	}
	panels := queryPanels(d.Panels)
	if len(panels) == 0 {
		t.Fatal("no panels")
	}
	exported := exportedNames(t)
	for _, p := range panels {
		t.Run(p.Title, func(t *testing.T) {
			if !isTemplated(p.Datasource) {
				t.Errorf("datasource %+v, want the ${datasource} variable", p.Datasource)
			}
			if len(p.Targets) == 0 {
				t.Fatal("no targets")
			}
			for _, tg := range p.Targets {
				if tg.Expr == "" || !isTemplated(tg.Datasource) {
					t.Errorf("target with expr %q, datasource %+v: want an expr and the ${datasource} variable", tg.Expr, tg.Datasource)
					continue
				}
				expr, err := expand(tg.Expr)
				if err != nil {
					t.Error(err)
					continue
				}
				checkNames(t, dashboardFile+": "+p.Title, expr, exported, nil)
			}
		})
	}
}

// The variables' label_values() queries name exported metrics too.
func TestDashboardVariables(t *testing.T) {
	exported := exportedNames(t)
	for _, v := range loadDashboard(t).Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct {
			Query string `json:"query"`
		}
		if err := json.Unmarshal(v.Query, &q); err != nil {
			t.Errorf("variable %s: query %s: %v", v.Name, v.Query, err)
			continue
		}
		inner, ok := strings.CutPrefix(q.Query, "label_values(")
		if !ok {
			t.Errorf("variable %s: query %q is not label_values(metric, label)", v.Name, q.Query)
			continue
		}
		expr, err := expand(inner[:strings.LastIndex(inner, ",")])
		if err != nil {
			t.Error(err)
			continue
		}
		checkNames(t, "variable "+v.Name, expr, exported, nil)
		if len(metricNames(expr)) != 1 {
			t.Errorf("variable %s: %q names no single metric", v.Name, q.Query)
		}
	}
}

// dashboardExprs returns every panel query with its variables expanded.
func dashboardExprs(t *testing.T) []string {
	t.Helper()
	var exprs []string
	for _, p := range queryPanels(loadDashboard(t).Panels) {
		for _, tg := range p.Targets {
			e, err := expand(tg.Expr)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(exprs, e) {
				exprs = append(exprs, e)
			}
		}
	}
	return exprs
}
