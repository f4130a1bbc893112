package actors

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/anthdm/hollywood/actor"

	"neurocards/clock"
	"neurocards/messages"
	"neurocards/store"
	"neurocards/telegram"
)

// jobActor is the shell around the job's state machine (jobfsm.go): it feeds it events, persists
// the job's progress when it changed — before anything that depends on it — and then carries out
// the effects: children, KIE reads, timers, the status message. It never moves money: it reports
// the outcome to the seller's session, which settles it and answers JobSettled.
type jobActor struct {
	d      *Deps
	s      jobState
	self   *actor.PID
	e      *actor.Engine
	kids   [2]*actor.PID // the current child of each step: generate, deliver
	timers [timers]struct {
		t   clock.Timer
		gen int
	}
}

// timerFired is a job timer going off; gen tells a timer that was re-armed or cancelled since.
type timerFired struct {
	t   timer
	gen int
}

func newJob(d *Deps, j messages.Job, firstRead time.Duration) actor.Producer {
	title := j.Kind
	if k, ok := d.Config.Kind(j.Kind); ok {
		title = k.TitleIn(j.Lang)
	}
	return func() actor.Receiver { return &jobActor{d: d, s: jobState{Job: j, Title: title, FirstRead: firstRead}} }
}

func (a *jobActor) Receive(c *actor.Context) {
	switch m := c.Message().(type) {
	case actor.Started:
		a.self, a.e = c.PID(), c.Engine()
		a.feed(c, messages.JobStart{})
	case timerFired:
		if m.gen != a.timers[m.t].gen {
			return
		}
		if m.t == tStatusTick && a.s.InLine {
			a.lineMoved()
		}
		a.feed(c, tick{m.t})
	case messages.ChildStopped:
		a.feed(c, childStopped{})
	case messages.Crashed:
		for _, step := range []messages.Step{messages.StepGenerate, messages.StepDeliver} {
			if kid := a.kids[stepIndex(step)]; kid != nil && kid.ID == m.ID {
				a.log().Error("job child panicked", "actor", m.ID, "panic", m.Reason, "stack", m.Stack)
				a.feed(c, messages.StepFailed{Run: a.s.run(step), Step: step, Failure: internalFailure(string(step) + " panic: " + m.Reason)})
			}
		}
	case actor.Stopped:
		for t := range a.timers {
			a.stopTimer(timer(t))
		}
		stopped(c)
	case messages.TaskRead:
		a.expect(c)
		a.feed(c, m)
	case actor.Initialized:
	default:
		a.feed(c, m)
	}
}

// feed runs the state machine, persists the job if it changed, then carries out the effects.
func (a *jobActor) feed(c *actor.Context, ev any) {
	ns, effects := next(a.s, ev, a.d.policy(), a.d.Clock.Now())
	if ns.Job != a.s.Job {
		if err := a.persist(ns.Job); err != nil {
			if errors.Is(err, store.ErrFinished) {
				a.log().Info("job ended elsewhere; stopping")
			} else {
				a.log().Error("persisting the job failed; it resumes at the next start", "err", err)
			}
			if !a.s.Stopping {
				a.feed(c, messages.Stop{})
			}
			return
		}
	}
	a.s = ns
	for _, eff := range effects {
		a.do(c, eff)
	}
}

// persist saves the job's progress, the decided outcome included (a restart before the session
// settles reports it again). Once the outcome has been reported the session owns the record (it
// may have finished it already), so only the status message's id, which can still arrive, is
// written.
func (a *jobActor) persist(j messages.Job) error {
	if reported := a.s.Phase == ending || a.s.Phase == telling; reported || j.Terminal() {
		if j.StatusMessageID == a.s.Job.StatusMessageID {
			return nil // the record has it already (Finish keeps the id it had)
		}
		return a.d.Store.SetStatusMessage(j.ID, j.StatusMessageID)
	}
	_, err := a.d.Store.SaveJob(j)
	return err
}

