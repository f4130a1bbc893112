package admin

import (
	"fmt"
	"math"
	"slices"
	"time"

	"neurocards/texts"
)

// genSample is one delivered job's KIE generation time, at the moment KIE finished.
type genSample struct {
	at   time.Time
	took time.Duration
}

// genStats are the KIE generation times of the last 24 hours: percentiles over all of them and
// a chart of each hour's.
type genStats struct {
	N        int
	P50, P95 time.Duration
	Chart    chart
}

// chart is a bar chart of p50 and p95 per hour, laid out here and drawn as inline SVG by the
// template: the page needs no script and no image file.
type chart struct {
	Width, Height, Top, Bottom, Left int
	Bars                             []bar
	Ticks                            []tick
	Labels                           []label
}

type bar struct {
	X, W       int
	Y50, H50   int
	Y95, H95   int
	Title      string
	HasSamples bool
}

type tick struct {
	Y    int
	Text string
}

type label struct {
	X    int
	Text string
}

const (
	chartHours  = 24
	chartWidth  = 720
	chartHeight = 180
	chartTop    = 10
	chartBottom = 22 // room for the hour labels
	chartLeft   = 48 // room for the axis labels
)

// percentile is the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// generationStats summarises samples over the 24 hours up to now.
func generationStats(samples []genSample, now time.Time) genStats {
	all := make([]time.Duration, 0, len(samples))
	hours := make([][]time.Duration, chartHours)
	end := now.Truncate(time.Hour).Add(time.Hour)
	start := end.Add(-chartHours * time.Hour)
	for _, s := range samples {
		all = append(all, s.took)
		if h := int(s.at.Sub(start) / time.Hour); h >= 0 && h < chartHours {
			hours[h] = append(hours[h], s.took)
		}
	}
	slices.Sort(all)
	g := genStats{N: len(all), P50: percentile(all, 0.5), P95: percentile(all, 0.95)}
	g.Chart = layoutChart(hours, start)
	return g
}

func layoutChart(hours [][]time.Duration, start time.Time) chart {
	c := chart{Width: chartWidth, Height: chartHeight, Top: chartTop, Bottom: chartHeight - chartBottom, Left: chartLeft}
	p50 := make([]time.Duration, len(hours))
	p95 := make([]time.Duration, len(hours))
	var top time.Duration
	for i, h := range hours {
		slices.Sort(h)
		p50[i], p95[i] = percentile(h, 0.5), percentile(h, 0.95)
		top = max(top, p95[i])
	}
	scale := niceCeiling(top)
	plot := c.Bottom - c.Top
	y := func(d time.Duration) int { return c.Bottom - int(float64(plot)*float64(d)/float64(scale)) }
	slot := (c.Width - c.Left) / len(hours)
	for i := range hours {
		x := c.Left + i*slot
		b := bar{X: x + 2, W: slot - 4, HasSamples: len(hours[i]) > 0}
		// A bar with samples stays visible however short its times.
		b.Y95, b.Y50 = min(y(p95[i]), c.Bottom-2), min(y(p50[i]), c.Bottom-2)
		b.H95, b.H50 = c.Bottom-b.Y95, c.Bottom-b.Y50
		from := start.Add(time.Duration(i) * time.Hour).In(texts.Moscow)
		b.Title = fmt.Sprintf("%s–%02d:00 MSK: no jobs", from.Format("15:04"), (from.Hour()+1)%24)
		if b.HasSamples {
			b.Title = fmt.Sprintf("%s–%02d:00 MSK: %d jobs, p50 %s, p95 %s", from.Format("15:04"), (from.Hour()+1)%24, len(hours[i]), dur(p50[i]), dur(p95[i]))
		}
		c.Bars = append(c.Bars, b)
		if i%3 == 0 {
			c.Labels = append(c.Labels, label{X: x + slot/2, Text: from.Format("15h")})
		}
	}
	for i := 0; i <= 4; i++ {
		d := scale * time.Duration(i) / 4
		c.Ticks = append(c.Ticks, tick{Y: y(d), Text: dur(d)})
	}
	return c
}

// niceCeiling rounds d up to a round scale for the axis: 100ms … 10s, 30s, 1m, 2m, 5m, 10m, 20m,
// 30m, 1h, then whole hours.
func niceCeiling(d time.Duration) time.Duration {
	for _, n := range []time.Duration{100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
		time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute,
		10 * time.Minute, 20 * time.Minute, 30 * time.Minute, time.Hour} {
		if d <= n {
			return n
		}
	}
	return d.Truncate(time.Hour) + time.Hour
}
