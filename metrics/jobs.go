package metrics

import (
	"time"

	"neurocards/messages"
)

// UpdateHandled counts a Telegram update whose effect is persisted; kind is message,
// callback_query, pre_checkout_query or other.
func (m *Metrics) UpdateHandled(kind string) {
	if m != nil {
		m.updates.WithLabelValues(kind).Inc()
	}
}

// UpdateLimited counts an update ignored because its seller was over the per-minute limit.
func (m *Metrics) UpdateLimited() {
	if m != nil {
		m.updatesLimited.Inc()
	}
}

// UpdatePanicked counts an update whose handling panicked.
func (m *Metrics) UpdatePanicked() {
	if m != nil {
		m.updatePanics.Inc()
	}
}

// PreCheckout counts a pre-checkout query answered, accepted or refused.
func (m *Metrics) PreCheckout(ok bool) {
	if m == nil {
		return
	}
	result := "refused"
	if ok {
		result = "ok"
	}
	m.preCheckouts.WithLabelValues(result).Inc()
}

// JobStarted counts a job a seller confirmed, its price held.
func (m *Metrics) JobStarted(kind string) {
	if m != nil {
		m.jobsStarted.WithLabelValues(kind).Inc()
	}
}

// StepFailed counts one failed attempt of a job's step, whether it is retried or not.
func (m *Metrics) StepFailed(step messages.Step, f messages.Failure) {
	if m != nil {
		m.stepFailures.WithLabelValues(string(step), string(f.Class), string(f.Reason)).Inc()
	}
}

// JobFinished records a job that ended, as stored by the transaction that ended it: its outcome
// and failure, the credits it spent or gave back, and for a delivered job the time KIE took, the
// time from confirmation and the time from KIE's result to delivery. Call it once per job.
func (m *Metrics) JobFinished(j messages.Job) {
	if m == nil || !j.Terminal() {
		return
	}
	m.jobsFinished.WithLabelValues(j.Kind, string(j.Outcome)).Inc()
	if j.Outcome == messages.OutcomeFailed {
		f := messages.Failure{Class: messages.Internal, Reason: messages.ReasonInternal}
		if j.Failure != nil {
			f = *j.Failure
		}
		m.jobFailures.WithLabelValues(j.Kind, string(f.Class), string(f.Reason)).Inc()
		m.creditsRefunded.Add(float64(j.Price))
		return
	}
	m.creditsSpent.Add(float64(j.Price))
	if d, ok := GenerationTime(j); ok {
		m.generation.WithLabelValues(j.Model).Observe(d.Seconds())
	}
	if !j.CreatedAt.IsZero() && !j.FinishedAt.IsZero() {
		m.confirmToDelivered.WithLabelValues(j.Kind).Observe(j.FinishedAt.Sub(j.CreatedAt).Seconds())
	}
	if at := j.Reached.Generated; !at.IsZero() && j.FinishedAt.After(at) {
		m.finishedToDelivered.WithLabelValues(j.Kind).Observe(j.FinishedAt.Sub(at).Seconds())
	}
}

// GenerationTime is how long KIE took for the job's result: from the task's creation (the last
// time the job reached submitted) to its result (generated).
func GenerationTime(j messages.Job) (time.Duration, bool) {
	from, to := j.Reached.Submitted, j.Reached.Generated
	if from.IsZero() || to.IsZero() || to.Before(from) {
		return 0, false
	}
	return to.Sub(from), true
}

// SetParked sets how many jobs wait in queued for upstream to come back.
func (m *Metrics) SetParked(upstream string, n int) {
	if m != nil {
		m.parked.WithLabelValues(upstream).Set(float64(n))
	}
}

// Purchase counts a pack bought with Stars and the credits it brought.
func (m *Metrics) Purchase(pack string, credits int64) {
	if m == nil {
		return
	}
	m.purchases.WithLabelValues(pack).Inc()
	if credits > 0 {
		m.creditsSold.Add(float64(credits))
	}
}

// OperatorAction counts an operator's action carried out (grant, refund, cancel, refundstars)
// and the credits its adjust row moved (negative: taken from the seller; 0: no adjust row).
func (m *Metrics) OperatorAction(op messages.OperatorOp, adjusted int64) {
	if m == nil {
		return
	}
	m.operatorActions.WithLabelValues(string(op)).Inc()
	switch {
	case adjusted > 0:
		m.creditsAdjusted.WithLabelValues("added").Add(float64(adjusted))
	case adjusted < 0:
		m.creditsAdjusted.WithLabelValues("taken").Add(float64(-adjusted))
	}
}

// SessionRetired counts an idle seller's session that left memory.
func (m *Metrics) SessionRetired() {
	if m != nil {
		m.sessionsRetired.Inc()
	}
}

// ActorStarted and ActorStopped keep the count of actors alive by kind.
func (m *Metrics) ActorStarted(kind string) {
	if m != nil {
		m.actors.WithLabelValues(kind).Inc()
	}
}

// ActorStopped is ActorStarted's counterpart.
func (m *Metrics) ActorStopped(kind string) {
	if m != nil {
		m.actors.WithLabelValues(kind).Dec()
	}
}
