package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"neurocards/messages"
)

// Breaker states as the breaker_state gauge reports them.
const (
	BreakerClosed   = 0
	BreakerHalfOpen = 1
	BreakerOpen     = 2
)

// BreakerValue maps gobreaker's state names to the gauge's values.
func BreakerValue(state string) float64 {
	switch state {
	case "open":
		return BreakerOpen
	case "half-open":
		return BreakerHalfOpen
	}
	return BreakerClosed
}

// WatchBreaker exports upstream's breaker state, read at scrape time.
func (m *Metrics) WatchBreaker(upstream string, state func() string) {
	if m == nil {
		return
	}
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace:   Namespace,
		Name:        "breaker_state",
		Help:        "Circuit breaker state per upstream: 0 closed, 1 half-open, 2 open.",
		ConstLabels: prometheus.Labels{"upstream": upstream},
	}, func() float64 { return BreakerValue(state()) }))
}

// WatchPoller exports when the update poller last had an answer from Telegram, read at scrape
// time (0 before the first).
func (m *Metrics) WatchPoller(lastAnswer func() time.Time) {
	if m == nil {
		return
	}
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: Namespace,
		Name:      "poller_last_answer_timestamp_seconds",
		Help:      "Unix time of the update poller's last successful getUpdates answer from Telegram.",
	}, func() float64 {
		t := lastAnswer()
		if t.IsZero() {
			return 0
		}
		return float64(t.UnixNano()) / 1e9
	}))
}

// WatchInFlight exports the jobs in flight by stage, counted by count at scrape time from the
// store, so the gauge is the truth even right after a restart.
func (m *Metrics) WatchInFlight(count func() (map[messages.Stage]int, error)) {
	if m != nil {
		m.Registry.MustRegister(inFlight{count: count, desc: prometheus.NewDesc(
			prometheus.BuildFQName(Namespace, "", "jobs_in_flight"),
			"Jobs not yet ended, by stage, as stored.", []string{"stage"}, nil)})
	}
}

type inFlight struct {
	count func() (map[messages.Stage]int, error)
	desc  *prometheus.Desc
}

func (c inFlight) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c inFlight) Collect(ch chan<- prometheus.Metric) {
	n, err := c.count()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for _, s := range messages.Stages {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n[s]), string(s))
	}
}
