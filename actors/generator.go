package actors

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/anthdm/hollywood/actor"

	"neurocards/kie"
	"neurocards/messages"
	"neurocards/telegram"
)

// generator makes one KIE attempt for a job: move the photo to KIE, create the task, poll it to
// the end. A job that already has a task id only polls it, so a restart never pays twice. It
// reports each fact to the job as it happens.
type generator struct {
	d   *Deps
	job messages.Job
	run int
}

func newGenerator(d *Deps, j messages.Job, run int) actor.Producer {
	g := &generator{d: d, job: j, run: run}
	return attemptActor(d, j.ID, messages.StepGenerate, run, d.Config.Timing.KIEAttemptTimeout, g.attempt)
}

// attempt runs off the actor goroutine and returns the event that ends the attempt.
func (g *generator) attempt(ctx context.Context, report func(messages.JobEvent)) messages.JobEvent {
	if h := g.d.Hooks.BeforeGenerate; h != nil {
		h(g.job.ID)
	}
	failed := func(f messages.Failure) messages.JobEvent {
		return messages.StepFailed{Run: g.run, Step: messages.StepGenerate, Failure: f}
	}
	taskID := g.job.TaskID
	if taskID == "" && g.d.KIE.BreakerState() == "open" {
		// Do not fetch the photo from Telegram only to be refused: wait for the breaker.
		return failed(messages.Failure{Class: messages.Transient, Reason: messages.ReasonUpstreamDown, Code: "breaker open"})
	}
	if taskID == "" {
		url := g.job.UploadURL
		if url == "" {
			var f messages.Failure
			if url, f = g.upload(ctx); url == "" {
				return failed(f)
			}
			report(messages.PhotoUploaded{Run: g.run, URL: url})
		}
		kind, ok := g.d.Config.Kind(g.job.Kind)
		if !ok {
			return failed(messages.Failure{Class: messages.Operator, Reason: messages.ReasonUnavailable, Detail: "kind " + g.job.Kind + " is no longer configured"})
		}
		id, err := g.d.KIE.CreateTask(ctx, g.job.Model, kind.TaskInput(g.job.Product, url), "")
		if err != nil {
			f := g.classify(ctx, err)
			if f.Reason == messages.ReasonUpstreamDown && f.Code == "network" {
				// The request may have reached KIE, which bills a task it created even if we never
				// hear of it: this attempt counts, unlike waiting for an open breaker.
				f.Reason = messages.ReasonUpstream
			}
			return failed(f)
		}
		taskID = id
		report(messages.TaskCreated{Run: g.run, TaskID: id})
	}
	return g.poll(ctx, taskID, failed)
}

// upload moves the seller's photo from Telegram to KIE's file host; the Telegram file URL carries
// the bot token, so KIE never sees it.
func (g *generator) upload(ctx context.Context) (string, messages.Failure) {
	var buf bytes.Buffer
	if _, err := g.d.Telegram.Download(ctx, g.job.Photo.FileID, &buf, g.d.Config.Limits.MaxPhotoBytes); err != nil {
		f := telegram.Classify(err)
		if ctx.Err() != nil {
			f = timedOut("photo download")
		}
		if f.Class == messages.Operator && f.Code == "404" {
			f = messages.Failure{Class: messages.User, Reason: messages.ReasonBadPhoto, Code: f.Code, Detail: f.Detail}
		}
		return "", f
	}
	url, err := g.d.KIE.Upload(ctx, &buf, fmt.Sprintf("job-%d%s", g.job.ID, photoExt(g.job.Photo.Mime)))
	if err != nil {
		return "", g.classify(ctx, err)
	}
	return url, messages.Failure{}
}

// poll asks KIE about the task with backoff until it ends or the attempt's deadline passes.
// Errors that may pass (network, 5xx, an open breaker) only delay the next poll.
func (g *generator) poll(ctx context.Context, taskID string, failed func(messages.Failure) messages.JobEvent) messages.JobEvent {
	wait := g.d.Config.Timing.PollMin
	for {
		rec, err := g.d.KIE.RecordInfo(ctx, taskID)
		switch {
		case err != nil:
			f := g.classify(ctx, err)
			if !f.Retryable() || ctx.Err() != nil {
				return failed(f)
			}
			g.d.Log.Warn("polling KIE failed", "job_id", g.job.ID, "task_id", taskID, "code", f.Code, "err", err)
		case rec.State == kie.StateSuccess:
			if len(rec.ResultURLs) == 0 {
				return failed(messages.Failure{Class: messages.Transient, Reason: messages.ReasonUpstream, Detail: "task succeeded without a result URL"})
			}
			return messages.Generated{Run: g.run, ResultURL: rec.ResultURLs[0]}
		case rec.State == kie.StateFail:
			return failed(kie.ClassifyRecord(rec))
		}
		select {
		case <-ctx.Done():
			return failed(g.classify(ctx, ctx.Err()))
		case <-time.After(wait):
		}
		wait = min(wait*3/2, g.d.Config.Timing.PollMax)
	}
}

// classify is kie.Classify, except that our own attempt deadline is a timeout, and our own
// cancellation (the job stopping this attempt) is said as such.
func (g *generator) classify(ctx context.Context, err error) messages.Failure {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return timedOut("KIE attempt")
	case errors.Is(ctx.Err(), context.Canceled):
		return messages.Failure{Class: messages.Transient, Reason: messages.ReasonUpstream, Code: "canceled", Detail: "attempt stopped by its job"}
	}
	return kie.Classify(err)
}

func timedOut(what string) messages.Failure {
	return messages.Failure{Class: messages.Transient, Reason: messages.ReasonTimeout, Detail: what + " ran out of time"}
}

func photoExt(mime string) string {
	switch mime {
	case "image/png":
		return ".png"
	case "image/webp":
		return ".webp"
	default:
		return ".jpg"
	}
}
