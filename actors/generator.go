package actors

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/anthdm/hollywood/actor"

	"neurocards/kie"
	"neurocards/messages"
	"neurocards/store"
	"neurocards/telegram"
)

// generator makes the first half of one KIE attempt for a job: move the photo to KIE and create
// the task. It reports each fact to the job as it happens; the job then reads the task on its own
// timer, so a job waiting on KIE costs a timer, not a goroutine.
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
	if g.d.KIE.BreakerState() == "open" {
		// Do not fetch the photo from Telegram only to be refused: wait for the breaker.
		return failed(messages.Failure{Class: messages.Transient, Reason: messages.ReasonUpstreamDown, Code: "breaker open"})
	}
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
	callback := ""
	if g.d.CallbackURL != nil {
		callback = g.d.CallbackURL(g.job.ID)
	}
	// At most store.Unrecorded tasks are on their way to the disk at once, so a crash pays KIE
	// twice for no more than that many, however many jobs create tasks together.
	done, err := g.d.Store.TaskSlot(ctx)
	if err != nil {
		return failed(messages.Failure{Class: messages.Transient, Reason: messages.ReasonTimeout, Detail: err.Error()})
	}
	defer done()
	id, err := g.d.KIE.CreateTask(ctx, g.job.Model, kind.TaskInput(g.job.Product, url), callback)
	if err != nil {
		return failed(kie.ClassifyCreate(err))
	}
	g.record(url, id)
	return messages.TaskCreated{Run: g.run, TaskID: id}
}

// record writes the task KIE has just billed to disk before anything else is done with it — here,
// not after a hop through the job's inbox behind its other work — so a crash from now on polls
// this task instead of paying for another. The job hears TaskCreated either way: when the id
// could not be written it records the task itself, and when the job no longer waits for it, it
// ignores it as it would have.
func (g *generator) record(url, taskID string) {
	err := g.d.Store.RecordTask(g.job.ID, g.job.GenAttempts, url, taskID)
	log := g.d.Log.With("job_id", g.job.ID, "task_id", taskID)
	switch {
	case err == nil:
	case errors.Is(err, store.ErrStaleTask), errors.Is(err, store.ErrFinished):
		log.Warn("KIE created a task the job no longer waits for; it is abandoned", "reason", err)
	default:
		log.Error("recording the task failed; the job records it", "err", err)
	}
}

// readTaskOnce asks KIE about a task once, and says what it found as the job's event.
func readTaskOnce(d *Deps, taskID string) messages.TaskRead {
	ctx, cancel := context.WithTimeout(context.Background(), d.Config.Timing.TelegramCall)
	defer cancel()
	rec, err := d.KIE.RecordInfo(ctx, taskID)
	switch {
	case err != nil:
		f := kie.Classify(err)
		return messages.TaskRead{TaskID: taskID, Failure: &f}
	case rec.State == kie.StateSuccess:
		url := ""
		if len(rec.ResultURLs) > 0 {
			url = rec.ResultURLs[0]
		}
		return messages.TaskRead{TaskID: taskID, Finished: true, ResultURL: url}
	case rec.State == kie.StateFail:
		f := kie.ClassifyRecord(rec)
		return messages.TaskRead{TaskID: taskID, Finished: true, Failure: &f}
	}
	return messages.TaskRead{TaskID: taskID}
}

// upload moves the seller's photo from Telegram to KIE's file host; the Telegram file URL carries
// the bot token, so KIE never sees it.
func (g *generator) upload(ctx context.Context) (string, messages.Failure) {
	var buf bytes.Buffer
	if _, err := g.d.Telegram.Download(ctx, g.job.Photo.FileID, &buf, g.d.Config.Limits.MaxPhotoBytes); err != nil {
		return "", telegram.ClassifyPhoto(err)
	}
	url, err := g.d.KIE.Upload(ctx, &buf, fmt.Sprintf("job-%d%s", g.job.ID, photoExt(g.job.Photo.Mime)))
	if err != nil {
		return "", kie.Classify(err)
	}
	return url, messages.Failure{}
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
