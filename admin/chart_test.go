package admin

import (
	"testing"
	"time"
)

// TestGenerationStats: percentiles are nearest-rank over the day; each hour gets its bar, an
// hour without jobs an empty one, and the scale fits the slowest hour.
func TestGenerationStats(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 30, 0, 0, time.UTC)
	var samples []genSample
	for i := 1; i <= 20; i++ {
		samples = append(samples, genSample{at: now.Add(-time.Duration(i%3) * time.Hour), took: time.Duration(i) * 10 * time.Second})
	}
	samples = append(samples, genSample{at: now.Add(-30 * time.Hour), took: time.Hour}) // before the chart
	g := generationStats(samples, now)
	if g.N != 21 || g.P50 != 110*time.Second || g.P95 != 200*time.Second {
		t.Errorf("n %d p50 %v p95 %v", g.N, g.P50, g.P95)
	}
	c := g.Chart
	if len(c.Bars) != chartHours {
		t.Fatalf("bars: %d", len(c.Bars))
	}
	last := c.Bars[chartHours-1] // 12:00–13:00 UTC
	if !last.HasSamples || last.H95 <= last.H50 || last.Y95 < c.Top {
		t.Errorf("the current hour's bar: %+v", last)
	}
	if c.Bars[0].HasSamples {
		t.Error("an hour without jobs has a bar")
	}
	if top := c.Ticks[len(c.Ticks)-1]; top.Text != "5m0s" || top.Y != c.Top {
		t.Errorf("the axis tops at %+v, want 5m0s at the top", top)
	}
}

func TestPercentileOfNothingIsZero(t *testing.T) {
	if p := percentile(nil, 0.95); p != 0 {
		t.Errorf("p95 of nothing: %v", p)
	}
}
