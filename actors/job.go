package actors

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/anthdm/hollywood/actor"

	"neurocards/messages"
	"neurocards/store"
	"neurocards/telegram"
	"neurocards/texts"
)

// jobActor supervises one job in flight: it feeds events to the state machine, persists what it
// returns, and only then carries out the effects — spawning the generator or the sender, timing
// retries, keeping the seller's status message current. Its children do one attempt each; a
// restart after a backoff is the retry loop.
type jobActor struct {
	d    *Deps
	j    messages.Job
	self *actor.PID
	e    *actor.Engine

	runs     map[messages.Step]int
	children map[messages.Step]*actor.PID // the current child of each step
	live     map[string]*actor.PID        // every child not yet reported stopped
	retired  map[string]bool              // children already poisoned (exactly once each)
	retries  map[messages.Step]func() bool
	deadline func() bool
	stopping bool // asked to stop (shutdown): the job resumes at the next start
	poisoned bool

	// The status message: what it shows, when it was last edited, and edits still on their way.
	shown       string
	lastEdit    time.Time
	statusTimer func() bool
	tick        func() bool
	posting     bool
	inFlight    int
	done        bool
	untold      bool // a message about the outcome failed in a way that may pass: tell again at the next start
}

// Messages the job sends itself.
type (
	statusDue  struct{}
	statusTick struct{}
	sent       struct{ retryable bool } // a posted message or edit has gone, or failed (retryable: it may pass)
)

func newJob(d *Deps, j messages.Job) actor.Producer {
	return func() actor.Receiver {
		return &jobActor{
			d: d, j: j,
			runs:     map[messages.Step]int{},
			children: map[messages.Step]*actor.PID{},
			live:     map[string]*actor.PID{},
			retired:  map[string]bool{},
			retries:  map[messages.Step]func() bool{},
		}
	}
}

func (a *jobActor) log() *slog.Logger {
	return a.d.Log.With("job_id", a.j.ID, "user_id", a.j.UserID)
}

func (a *jobActor) Receive(c *actor.Context) {
	switch m := c.Message().(type) {
	case actor.Started:
		a.self, a.e = c.PID(), c.Engine()
		if a.j.Terminal() {
			a.tellOutcome(c)
			return
		}
		a.deadline = after(a.e, a.self, time.Until(a.j.Deadline), messages.DeadlinePassed{})
		a.apply(c, messages.JobStart{})
		if a.j.StatusMessageID == 0 && !a.done {
			a.postStatus()
		}
	case messages.StatusPosted:
		a.posting = false
		if m.MessageID != 0 {
			a.j.StatusMessageID = m.MessageID
			if err := a.d.Store.SetStatusMessage(a.j.ID, m.MessageID); err != nil {
				a.log().Warn("recording the status message failed", "err", err)
			}
		}
		a.refresh()
		a.maybeStop(c)
	case statusDue:
		a.statusTimer = nil
		a.refresh()
		a.maybeStop(c)
	case statusTick:
		a.tick = nil
		a.refresh()
	case sent:
		a.inFlight--
		a.untold = a.untold || m.retryable
		a.maybeStop(c)
	case messages.Crashed:
		a.childCrashed(c, m)
	case messages.JobEvent:
		if a.stale(m) {
			return
		}
		if step, last := lastReport(m); last {
			// The attempt is over: its child has nothing more to do.
			a.retire(a.children[step])
			delete(a.children, step)
		}
		if a.stopping {
			a.record(c, m)
			return
		}
		a.apply(c, m)
	case messages.ChildStopped:
		delete(a.live, m.ID)
		delete(a.retired, m.ID)
		a.maybeStop(c)
	case messages.Stop:
		a.stopping = true
		a.stopChildren()
		if a.done && a.statusTimer != nil {
			// The outcome waits for the edit interval: show it now rather than at the next start.
			a.statusTimer()
			a.statusTimer, a.lastEdit = nil, time.Time{}
			a.refresh()
		}
		a.stopTimers()
		a.maybeStop(c)
	case actor.Stopped:
		a.stopTimers()
		stopped(c)
	}
}

// lastReport says whether ev is the last thing a child reports in its attempt, and of which step.
func lastReport(ev messages.JobEvent) (messages.Step, bool) {
	switch ev := ev.(type) {
	case messages.Generated:
		return messages.StepGenerate, true
	case messages.Delivered:
		return messages.StepDeliver, true
	case messages.StepFailed:
		return ev.Step, true
	}
	return "", false
}

