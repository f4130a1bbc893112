package metrics

import (
	"time"

	"neurocards/messages"
)

// OutcomeOK and OutcomeRejected are the outcomes of an upstream call besides a failure class:
// it succeeded, or the breaker refused it without calling.
const (
	OutcomeOK       = "ok"
	OutcomeRejected = "rejected"
)

// Outcome is the outcome label of a call that returned err, classified by the upstream's own
// classifier: "ok", or the failure's class.
func Outcome(err error, classify func(error) messages.Failure) string {
	if err == nil {
		return OutcomeOK
	}
	return string(classify(err).Class)
}

// Call records one call to an upstream: its outcome and how long it took.
func (m *Metrics) Call(upstream, method, outcome string, took time.Duration) {
	if m == nil {
		return
	}
	m.calls.WithLabelValues(upstream, method, outcome).Inc()
	m.callSeconds.WithLabelValues(upstream, method).Observe(took.Seconds())
}

// Rejected records a call the upstream's breaker refused: nothing was sent.
func (m *Metrics) Rejected(upstream, method string) {
	if m != nil {
		m.calls.WithLabelValues(upstream, method, OutcomeRejected).Inc()
	}
}

// RateLimited records an answer 429 and the wait it asked for (0: none given).
func (m *Metrics) RateLimited(upstream, method string, retryAfter time.Duration) {
	if m == nil {
		return
	}
	m.rateLimited.WithLabelValues(upstream, method).Inc()
	if retryAfter > 0 {
		m.retryAfter.WithLabelValues(upstream).Observe(retryAfter.Seconds())
	}
}

// AddOutage adds time during which upstream was unreachable or its breaker open.
func (m *Metrics) AddOutage(upstream string, d time.Duration) {
	if m != nil && d > 0 {
		m.outage.WithLabelValues(upstream).Add(d.Seconds())
	}
}

// BreakerChanged follows an upstream's breaker to count the outage: the time from its opening to
// its closing again is added to upstream_outage_seconds_total when it closes.
func (m *Metrics) BreakerChanged(upstream, to string) {
	if m == nil {
		return
	}
	m.outageMu.Lock()
	defer m.outageMu.Unlock()
	if m.outageSince == nil {
		m.outageSince = map[string]time.Time{}
	}
	since, down := m.outageSince[upstream]
	switch {
	case to == "open" && !down:
		m.outageSince[upstream] = time.Now()
	case to == "closed" && down:
		delete(m.outageSince, upstream)
		m.outage.WithLabelValues(upstream).Add(time.Since(since).Seconds())
	}
}
