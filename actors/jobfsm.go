package actors

import (
	"time"

	"neurocards/messages"
)

// Policy is the part of the configuration the job state machine decides with.
type Policy struct {
	GenAttempts    int
	SendAttempts   int
	RetryBase      time.Duration
	RetryMax       time.Duration
	DelayedRecheck time.Duration
}

// Effect is work the job actor carries out after persisting the state next returned.
type Effect interface{ effect() }

type (
	// startChild spawns a fresh child for the step (stopping any previous one).
	startChild struct{ Step messages.Step }
	// scheduleRetry restarts the step's child after a backoff.
	scheduleRetry struct {
		Step  messages.Step
		After time.Duration
	}
	// stopChildren stops every child and pending retry: the job is over.
	stopChildren struct{}
	// notifyDelayed tells the seller, once, that KIE is down and their credits are safe.
	notifyDelayed struct{}
	// notifyFailure sends the seller the explanation of a failed job, with a retry button.
	notifyFailure struct{}
	// refreshStatus brings the status message in line with the job.
	refreshStatus struct{}
	// removeFile deletes the result file from disk.
	removeFile struct{ Path string }
)

func (startChild) effect()    {}
func (scheduleRetry) effect() {}
func (stopChildren) effect()  {}
func (notifyDelayed) effect() {}
func (notifyFailure) effect() {}
func (refreshStatus) effect() {}
func (removeFile) effect()    {}

// next is the job's whole logic: given the persisted job and an event, it returns the job to
// persist and the effects to carry out after that. It does no I/O, so every edge is a table test.
// Events that do not fit the job's stage (late, repeated or stale) return the job unchanged and no
// effects.
func next(j messages.Job, ev messages.JobEvent, p Policy, now time.Time) (messages.Job, []Effect) {
	if j.Terminal() {
		return j, nil
	}
	switch ev := ev.(type) {
	case messages.JobStart:
		return start(j, now)

	case messages.PhotoUploaded:
		if j.Stage != messages.StageUploading {
			return j, nil
		}
		j.UploadURL = ev.URL
		return j, nil

	case messages.TaskCreated:
		if j.Stage != messages.StageUploading {
			return j, nil
		}
		j.Stage, j.TaskID = messages.StageSubmitted, ev.TaskID
		j.TasksCreated++
		return j, nil

	case messages.Generated:
		if j.Stage != messages.StageSubmitted {
			return j, nil
		}
		j.Stage, j.ResultURL = messages.StageGenerated, ev.ResultURL
		j.SendAttempts = 1
		return j, []Effect{startChild{messages.StepDeliver}, refreshStatus{}}

	case messages.Downloaded:
		if j.Stage != messages.StageGenerated {
			return j, nil
		}
		j.Stage, j.FilePath = messages.StageDownloaded, ev.Path
		return j, nil

	case messages.Delivered:
		if !delivering(j) {
			return j, nil
		}
		j.Stage, j.MessageID, j.FileID = messages.StageDelivered, ev.MessageID, ev.FileID
		j.Outcome = messages.OutcomeDone
		return j, withFile(j, refreshStatus{})

	case messages.StepFailed:
		if ev.Step == messages.StepGenerate {
			return generationFailed(j, ev.Failure, p)
		}
		return deliveryFailed(j, ev.Failure, p)

	case messages.RetryDue:
		return retry(j, ev, now)

	case messages.DeadlinePassed:
		return fail(j, messages.Failure{Class: messages.Transient, Reason: messages.ReasonTimeout, Detail: "job deadline passed"})
	}
	return j, nil
}

// start begins or resumes the job from its persisted stage. A resumed attempt is not a new one:
// it was interrupted by us, not failed by KIE or Telegram.
func start(j messages.Job, now time.Time) (messages.Job, []Effect) {
	switch j.Stage {
	case messages.StageQueued, messages.StageUploading:
		if j.GenAttempts == 0 {
			j.GenAttempts = 1
		}
		j.Stage, j.Parked = messages.StageUploading, false
		if j.GenStartedAt.IsZero() {
			j.GenStartedAt = now
		}
		return j, []Effect{startChild{messages.StepGenerate}, refreshStatus{}}
	case messages.StageSubmitted:
		return j, []Effect{startChild{messages.StepGenerate}, refreshStatus{}}
	case messages.StageGenerated, messages.StageDownloaded:
		if j.SendAttempts == 0 {
			j.SendAttempts = 1
		}
		return j, []Effect{startChild{messages.StepDeliver}, refreshStatus{}}
	case messages.StageDelivered:
		j.Outcome = messages.OutcomeDone
		return j, withFile(j, refreshStatus{})
	}
	return fail(j, messages.Failure{Class: messages.Internal, Reason: messages.ReasonInternal, Detail: "unknown stage " + string(j.Stage)})
}