func (a *jobActor) do(c *actor.Context, eff Effect) {
	j, log := a.s.Job, a.log() // copies: the closures below run off the actor

	switch eff := eff.(type) {
	case spawnChild:
		run := a.s.run(eff.Step)
		p := newGenerator(a.d, j, run)
		if eff.Step == messages.StepDeliver {
			p = newSender(a.d, j, run)
		}
		a.kids[stepIndex(eff.Step)] = c.SpawnChild(p, string(eff.Step), a.d.spawnOpts(string(eff.Step), strconv.Itoa(run))...)
	case retireChild:
		if i := stepIndex(eff.Step); a.kids[i] != nil {
			a.e.Poison(a.kids[i])
			a.kids[i] = nil
		}
	case readTask:
		e, self, d := a.e, a.self, a.d
		goSafe(func(reason, _ string) {
			f := internalFailure("task read panic: " + reason)
			e.Send(self, messages.TaskRead{TaskID: eff.TaskID, Failure: &f})
		}, func() { e.Send(self, readTaskOnce(d, eff.TaskID)) })
	case armTimer:
		after := eff.After
		if eff.Timer == tRetryGen || eff.Timer == tRetryDeliver {
			after = jitter(after)
		}
		a.stopTimer(eff.Timer)
		e, self, msg := a.e, a.self, timerFired{eff.Timer, a.timers[eff.Timer].gen}
		a.timers[eff.Timer].t = a.d.Clock.AfterFunc(after, func() { e.Send(self, msg) })
	case cancelTimer:
		a.stopTimer(eff.Timer)
	case postStatus:
		e, self := a.e, a.self
		a.d.Telegram.PostStatus(j.ChatID, func(ctx context.Context) {
			id, err := a.d.Telegram.Send(ctx, j.ChatID, eff.Text, eff.Kb)
			if err != nil {
				log.Warn("sending the status message failed", "err", err)
			}
			e.Send(self, statusPosted{MessageID: id})
		})
	case editStatus:
		// Edits go after everything else waiting for Telegram, and a newer edit of the message
		// replaces one still waiting: only the newest text is sent, the replaced one is answered.
		e, self := a.e, a.self
		a.d.Telegram.PostEdit(j.ChatID, j.StatusMessageID, func(ctx context.Context, superseded bool) {
			if superseded {
				e.Send(self, sent{Edit: true})
				return
			}
			err := a.d.Telegram.Edit(ctx, j.ChatID, j.StatusMessageID, eff.Text, eff.Kb)
			gone := telegram.IsMessageGone(err)
			if err != nil && !gone {
				log.Warn("editing the status message failed", "err", err)
			}
			e.Send(self, sent{Edit: true, Retryable: err != nil && !gone && telegram.Classify(err).Retryable()})
		})
	case say:
		a.post(func(ctx context.Context) any {
			_, err := a.d.Telegram.Send(ctx, j.ChatID, eff.Text, eff.Kb)
			if err != nil {
				log.Warn("sending a message to the seller failed", "err", err)
			}
			return sent{Retryable: err != nil && telegram.Classify(err).Retryable()}
		})
	case report:
		c.Send(c.Parent(), messages.JobEnded{Job: j})
	case removeFile:
		if err := os.Remove(eff.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
			log.Warn("removing the result file failed", "path", eff.Path, "err", err)
		}
	case markTold:
		if err := a.d.Store.MarkNotified(j); err != nil {
			log.Error("recording that the seller was told failed; they may be told again", "err", err)
		}
	case logFailure:
		f := eff.F
		a.d.Metrics.StepFailed(eff.Step, f)
		log.Warn("job step failed", "step", eff.Step, "stage", j.Stage, "class", f.Class, "reason", f.Reason, "code", f.Code, "detail", f.Detail)
	case joinLine:
		a.d.Line.Join(j, a.self)
		a.lineMoved()
	case leaveLine:
		a.d.Line.Leave(j.ID)
	case stopSelf:
		a.e.Poison(a.self)
	}
}

// expect tells the machine where the model's results are likely, as the bot has learned: once per
// answer about the task, which is when the next wait is chosen.
func (a *jobActor) expect(c *actor.Context) {
	expected := 4 * time.Minute
	if k, ok := a.d.Config.Kind(a.s.Job.Kind); ok {
		expected = k.Expected()
	}
	lo, hi := a.d.Timings.Window(a.s.Job.Model, expected)
	a.feed(c, expect{Lo: lo, Hi: hi})
}

// lineMoved tells the machine where the job stands in the line, and whether KIE is answering.
func (a *jobActor) lineMoved() {
	if place, start, ok := a.d.Line.Position(a.s.Job.ID); ok {
		a.e.Send(a.self, lineMoved{Place: place, Start: start, Down: a.d.KIE.BreakerState() != "closed"})
	}
}

// post queues a call to the seller's chat, in order with everything else sent there; its
// result comes back to the job as a message.
func (a *jobActor) post(call func(ctx context.Context) any) {
	e, self := a.e, a.self
	a.d.Telegram.Post(a.s.Job.ChatID, func(ctx context.Context) { e.Send(self, call(ctx)) })
}

func (a *jobActor) stopTimer(t timer) {
	slot := &a.timers[t]
	if slot.t != nil {
		slot.t.Stop()
		slot.t = nil
	}
	slot.gen++
}

func (a *jobActor) log() *slog.Logger {
	return a.d.Log.With("job_id", a.s.Job.ID, "user_id", a.s.Job.UserID)
}

func internalFailure(detail string) messages.Failure {
	return messages.Failure{Class: messages.Internal, Reason: messages.ReasonInternal, Detail: detail}
}

func stepIndex(step messages.Step) int {
	if step == messages.StepDeliver {
		return 1
	}
	return 0
}
