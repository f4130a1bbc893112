package metrics

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"neurocards/messages"
)

// feed moves every metric once, so each family has a series to lint and to read.
func feed(m *Metrics) {
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	m.UpdateHandled("message")
	m.UpdateLimited()
	m.UpdatePanicked()
	m.PreCheckout(true)
	m.JobStarted("video")
	m.StepFailed(messages.StepGenerate, messages.Failure{Class: messages.Transient, Reason: messages.ReasonUpstream})
	done := messages.Job{Kind: "video", Model: "kling-2.6/image-to-video", Price: 10, Outcome: messages.OutcomeDone,
		CreatedAt: t0, FinishedAt: t0.Add(4 * time.Minute)}
	done.Reached.Set(messages.StageSubmitted, t0.Add(10*time.Second))
	done.Reached.Set(messages.StageGenerated, t0.Add(190*time.Second))
	m.JobFinished(done)
	m.JobFinished(messages.Job{Kind: "card", Price: 3, Outcome: messages.OutcomeFailed,
		Failure: &messages.Failure{Class: messages.User, Reason: messages.ReasonContentPolicy}})
	m.SetParked(KIE, 2)
	m.Call(KIE, "create_task", OutcomeOK, 30*time.Millisecond)
	m.Rejected(KIE, "record_info")
	m.RateLimited(Telegram, "sendMessage", 3*time.Second)
	m.AddOutage(KIE, 90*time.Second)
	m.Purchase("10", 10)
	m.OperatorAction(messages.OpGrant, 5)
	m.OperatorAction(messages.OpGrant, -2)
	m.SessionRetired()
	m.ActorStarted("session")
	m.WatchBreaker(KIE, func() string { return "open" })
	m.WatchPoller(func() time.Time { return t0 })
	m.WatchInFlight(func() (map[messages.Stage]int, error) {
		return map[messages.Stage]int{messages.StageSubmitted: 3}, nil
	})
}

// TestLint: every metric the bot exports passes the client library's own lint.
func TestLint(t *testing.T) {
	m := New()
	feed(m)
	problems, err := testutil.GatherAndLint(m.Registry)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}

// TestValues: what the bot recorded is what a scrape shows.
func TestValues(t *testing.T) {
	m := New()
	feed(m)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"neurocards_jobs_finished_total", []string{"kind", "video", "outcome", "done"}, 1},
		{"neurocards_job_failures_total", []string{"kind", "card", "class", "user", "reason", "content_policy"}, 1},
		{"neurocards_credits_spent_total", nil, 10},
		{"neurocards_credits_refunded_total", nil, 3},
		{"neurocards_credits_sold_total", nil, 10},
		{"neurocards_credits_adjusted_total", []string{"direction", "added"}, 5},
		{"neurocards_credits_adjusted_total", []string{"direction", "taken"}, 2},
		{"neurocards_operator_actions_total", []string{"op", "grant"}, 2},
		{"neurocards_kie_generation_seconds", []string{"model", "kling-2.6/image-to-video"}, 1},
		{"neurocards_job_confirm_to_delivered_seconds", []string{"kind", "video"}, 1},
		{"neurocards_job_generated_to_delivered_seconds", []string{"kind", "video"}, 1},
		{"neurocards_upstream_calls_total", []string{"upstream", "kie", "outcome", "rejected"}, 1},
		{"neurocards_upstream_rate_limited_total", []string{"upstream", "telegram"}, 1},
		{"neurocards_upstream_retry_after_seconds", []string{"upstream", "telegram"}, 1},
		{"neurocards_upstream_outage_seconds_total", []string{"upstream", "kie"}, 90},
		{"neurocards_jobs_parked", []string{"upstream", "kie"}, 2},
		{"neurocards_breaker_state", []string{"upstream", "kie"}, BreakerOpen},
		{"neurocards_jobs_in_flight", []string{"stage", "submitted"}, 3},
		{"neurocards_jobs_in_flight", []string{"stage", "queued"}, 0},
		{"neurocards_actors", []string{"kind", "session"}, 1},
	} {
		if got := m.Value(c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if got := m.Value("neurocards_poller_last_answer_timestamp_seconds"); got != 1795860000 {
		t.Errorf("poller last answer: %v", got)
	}
}

// TestGenerationTimeNeedsBothStages: a job without recorded stage times adds no sample.
func TestGenerationTimeNeedsBothStages(t *testing.T) {
	var j messages.Job
	if _, ok := GenerationTime(j); ok {
		t.Error("a job without stage times has a generation time")
	}
	j.Reached.Set(messages.StageSubmitted, time.Unix(100, 0))
	j.Reached.Set(messages.StageGenerated, time.Unix(160, 0))
	if d, ok := GenerationTime(j); !ok || d != time.Minute {
		t.Errorf("generation time: %v %v", d, ok)
	}
}

// TestInFlightFailureIsAScrapeError: a store that cannot be read shows as an error of that
// family, not as zeros that look true.
func TestInFlightFailureIsAScrapeError(t *testing.T) {
	m := New()
	m.WatchInFlight(func() (map[messages.Stage]int, error) { return nil, errors.New("database not open") })
	_, err := m.Registry.Gather()
	if err == nil || !strings.Contains(err.Error(), "database not open") {
		t.Errorf("gather: %v", err)
	}
}

// TestNilMetricsDoNothing: a client built without metrics can call every method.
func TestNilMetricsDoNothing(t *testing.T) {
	var m *Metrics
	feed(m)
	if m.Value("neurocards_credits_sold_total") != 0 {
		t.Error("nil metrics have a value")
	}
}