func generating(j messages.Job) bool {
	return j.Stage == messages.StageQueued || j.Stage == messages.StageUploading || j.Stage == messages.StageSubmitted
}

func delivering(j messages.Job) bool {
	return j.Stage == messages.StageGenerated || j.Stage == messages.StageDownloaded
}

func generationFailed(j messages.Job, f messages.Failure, p Policy) (messages.Job, []Effect) {
	if !generating(j) {
		return j, nil
	}
	if f.Reason == messages.ReasonUpstreamDown && j.Stage != messages.StageSubmitted {
		// The breaker is open and nothing reached KIE: wait in queued without using an attempt.
		j.Stage, j.Parked = messages.StageQueued, true
		effects := []Effect{scheduleRetry{Step: messages.StepGenerate, After: p.DelayedRecheck}, refreshStatus{}}
		if !j.DelayNotified {
			j.DelayNotified = true
			effects = append(effects, notifyDelayed{})
		}
		return j, effects
	}
	throttled := f.Retryable() && f.RetryAfter > 0
	if !f.Retryable() || (!throttled && j.GenAttempts >= p.GenAttempts) {
		return fail(j, f)
	}
	// The next attempt starts over with a new upload and a new task: this one failed or timed out.
	// It is counted now, with the state, so a restart during the backoff does not buy another.
	after := backoff(p, j.GenAttempts, f.RetryAfter)
	if !throttled {
		j.GenAttempts++
	}
	j.Stage, j.TaskID, j.UploadURL = messages.StageQueued, "", ""
	return j, []Effect{scheduleRetry{Step: messages.StepGenerate, After: after}}
}

func deliveryFailed(j messages.Job, f messages.Failure, p Policy) (messages.Job, []Effect) {
	if !delivering(j) {
		return j, nil
	}
	throttled := f.Retryable() && f.RetryAfter > 0
	if !f.Retryable() || (!throttled && j.SendAttempts >= p.SendAttempts) {
		return fail(j, f)
	}
	after := backoff(p, j.SendAttempts, f.RetryAfter)
	if !throttled {
		j.SendAttempts++
	}
	return j, []Effect{scheduleRetry{Step: messages.StepDeliver, After: after}}
}

// retry starts the attempt a failure scheduled (and already counted).
func retry(j messages.Job, ev messages.RetryDue, now time.Time) (messages.Job, []Effect) {
	switch {
	case ev.Step == messages.StepGenerate && (j.Stage == messages.StageQueued || j.Stage == messages.StageUploading):
		j.Stage, j.Parked = messages.StageUploading, false
		if j.GenStartedAt.IsZero() {
			j.GenStartedAt = now
		}
		return j, []Effect{startChild{messages.StepGenerate}, refreshStatus{}}
	case ev.Step == messages.StepDeliver && delivering(j):
		return j, []Effect{startChild{messages.StepDeliver}}
	}
	return j, nil
}

// fail ends the job with f. The hold is released by the store in the same transaction.
func fail(j messages.Job, f messages.Failure) (messages.Job, []Effect) {
	j.Outcome, j.Failure, j.Parked = messages.OutcomeFailed, &f, false
	effects := []Effect{stopChildren{}, refreshStatus{}}
	if f.Reason != messages.ReasonBlocked {
		effects = append(effects, notifyFailure{})
	}
	return j, withFile(j, effects...)
}

// withFile adds the removal of the result file, if there is one, to a terminal job's effects.
func withFile(j messages.Job, effects ...Effect) []Effect {
	if j.FilePath != "" {
		effects = append(effects, removeFile{j.FilePath})
	}
	return effects
}

// backoff is the wait before attempt n+1: what the other side asked for, or base·2ⁿ⁻¹ up to max.
// The actor adds jitter on top.
func backoff(p Policy, n int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return retryAfter
	}
	d := p.RetryBase
	for i := 1; i < n && d < p.RetryMax; i++ {
		d *= 2
	}
	return min(d, p.RetryMax)
}
