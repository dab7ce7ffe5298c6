// Package monitoring ships lbx's Prometheus rules (prometheus/lbx.rules.yaml,
// unit-tested by prometheus/tests/*.yaml) and Grafana dashboard
// (grafana/lbx.json). It has no Go code: its tests run promtool on the rules,
// check that every metric the rules and the dashboard name is one lbx
// exports (metrics.New's registry), and evaluate every dashboard query
// against series shaped like lbx's own. See docs/monitoring.md.
package monitoring
