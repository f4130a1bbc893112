// Package metrics is what an operator's Prometheus scrapes: every counter, gauge and histogram
// the bot exports, on its own registry (never the global default), with the Go runtime and
// process collectors. Values that have a truth elsewhere — jobs in flight, breaker states, the
// poller's last answer — are read from it at scrape time, so they never drift after a restart.
//
// Every method works on a nil *Metrics and does nothing, so a client built without metrics (a
// unit test) needs no stand-in.
package metrics

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Namespace prefixes every metric of the bot's own.
const Namespace = "neurocards"

// Upstream names, the values of the "upstream" label.
const (
	KIE      = "kie"
	Telegram = "telegram"
)

// Metrics holds the bot's metrics and the registry they are exported from.
type Metrics struct {
	// Registry has every metric below plus the Go runtime and process collectors; the admin
	// server serves it on /metrics.
	Registry *prometheus.Registry

	updates        *prometheus.CounterVec
	updatesLimited prometheus.Counter
	updatePanics   prometheus.Counter
	preCheckouts   *prometheus.CounterVec

	jobsStarted         *prometheus.CounterVec
	jobsFinished        *prometheus.CounterVec
	jobFailures         *prometheus.CounterVec
	stepFailures        *prometheus.CounterVec
	generation          *prometheus.HistogramVec
	confirmToDelivered  *prometheus.HistogramVec
	finishedToDelivered *prometheus.HistogramVec
	parked              *prometheus.GaugeVec

	calls       *prometheus.CounterVec
	callSeconds *prometheus.HistogramVec
	rateLimited *prometheus.CounterVec
	retryAfter  *prometheus.HistogramVec
	outage      *prometheus.CounterVec
	outageMu    sync.Mutex
	outageSince map[string]time.Time // upstreams whose breaker is open, since when

	creditsSold     prometheus.Counter
	creditsSpent    prometheus.Counter
	creditsRefunded prometheus.Counter
	creditsAdjusted *prometheus.CounterVec
	purchases       *prometheus.CounterVec
	operatorActions *prometheus.CounterVec

	actors          *prometheus.GaugeVec
	sessionsRetired prometheus.Counter
}

// Buckets of the histograms, in seconds. A KIE video takes minutes, an image tens of seconds.
var (
	generationBuckets = []float64{5, 10, 20, 30, 45, 60, 90, 120, 180, 240, 300, 420, 600, 900, 1200, 1800}
	deliveryBuckets   = []float64{0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300}
	callBuckets       = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}
	retryAfterBuckets = []float64{1, 2, 5, 10, 30, 60, 120, 300}
)

// New builds the metrics on a fresh registry.
func New() *Metrics {
	r := prometheus.NewRegistry()
	f := factory{r}
	m := &Metrics{
		Registry: r,

		updates:        f.counterVec("updates_handled_total", "Telegram updates whose effect is persisted, by type.", "type"),
		updatesLimited: f.counter("updates_limited_total", "Updates ignored because their seller was over the per-minute limit."),
		updatePanics:   f.counter("update_panics_total", "Updates whose handling panicked (a bug)."),
		preCheckouts:   f.counterVec("pre_checkouts_total", "Pre-checkout queries answered, by result (ok, refused).", "result"),

		jobsStarted:  f.counterVec("jobs_started_total", "Jobs confirmed by a seller (credits held), by kind.", "kind"),
		jobsFinished: f.counterVec("jobs_finished_total", "Jobs that ended, by kind and outcome (done, failed).", "kind", "outcome"),
		jobFailures:  f.counterVec("job_failures_total", "Jobs that ended failed, by kind, failure class and reason.", "kind", "class", "reason"),
		stepFailures: f.counterVec("step_failures_total", "Failed attempts of a job's step (generate, deliver), by class and reason; retried or not.", "step", "class", "reason"),
		generation: f.histogramVec("kie_generation_seconds", "Time from a KIE task's creation to its result, by model, for jobs delivered.",
			generationBuckets, "model"),
		confirmToDelivered: f.histogramVec("job_confirm_to_delivered_seconds", "Time from the seller's confirmation to the delivered result, by kind.",
			generationBuckets, "kind"),
		finishedToDelivered: f.histogramVec("job_generated_to_delivered_seconds", "Time from KIE's finished result to its delivery to the seller, by kind.",
			deliveryBuckets, "kind"),
		parked: f.gaugeVec("jobs_parked", "Jobs waiting in queued for an upstream to come back, by upstream.", "upstream"),

		calls:       f.counterVec("upstream_calls_total", "Calls to KIE and Telegram, by upstream, method and outcome (ok, a failure class, or rejected by the breaker).", "upstream", "method", "outcome"),
		callSeconds: f.histogramVec("upstream_call_duration_seconds", "Latency of calls to KIE and Telegram, by upstream and method.", callBuckets, "upstream", "method"),
		rateLimited: f.counterVec("upstream_rate_limited_total", "Answers 429 (too many requests) from KIE and Telegram, by upstream and method.", "upstream", "method"),
		retryAfter:  f.histogramVec("upstream_retry_after_seconds", "The waits KIE and Telegram asked for with retry_after, by upstream.", retryAfterBuckets, "upstream"),
		outage:      f.counterVec("upstream_outage_seconds_total", "Time an upstream was unreachable or its breaker open, by upstream.", "upstream"),

		creditsSold:     f.counter("credits_sold_total", "Credits bought with Telegram Stars."),
		creditsSpent:    f.counter("credits_spent_total", "Credits captured by delivered jobs."),
		creditsRefunded: f.counter("credits_refunded_total", "Credits given back to sellers by failed jobs (holds released)."),
		creditsAdjusted: f.counterVec("credits_adjusted_total", "Credits moved by operators (adjust rows), by direction (added, taken).", "direction"),
		purchases:       f.counterVec("purchases_total", "Packs bought with Telegram Stars, by pack.", "pack"),
		operatorActions: f.counterVec("operator_actions_total", "Operator actions carried out (grant, refund, cancel, refundstars).", "op"),

		actors:          f.gaugeVec("actors", "Actors alive, by kind (router, session, job, generate, deliver).", "kind"),
		sessionsRetired: f.counter("sessions_retired_total", "Idle sellers' sessions that left memory."),
	}
	r.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// factory makes metrics in the namespace and registers them.
type factory struct{ r *prometheus.Registry }

func (f factory) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help})
	f.r.MustRegister(c)
	return c
}

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help}, labels)
	f.r.MustRegister(c)
	return c
}

func (f factory) gaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Name: name, Help: help}, labels)
	f.r.MustRegister(g)
	return g
}

func (f factory) histogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: name, Help: help, Buckets: buckets}, labels)
	f.r.MustRegister(h)
	return h
}