// stale reports a child's event from an attempt that is no longer current.
func (a *jobActor) stale(ev messages.JobEvent) bool {
	step, run := messages.StepGenerate, 0
	switch ev := ev.(type) {
	case messages.PhotoUploaded:
		run = ev.Run
	case messages.TaskCreated:
		run = ev.Run
	case messages.Generated:
		run = ev.Run
	case messages.Downloaded:
		step, run = messages.StepDeliver, ev.Run
	case messages.Delivered:
		step, run = messages.StepDeliver, ev.Run
	case messages.StepFailed:
		step, run = ev.Step, ev.Run
	default:
		return false
	}
	return run != a.runs[step]
}

func (a *jobActor) childCrashed(c *actor.Context, m messages.Crashed) {
	a.log().Error("job child panicked", "actor", m.ID, "panic", m.Reason, "stack", m.Stack)
	for step, pid := range a.children {
		if pid.ID == m.ID {
			a.retire(pid)
			delete(a.children, step)
			a.apply(c, messages.StepFailed{Run: a.runs[step], Step: step, Failure: messages.Failure{
				Class: messages.Internal, Reason: messages.ReasonInternal, Detail: "panic: " + m.Reason}})
			return
		}
	}
}

// apply runs the state machine, persists its new state, then carries out its effects.
func (a *jobActor) apply(c *actor.Context, ev messages.JobEvent) {
	if f, ok := ev.(messages.StepFailed); ok {
		a.d.Metrics.StepFailed(f.Step, f.Failure)
		a.log().Warn("job step failed", "step", f.Step, "class", f.Failure.Class, "reason", f.Failure.Reason, "code", f.Failure.Code, "detail", f.Failure.Detail)
	}
	nj, effects := next(a.j, ev, a.d.policy(), time.Now())
	if nj != a.j && !a.persist(c, nj) {
		return
	}
	for _, eff := range effects {
		a.do(c, eff)
	}
	if a.j.Terminal() && !a.done {
		a.finish(c)
	}
}

// record is apply for a job that is stopping: it still persists what its children learned on
// their way out (a task KIE created, a result delivered), so the next start does not pay or send
// twice, but starts nothing and tells the seller nothing; a failure then is only our
// cancellation. The next start resumes from what is recorded and tells what is left to tell.
func (a *jobActor) record(c *actor.Context, ev messages.JobEvent) {
	switch ev.(type) {
	case messages.PhotoUploaded, messages.TaskCreated, messages.Generated, messages.Downloaded, messages.Delivered:
	default:
		return
	}
	nj, effects := next(a.j, ev, a.d.policy(), time.Now())
	if nj == a.j || !a.persist(c, nj) {
		return
	}
	for _, eff := range effects {
		if rm, ok := eff.(removeFile); ok {
			a.do(c, rm)
		}
	}
	if a.j.Terminal() && !a.done {
		a.untold = true
		a.finish(c)
	}
}

// persist stores nj as the job's state. When the store says the job already ended elsewhere (an
// operator's refund), or cannot be written, the actor stops without carrying out anything more;
// an unwritten job resumes at the next start.
func (a *jobActor) persist(c *actor.Context, nj messages.Job) bool {
	var (
		saved messages.Job
		err   error
	)
	if nj.Terminal() {
		saved, err = a.d.Store.FinishJob(nj)
	} else {
		saved, err = a.d.Store.SaveJob(nj)
	}
	switch {
	case errors.Is(err, store.ErrFinished):
		a.log().Info("job ended elsewhere; stopping", "outcome", saved.Outcome)
		if saved.StatusMessageID == 0 {
			// Ended before its status message id was saved: keep editing the message we know.
			saved.StatusMessageID = a.j.StatusMessageID
		}
		a.j = saved
		a.stopChildren()
		a.finish(c)
		return false
	case err != nil:
		a.log().Error("persisting the job failed; it resumes at the next start", "err", err)
		a.stopping = true
		a.stopChildren()
		a.stopTimers()
		a.maybeStop(c)
		return false
	}
	a.j = saved
	return true
}

