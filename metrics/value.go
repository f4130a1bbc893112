package metrics

import (
	dto "github.com/prometheus/client_model/go"
)

// Value is the current value of the series name{labels} as a scrape would show it — a counter's
// or gauge's value, a histogram's count — with labels as key, value pairs that must all match;
// 0 when there is no such series. Series of the same name that match are summed.
func (m *Metrics) Value(name string, labels ...string) float64 {
	if m == nil {
		return 0
	}
	families, _ := m.Registry.Gather() // what could be gathered, even if one collector failed
	var sum float64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, s := range f.GetMetric() {
			if !matches(s.GetLabel(), labels) {
				continue
			}
			switch {
			case s.Counter != nil:
				sum += s.Counter.GetValue()
			case s.Gauge != nil:
				sum += s.Gauge.GetValue()
			case s.Histogram != nil:
				sum += float64(s.Histogram.GetSampleCount())
			}
		}
	}
	return sum
}

func matches(have []*dto.LabelPair, want []string) bool {
	for i := 0; i+1 < len(want); i += 2 {
		found := false
		for _, l := range have {
			if l.GetName() == want[i] && l.GetValue() == want[i+1] {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
