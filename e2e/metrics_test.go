package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"neurocards/testkit/kiefake"
	"neurocards/testkit/tgfake"
)

// scrape reads /metrics as Prometheus would: no token, the text format.
func scrape(t *testing.T, b *bot) (string, map[string]*dto.MetricFamily) {
	t.Helper()
	resp, err := http.Get(b.adminURL("/metrics"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %s\n%s", resp.Status, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("/metrics is not the text format: %v", err)
	}
	return string(body), families
}

// value sums the series of a family whose labels include the given pairs: a counter's or
// gauge's value, a histogram's count.
func value(families map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	f := families[name]
	if f == nil {
		return 0
	}
	var sum float64
	for _, m := range f.GetMetric() {
		ok := true
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, l := range m.GetLabel() {
				found = found || (l.GetName() == labels[i] && l.GetValue() == labels[i+1])
			}
			ok = ok && found
		}
		if !ok {
			continue
		}
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		}
	}
	return sum
}

// updatesSent counts the updates the fake Telegram queued for the bot (ids run from 1).
func updatesSent(b *bot) float64 {
	n := int64(0)
	for {
		if _, ok := b.Telegram.Update(n + 1); !ok {
			return float64(n)
		}
		n++
	}
}

// TestMetricsCountWhatHappened: after two deliveries, a content-policy failure and a 429 from
// Telegram, a scrape of /metrics shows exactly that — jobs, credits, KIE and Telegram calls, the
// 429 and its wait — passes the Prometheus lint, and shows no secret.
func TestMetricsCountWhatHappened(t *testing.T) {
	b := start(t)
	b.KIE.Script(func(n int, _ string, _ map[string]any) kiefake.Script {
		if n == 3 {
			return kiefake.Script{Outcome: kiefake.Outcome{Fail: true, FailCode: "400", FailMsg: "Your prompt was flagged by Website as violating content policies"}}
		}
		return kiefake.Script{}
	})
	b.Telegram.Fail("sendMessage", 601, 1, tgfake.Reply{Status: http.StatusTooManyRequests, RetryAfter: 1})
	s := greet(t, b, 601, "en")
	for range 2 {
		status := order(t, s, "card", "")
		s.ExpectNew(t, wait, status.ID, "the card", isFile("sendPhoto"))
		statusSays(t, s, status.ID, "Done")
	}
	s2 := greet(t, b, 602, "en")
	status := order(t, s2, "card", "")
	failedWith(t, s2, status.ID, "returned to your balance")
	statusSays(t, s2, status.ID, "did not work")

	body, families := scrape(t, b)
	settled := func() bool {
		body, families = scrape(t, b)
		return value(families, "neurocards_jobs_finished_total") == 3 &&
			value(families, "neurocards_updates_handled_total") == updatesSent(b) &&
			value(families, "neurocards_upstream_calls_total", "upstream", "telegram", "method", "sendMessage") == float64(b.Telegram.CountCalls("sendMessage", 0)) &&
			value(families, "neurocards_upstream_calls_total", "upstream", "telegram", "method", "editMessageText") == float64(b.Telegram.CountCalls("editMessageText", 0))
	}
	eventually(t, "the counters to settle", settled)

	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"neurocards_jobs_started_total", []string{"kind", "card"}, 3},
		{"neurocards_jobs_finished_total", []string{"kind", "card", "outcome", "done"}, 2},
		{"neurocards_jobs_finished_total", []string{"kind", "card", "outcome", "failed"}, 1},
		{"neurocards_job_failures_total", []string{"kind", "card", "class", "user", "reason", "content_policy"}, 1},
		{"neurocards_job_failures_total", nil, 1},
		{"neurocards_credits_spent_total", nil, 6},
		{"neurocards_credits_refunded_total", nil, 3},
		{"neurocards_kie_generation_seconds", []string{"model", "google/nano-banana-edit"}, 2},
		{"neurocards_job_confirm_to_delivered_seconds", []string{"kind", "card"}, 2},
		{"neurocards_job_generated_to_delivered_seconds", []string{"kind", "card"}, 2},
		{"neurocards_upstream_calls_total", []string{"upstream", "kie", "method", "create_task"}, float64(b.KIE.CreateCalls())},
		{"neurocards_upstream_calls_total", []string{"upstream", "kie", "method", "create_task", "outcome", "ok"}, 3},
		{"neurocards_upstream_calls_total", []string{"upstream", "kie", "method", "upload"}, float64(len(b.KIE.Uploads()))},
		{"neurocards_upstream_calls_total", []string{"upstream", "telegram", "method", "sendPhoto", "outcome", "ok"}, float64(b.Telegram.CountCalls("sendPhoto", 0))},
		{"neurocards_upstream_calls_total", []string{"upstream", "telegram", "method", "sendMessage", "outcome", "transient"}, 1},
		{"neurocards_upstream_rate_limited_total", []string{"upstream", "telegram", "method", "sendMessage"}, float64(b.Telegram.Count429())},
		{"neurocards_upstream_rate_limited_total", []string{"upstream", "kie"}, 0},
		{"neurocards_upstream_retry_after_seconds", []string{"upstream", "telegram"}, 1},
		{"neurocards_jobs_in_flight", nil, 0},
		{"neurocards_breaker_state", []string{"upstream", "kie"}, 0},
		{"neurocards_breaker_state", []string{"upstream", "telegram"}, 0},
		{"neurocards_actors", []string{"kind", "router"}, 1},
	} {
		if got := value(families, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if b.Telegram.Count429() != 1 {
		t.Errorf("the fake answered %d 429s, want 1", b.Telegram.Count429())
	}
	if got := families["neurocards_upstream_retry_after_seconds"].GetMetric()[0].GetHistogram().GetSampleSum(); got != 1 {
		t.Errorf("retry_after waited: %vs, want 1", got)
	}
	if value(families, "neurocards_poller_last_answer_timestamp_seconds") == 0 {
		t.Error("the poller's last answer is not exported")
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if families[name] == nil {
			t.Errorf("%s is missing: the Go and process collectors are not registered", name)
		}
	}

	problems, err := promlint.New(strings.NewReader(body)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	noSecrets(t, "/metrics", body)
}
