package actors

import (
	"context"
	"time"

	"github.com/anthdm/hollywood/actor"

	"neurocards/messages"
)

// attemptWork is one attempt of a job's step. It runs off the actor goroutine, may report facts
// as they happen, and returns the event that ends the attempt.
type attemptWork func(ctx context.Context, report func(messages.JobEvent)) messages.JobEvent

// attempt is the actor shell of a job's child (generator or sender): on Started it runs the work
// in a goroutine under a context that Stopped cancels, and reports to the job. A panic in the
// work becomes an internal failure of the step, never a crash of the process.
type attempt struct {
	d       *Deps
	jobID   uint64
	step    messages.Step
	run     int
	timeout time.Duration // 0: none beyond what the work sets itself
	work    attemptWork
	cancel  context.CancelFunc
	// finished is closed when the work has returned and reported. The job hears ChildStopped only
	// after that, so a fact the work learns while being stopped (a task KIE created) still
	// reaches a job that is waiting to stop.
	finished chan struct{}
}

func attemptActor(d *Deps, jobID uint64, step messages.Step, run int, timeout time.Duration, work attemptWork) actor.Producer {
	return func() actor.Receiver {
		return &attempt{d: d, jobID: jobID, step: step, run: run, timeout: timeout, work: work}
	}
}

func (a *attempt) Receive(c *actor.Context) {
	switch c.Message().(type) {
	case actor.Started:
		ctx, cancel := context.WithCancel(context.Background())
		if a.timeout > 0 {
			cancel()
			ctx, cancel = context.WithTimeout(context.Background(), a.timeout)
		}
		a.cancel = cancel
		e, job := c.Engine(), c.Parent()
		report := func(msg messages.JobEvent) { e.Send(job, msg) }
		finished := make(chan struct{})
		a.finished = finished
		goSafe(func(reason, stack string) {
			defer close(finished)
			a.d.Log.Error("job step panicked", "job_id", a.jobID, "step", a.step, "panic", reason, "stack", stack)
			report(messages.StepFailed{Run: a.run, Step: a.step, Failure: messages.Failure{
				Class: messages.Internal, Reason: messages.ReasonInternal, Detail: string(a.step) + " panic: " + reason}})
		}, func() {
			defer cancel()
			report(a.work(ctx, report))
			close(finished)
		})
	case actor.Stopped:
		if a.cancel != nil {
			a.cancel()
		}
		if a.finished == nil {
			stopped(c)
			return
		}
		e, job, done, finished := c.Engine(), c.Parent(), messages.ChildStopped{ID: c.PID().ID}, a.finished
		go func() {
			<-finished
			e.Send(job, done)
		}()
	}
}