func (a *jobActor) do(c *actor.Context, eff Effect) {
	switch eff := eff.(type) {
	case startChild:
		a.startChild(c, eff.Step)
	case scheduleRetry:
		if stop := a.retries[eff.Step]; stop != nil {
			stop()
		}
		a.retries[eff.Step] = after(a.e, a.self, jitter(eff.After), messages.RetryDue{Step: eff.Step})
	case stopChildren:
		a.stopChildren()
	case notifyDelayed:
		a.say(texts.T(a.j.Lang, texts.Delayed), nil)
	case notifyFailure:
		f := messages.Failure{Class: messages.Internal, Reason: messages.ReasonInternal}
		if a.j.Failure != nil {
			f = *a.j.Failure
		}
		a.say(texts.T(a.j.Lang, texts.FailureKey(f), texts.Credits(a.j.Lang, a.j.Price)), failureKeyboard(a.j))
	case refreshStatus:
		a.refresh()
	case removeFile:
		if err := os.Remove(eff.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
			a.log().Warn("removing the result file failed", "path", eff.Path, "err", err)
		}
	}
}

func (a *jobActor) startChild(c *actor.Context, step messages.Step) {
	a.retire(a.children[step])
	a.runs[step]++
	run := a.runs[step]
	p := newGenerator(a.d, a.j, run)
	if step == messages.StepDeliver {
		p = newSender(a.d, a.j, run)
	}
	pid := c.SpawnChild(p, string(step), spawnOpts(strconv.Itoa(run))...)
	a.children[step], a.live[pid.ID] = pid, pid
}

// retire stops a child that has no children of its own, exactly once.
func (a *jobActor) retire(pid *actor.PID) {
	if pid == nil || a.retired[pid.ID] {
		return
	}
	a.retired[pid.ID] = true
	a.e.Poison(pid)
}

func (a *jobActor) stopChildren() {
	for step, pid := range a.children {
		a.retire(pid)
		delete(a.children, step)
	}
	for step, stop := range a.retries {
		stop()
		delete(a.retries, step)
	}
}

// finish tells the operator (log, counters) how the job ended; the actor stops once its status
// message shows the outcome.
func (a *jobActor) finish(c *actor.Context) {
	a.done = true
	if a.deadline != nil {
		a.deadline()
	}
	if a.tick != nil {
		a.tick()
		a.tick = nil
	}
	a.d.Metrics.JobFinished(a.j)
	if f := a.j.Failure; f != nil && a.j.Outcome == messages.OutcomeFailed {
		args := []any{"class", f.Class, "reason", f.Reason, "code", f.Code, "detail", f.Detail, "task_id", a.j.TaskID}
		switch {
		case f.Reason == messages.ReasonCancelled:
			a.log().Info("job cancelled by an operator", args...)
		case f.Class == messages.Operator, f.Class == messages.Internal:
			a.log().Error("job failed", args...)
		case f.Class == messages.User:
			a.log().Info("job failed", args...)
		default:
			a.log().Warn("job failed", args...)
		}
	} else {
		a.log().Info("job delivered", "kind", a.j.Kind, "message_id", a.j.MessageID)
	}
	a.refresh()
	a.maybeStop(c)
}

// maybeStop stops the job once it has nothing left to do: every child has stopped, nothing it
// posted is still on its way, and either it was asked to stop or its outcome is on the status
// message. Its own poison pill is then the only one it ever gets, and its cleanup waits on no
// child. A job that told its seller how it ended records so; one stopped before that tells them
// at the next start.
func (a *jobActor) maybeStop(c *actor.Context) {
	if a.poisoned || len(a.live) > 0 || a.posting || a.inFlight > 0 {
		return
	}
	finished := a.done && a.statusTimer == nil // everything about the outcome has been tried
	if !finished && !a.stopping {
		return
	}
	if finished && !a.untold && a.j.Terminal() {
		if err := a.d.Store.MarkNotified(a.j); err != nil {
			a.log().Error("recording that the seller was told failed; they may be told again", "err", err)
		}
	}
	a.poisoned = true
	a.stopTimers()
	c.Engine().Poison(a.self)
}

func (a *jobActor) stopTimers() {
	for _, stop := range []func() bool{a.deadline, a.statusTimer, a.tick} {
		if stop != nil {
			stop()
		}
	}
	a.deadline, a.statusTimer, a.tick = nil, nil, nil
	for step, stop := range a.retries {
		stop()
		delete(a.retries, step)
	}
}

