// Package metricstest reads a metrics.Registry as Prometheus does, for
// tests: its text exposition parsed by Prometheus's own parser (expfmt),
// which no lbx binary links.
package metricstest

import (
	"bytes"
	"slices"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/lbx-dev/lbx/metrics"
)

// Gather returns m's metric families as Prometheus's text parser reads
// them, by name; an exposition it cannot parse is an error.
func Gather(m *metrics.Registry) ([]*dto.MetricFamily, error) {
	var b bytes.Buffer
	if err := m.WriteText(&b); err != nil {
		return nil, err
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(&b)
	if err != nil {
		return nil, err
	}
	out := make([]*dto.MetricFamily, 0, len(fams))
	for _, f := range fams {
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	return out, nil
}