// statusText is what the status message should say now.
func (a *jobActor) statusText() string {
	j, lang := a.j, a.j.Lang
	var line string
	switch {
	case j.Outcome == messages.OutcomeDone:
		line = texts.T(lang, texts.StatusDone)
	case j.Outcome == messages.OutcomeFailed:
		line = texts.T(lang, texts.StatusFailed)
	case j.Parked:
		line = texts.T(lang, texts.StatusDelayed)
	case j.Stage == messages.StageQueued:
		line = texts.T(lang, texts.StatusQueued)
	case generating(j):
		line = texts.T(lang, texts.StatusGenerating, texts.Elapsed(time.Since(j.CreatedAt)))
	default:
		line = texts.T(lang, texts.StatusSending)
	}
	if j.Terminal() {
		return a.title() + "\n" + line
	}
	return texts.T(lang, texts.Accepted, line)
}

func (a *jobActor) title() string {
	if k, ok := a.d.Config.Kind(a.j.Kind); ok {
		return k.TitleIn(a.j.Lang)
	}
	return a.j.Kind
}

// postStatus sends the status message that answers "Generate"; its id comes back as StatusPosted.
func (a *jobActor) postStatus() {
	a.posting = true
	text, kb, chatID := a.statusText(), statusKeyboard(a.j), a.j.ChatID
	a.shown, a.lastEdit = text, time.Now()
	e, self, log := a.e, a.self, a.log()
	a.d.Telegram.Post(chatID, func(ctx context.Context) {
		id, err := a.d.Telegram.Send(ctx, chatID, text, kb)
		if err != nil {
			log.Warn("sending the status message failed", "err", err)
		}
		e.Send(self, messages.StatusPosted{MessageID: id})
	})
}

// refresh edits the status message when its text changed, at most once per StatusInterval, and
// keeps the elapsed time ticking while the job generates.
func (a *jobActor) refresh() {
	if !a.done && generating(a.j) && !a.j.Parked && a.tick == nil {
		a.tick = after(a.e, a.self, a.d.Config.Timing.StatusTick, statusTick{})
	}
	if a.j.StatusMessageID == 0 || a.posting || a.statusTimer != nil {
		return
	}
	text := a.statusText()
	if text == a.shown {
		return
	}
	if wait := time.Until(a.lastEdit.Add(a.d.Config.Timing.StatusInterval)); wait > 0 {
		a.statusTimer = after(a.e, a.self, wait, statusDue{})
		return
	}
	a.shown, a.lastEdit = text, time.Now()
	a.inFlight++
	chatID, msgID, kb := a.j.ChatID, a.j.StatusMessageID, statusKeyboard(a.j)
	e, self, log := a.e, a.self, a.log()
	a.d.Telegram.Post(chatID, func(ctx context.Context) {
		err := a.d.Telegram.Edit(ctx, chatID, msgID, text, kb)
		gone := err != nil && strings.Contains(err.Error(), "message to edit not found")
		if err != nil && !gone {
			log.Warn("editing the status message failed", "err", err)
		}
		e.Send(self, sent{retryable: err != nil && !gone && telegram.Classify(err).Retryable()})
	})
}

// tellOutcome is a job that ended before a restart without its seller being told: send the
// failure message and the status message's last edit again, then stop.
func (a *jobActor) tellOutcome(c *actor.Context) {
	a.done = true
	a.log().Info("telling the seller how the job ended", "outcome", a.j.Outcome)
	if f := a.j.Failure; a.j.Outcome == messages.OutcomeFailed && (f == nil || f.Reason != messages.ReasonBlocked) {
		a.do(c, notifyFailure{})
	}
	a.refresh()
	a.maybeStop(c)
}

// say posts a message to the seller in order with everything else sent to their chat.
func (a *jobActor) say(text string, kb telegram.Keyboard) {
	chatID, log, e, self := a.j.ChatID, a.log(), a.e, a.self
	a.inFlight++
	a.d.Telegram.Post(chatID, func(ctx context.Context) {
		_, err := a.d.Telegram.Send(ctx, chatID, text, kb)
		e.Send(self, sent{retryable: err != nil && telegram.Classify(err).Retryable()})
		if err != nil {
			log.Warn("sending a message to the seller failed", "err", err)
		}
	})
}
