package actors

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/go-telegram/bot/models"

	"neurocards/clock"
	"neurocards/conversation"
	"neurocards/keyboard"
	"neurocards/messages"
	"neurocards/metrics"
	"neurocards/operator"
	"neurocards/photo"
	"neurocards/store"
	"neurocards/texts"
)

// session is the one writer of one seller's state: their balance and holds, drafts, language,
// blocked flag and jobs. Every change to it happens here, in one transaction per message: the
// seller's updates (decided by the pure conversation core), their jobs' outcomes (JobEnded:
// capture or release), operator commands and dashboard actions (OperatorCommand, through the
// router), and Telegram reporting that the seller blocked the bot. Updates are handled in order,
// so two taps on "Generate" can never race: the second sees what the first did.
type session struct {
	d    *Deps
	uid  int64
	jobs map[uint64]*actor.PID
	// cancels are operator commands waiting for a job to report how its cancel ended.
	cancels map[uint64][]messages.OperatorCommand

	// resumed are the seller's jobs the router read at start, handed over so the session does not
	// read them again; nil for a session spawned later, which reads them itself.
	resumed []resumeJob

	window conversation.Window // the seller's update rate, in memory only
	lang   string              // the seller's language as of their last update

	// An update that waits for I/O (an image's dimensions, an operator command's answer) holds
	// the session: the seller's later updates wait in held, in order, until it is finished.
	busy bool
	held []messages.Update

	// handled counts the updates the router gave this session; the idle timer offers the router
	// to retire a session with nothing in flight.
	handled  int
	idle     clock.Timer
	idleGen  int
	stopping bool
	poisoned bool
}

// Messages a session sends itself when work it started off its goroutine is finished.
type (
	photoMeasured struct {
		update   messages.Update
		measured conversation.Measured
	}
	operatorAnswered struct {
		update  messages.Update
		replies []conversation.Reply
	}
	idleCheck struct{ gen int }
	// resumeJobs starts the seller's unfinished jobs. It is the first message in a new session's
	// inbox, ahead of any update, and runs on the session's own goroutine: at a restart ten
	// thousand sessions spawn their jobs side by side rather than one after another in the
	// router's Spawn.
	resumeJobs struct{}
)

func newSession(d *Deps, uid int64, resumed []resumeJob) actor.Producer {
	return func() actor.Receiver {
		return &session{d: d, uid: uid, resumed: resumed, jobs: map[uint64]*actor.PID{}, cancels: map[uint64][]messages.OperatorCommand{}}
	}
}

func (s *session) Receive(c *actor.Context) {
	switch m := c.Message().(type) {
	case actor.Started:
		c.Send(c.PID(), resumeJobs{})
		s.armIdle(c)
	case resumeJobs:
		s.resume(c)
	case messages.Update:
		s.handled++
		defer s.armIdle(c)
		if !s.admit(m) {
			if cq := m.Update.CallbackQuery; cq != nil {
				s.answer(cq.ID) // stop the button's spinner even when the tap is ignored
			}
			m.Done()
			return
		}
		if s.busy {
			s.held = append(s.held, m)
			return
		}
		s.handle(c, m, nil)
	case photoMeasured:
		s.busy = false
		s.handle(c, m.update, &m.measured)
		s.drain(c)
		s.armIdle(c)
	case operatorAnswered:
		s.busy = false
		s.turn(c, m.update, conversation.Input{Update: m.update.Update, Answered: m.replies})
		s.drain(c)
		s.armIdle(c)
	case messages.OperatorCommand:
		s.command(c, m)
	case messages.TaskCallback:
		if pid, ok := s.jobs[m.JobID]; ok {
			c.Send(pid, m)
		}
	case messages.JobEnded:
		s.settle(c, m.Job, c.Sender())
	case messages.SellerBlocked:
		s.blocked()
	case messages.Crashed:
		s.jobCrashed(c, m)
	case messages.ChildStopped:
		for id, pid := range s.jobs {
			if pid.ID == m.ID {
				delete(s.jobs, id)
				s.answerCancels(id, nil)
			}
		}
		s.armIdle(c)
		s.maybeStop(c)
	case idleCheck:
		if m.gen == s.idleGen && s.quiet() && !s.stopping {
			c.Send(c.Parent(), messages.SessionIdle{Handled: s.handled})
		}
	case messages.Stop:
		// Shutdown or retirement: jobs stop where they are and resume at the next start.
		s.stopping = true
		for _, pid := range s.jobs {
			c.Send(pid, messages.Stop{})
		}
		s.maybeStop(c)
	case actor.Stopped:
		if s.idle != nil {
			s.idle.Stop()
		}
		stopped(c)
	}
}

func (s *session) now() time.Time { return s.d.Clock.Now() }

// quiet is a session with nothing in flight: no job, no update waiting for I/O.
func (s *session) quiet() bool { return len(s.jobs) == 0 && !s.busy && len(s.held) == 0 }

// armIdle restarts the idle timer whenever the session is quiet.
func (s *session) armIdle(c *actor.Context) {
	if s.idle != nil {
		s.idle.Stop()
		s.idle = nil
	}
	d := s.d.Config.Timing.SessionIdle
	if d <= 0 || !s.quiet() || s.stopping {
		return
	}
	s.idleGen++
	s.idle = s.d.after(c.Engine(), c.PID(), d, idleCheck{gen: s.idleGen})
}

// maybeStop stops a stopping session once its jobs have stopped, so its cleanup waits on nothing.
func (s *session) maybeStop(c *actor.Context) {
	if s.stopping && len(s.jobs) == 0 && !s.poisoned {
		s.poisoned = true
		c.Engine().Poison(c.PID())
	}
}

// drain handles the updates that waited while the session was busy, until one makes it busy again.
func (s *session) drain(c *actor.Context) {
	for len(s.held) > 0 && !s.busy {
		m := s.held[0]
		s.held[0] = messages.Update{}
		s.held = s.held[1:]
		s.handle(c, m, nil)
	}
}

// admit applies the per-seller update limit (conversation.Admit).
func (s *session) admit(m messages.Update) bool {
	limit := s.d.Config.Limits.UpdatesPerMinute
	var verdict conversation.Admission
	s.window, verdict = conversation.Admit(s.window, m.Update, s.now(), limit, s.d.Config.Timing.UpdatesWindow)
	switch verdict {
	case conversation.Admitted:
		return true
	case conversation.Warn:
		s.d.Log.Info("seller over the update limit; ignoring them for the rest of the window", "user_id", s.uid, "limit", limit)
		lang := s.lang
		if _, from := updateChat(m.Update); lang == "" && from != nil {
			lang = texts.Lang(from.LanguageCode)
		}
		s.post(conversation.Reply{Text: texts.T(lang, texts.TooFast)})
	}
	s.d.Metrics.UpdateLimited()
	return false
}

// resume restarts the seller's unfinished jobs from their persisted stages, and the jobs that
// ended without the seller being told.
func (s *session) resume(c *actor.Context) {
	resumed := s.resumed
	s.resumed = nil
	if resumed == nil {
		jobs, err := s.d.Store.ActiveJobsOf(s.uid)
		if err != nil {
			s.d.Log.Error("loading unfinished jobs failed", "user_id", s.uid, "err", err)
			return
		}
		for _, j := range jobs {
			resumed = append(resumed, resumeJob{job: j})
		}
	}
	for _, r := range resumed {
		s.d.Log.Debug("resuming job", "job_id", r.job.ID, "user_id", s.uid, "stage", r.job.Stage)
		var firstRead time.Duration
		if !r.readAt.IsZero() {
			firstRead = r.readAt.Sub(s.d.Clock.Now()) // past due: read at once
		}
		s.spawn(c, r.job, firstRead)
	}
}

func (s *session) spawnJob(c *actor.Context, j messages.Job) { s.spawn(c, j, 0) }

// spawn starts the job's actor; a job resumed with a task waits firstRead before reading it.
func (s *session) spawn(c *actor.Context, j messages.Job, firstRead time.Duration) {
	if _, running := s.jobs[j.ID]; running {
		return
	}
	s.jobs[j.ID] = c.SpawnChild(newJob(s.d, j, firstRead), "job", s.d.spawnOpts("job", strconv.FormatUint(j.ID, 10))...)
}

var (
	// errSeen rolls back the transaction of an update that was already handled.
	errSeen = errors.New("update already handled")
	// errMeasure rolls back the transaction of an update whose image must be measured first.
	errMeasure = errors.New("the image's dimensions are needed")
)

// handle runs one update: an operator's command, or the conversation. Done is called whatever
// happens, so the poller is never stuck — when the update waits for I/O, once it comes back and
// its outcome is persisted. A panic is logged, the seller gets an apology and nothing of the
// update is persisted.
func (s *session) handle(c *actor.Context, m messages.Update, measured *conversation.Measured) {
	u := m.Update
	if u.CallbackQuery != nil && measured == nil {
		s.answer(u.CallbackQuery.ID)
	}
	if measured == nil && u.Message != nil && s.d.Config.IsAdmin(s.uid) {
		if text := strings.TrimSpace(u.Message.Text); strings.HasPrefix(text, "/") {
			if cmd, usage, ok := operator.Parse(conversation.SplitCommand(text)); ok {
				s.operate(c, m, cmd, usage)
				return
			}
		}
	}
	s.turn(c, m, conversation.Input{Update: u, Measured: measured})
}

// turn is one update through the conversation core, persisted in one transaction with what it
// decided; the replies go out and the jobs start only after it commits.
func (s *session) turn(c *actor.Context, m messages.Update, in conversation.Input) {
	u := m.Update
	done := true
	defer func() {
		if done {
			m.Done()
		}
	}()
	defer func() {
		if v := recover(); v != nil {
			s.d.Log.Error("handling an update panicked", "user_id", s.uid, "update_id", u.ID, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			s.d.Metrics.UpdatePanicked()
			s.busy, done = false, true
			s.post(conversation.Reply{Text: texts.T(s.langOf(u), texts.SomethingWrong)})
		}
	}()
	in.Now = s.now()
	in.Wait = s.d.Line.Wait()
	var (
		res     conversation.Result
		started []messages.Job
		measure messages.Photo
	)
	_, err := s.d.Store.WithUser(s.uid, func(t *store.UserTx) error {
		r, err := conversation.Handle(s.d.Config, t.User, t.Exists(), txFacts{t}, in)
		switch {
		case err != nil:
			return err
		case r.Seen:
			return errSeen
		}
		for _, eff := range r.Effects {
			if mp, ok := eff.(conversation.MeasurePhoto); ok {
				measure = mp.Photo
				return errMeasure
			}
		}
		res = r
		started, err = s.apply(t, r)
		return err
	})
	switch {
	case errors.Is(err, errSeen):
		s.d.Log.Info("update seen before; ignored", "user_id", s.uid, "update_id", u.ID)
		return
	case errors.Is(err, conversation.ErrNoChat):
		return
	case errors.Is(err, errMeasure):
		s.measure(c, m, measure)
		s.busy, done = true, false
		return
	case err != nil:
		s.d.Log.Error("handling an update failed", "user_id", s.uid, "update_id", u.ID, "err", err)
		s.post(conversation.Reply{Text: texts.T(s.langOf(u), texts.SomethingWrong)})
		return
	}
	s.lang = res.User.Lang
	for _, n := range res.Notes {
		args := append([]any{"user_id", s.uid}, n.Attrs...)
		if n.Error {
			s.d.Log.Error(n.Msg, args...)
		} else {
			s.d.Log.Info(n.Msg, args...)
		}
	}
	for _, r := range res.Replies {
		s.post(r)
	}
	for _, j := range started {
		s.d.Metrics.JobStarted(j.Kind)
		s.spawnJob(c, j)
	}
}

// apply carries out what the conversation decided, in its transaction: the seller's new record,
// then the ledger rows and jobs. The conversation already counted what those rows do to the
// balance and holds; the ledger must agree.
func (s *session) apply(t *store.UserTx, r conversation.Result) ([]messages.Job, error) {
	balance, held := t.User.Balance, t.User.Held
	t.User = r.User
	t.User.Balance, t.User.Held = balance, held
	var started []messages.Job
	for _, eff := range r.Effects {
		switch eff := eff.(type) {
		case conversation.Grant:
			if _, err := t.Post(store.Entry{Type: store.EntryGrant, Amount: eff.Amount, Key: eff.Key, Note: eff.Note}); err != nil {
				return nil, fmt.Errorf("grant: %w", err)
			}
		case conversation.Purchase:
			if _, err := t.Purchase(eff.Charge, eff.Credits, eff.Note); err != nil {
				return nil, fmt.Errorf("purchase: %w", err)
			}
			s.d.Metrics.Purchase(eff.Pack, eff.Credits)
		case conversation.StartJob:
			j, err := t.StartJob(eff.Job, s.d.Config.Timing.JobTimeout)
			if err != nil {
				return nil, fmt.Errorf("start job: %w", err)
			}
			if eff.Job.RetryOf != 0 {
				if err := t.MarkRetried(eff.Job.RetryOf, j.ID); err != nil {
					return nil, err
				}
			}
			if eff.FromDraft {
				t.User.Draft.JobID = j.ID
			}
			started = append(started, j)
		}
	}
	if t.User.Balance != r.User.Balance || t.User.Held != r.User.Held {
		return nil, fmt.Errorf("the ledger (balance %d, held %d) disagrees with the conversation (%d, %d)",
			t.User.Balance, t.User.Held, r.User.Balance, r.User.Held)
	}
	return started, nil
}

// txFacts answers the conversation's lookups from the update's transaction.
type txFacts struct{ t *store.UserTx }

func (f txFacts) Job(id uint64) (messages.Job, bool, error) {
	j, ok, err := f.t.Job(id)
	if ok && j.UserID != f.t.User.ID {
		return messages.Job{}, false, err
	}
	return j, ok, err
}
func (f txFacts) Jobs(limit int) ([]messages.Job, error)  { return f.t.Jobs(limit) }
func (f txFacts) Ledger(limit int) ([]store.Entry, error) { return f.t.Ledger(limit) }
func (f txFacts) KeyExists(key string) bool               { return f.t.KeyExists(key) }
func (f txFacts) InFlight() (int, error)                  { return f.t.InFlight() }

// measure reads an image's dimensions off the actor and hands the update back as photoMeasured.
// The update stays unconfirmed until then, so a crash in between only means Telegram delivers
// it again.
func (s *session) measure(c *actor.Context, m messages.Update, p messages.Photo) {
	e, self := c.Engine(), c.PID()
	g, log := s.d.Telegram, s.d.Log
	maxBytes, timeout := s.d.Config.Limits.MaxPhotoBytes, s.d.Config.Timing.UploadTimeout
	goSafe(func(reason, stack string) {
		log.Error("measuring an image panicked", "user_id", s.uid, "panic", reason, "stack", stack)
		e.Send(self, photoMeasured{update: m, measured: conversation.Measured{Err: photo.ErrUnreadable}})
	}, func() {
		w, h, err := photo.Measure(g, p.FileID, maxBytes, timeout)
		if err != nil {
			log.Info("an image sent as a file was refused", "user_id", s.uid, "mime", p.Mime, "err", err)
		}
		e.Send(self, photoMeasured{update: m, measured: conversation.Measured{Width: w, Height: h, Err: err}})
	})
}

// post sends a reply to the seller, in order with everything else sent to their chat (a private
// chat, whose id is the seller's).
func (s *session) post(r conversation.Reply) {
	log, g, chatID := s.d.Log, s.d.Telegram, s.uid
	g.Post(chatID, func(ctx context.Context) {
		var err error
		if r.Invoice != nil {
			_, err = g.SendInvoice(ctx, chatID, *r.Invoice)
		} else {
			_, err = g.Send(ctx, chatID, r.Text, r.Keyboard)
		}
		if err != nil {
			log.Warn("reply failed", "chat_id", chatID, "err", err)
		}
	})
}

// answer stops the button's spinner at once, before anything else is decided.
func (s *session) answer(callbackID string) {
	g, log := s.d.Telegram, s.d.Log
	go func() {
		ctx, cancel := g.CallContext()
		defer cancel()
		if err := g.Answer(ctx, callbackID, ""); err != nil {
			log.Debug("answering a callback failed", "err", err)
		}
	}()
}

// langOf is the language to answer an update in when the seller's record could not be read.
func (s *session) langOf(u *models.Update) string {
	if s.lang != "" {
		return s.lang
	}
	if _, from := updateChat(u); from != nil {
		return texts.Lang(from.LanguageCode)
	}
	return texts.RU
}

func updateChat(u *models.Update) (int64, *models.User) {
	switch {
	case u.Message != nil && u.Message.From != nil:
		return u.Message.Chat.ID, u.Message.From
	case u.CallbackQuery != nil:
		return u.CallbackQuery.From.ID, &u.CallbackQuery.From
	}
	return 0, nil
}

// blocked records that the seller blocked the bot.
func (s *session) blocked() {
	_, err := s.d.Store.WithUser(s.uid, func(t *store.UserTx) error {
		if !t.Exists() {
			return store.ErrNoUser
		}
		t.User.Blocked = true
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrNoUser) {
		s.d.Log.Error("marking a seller blocked failed", "user_id", s.uid, "err", err)
	}
}

// settle captures or releases the hold of a job that reported how it ended, in one transaction,
// then answers the job (JobSettled) so it tells the seller, and answers the operators whose
// cancel was waiting for it.
func (s *session) settle(c *actor.Context, j messages.Job, job *actor.PID) messages.Job {
	var stored messages.Job
	_, err := s.d.Store.WithUser(s.uid, func(t *store.UserTx) error {
		var err error
		stored, err = t.Finish(j)
		return err
	})
	switch {
	case errors.Is(err, store.ErrFinished):
	case err != nil:
		s.d.Log.Error("settling a job failed; it is settled at the next start", "job_id", j.ID, "user_id", s.uid, "err", err)
		if job != nil {
			c.Send(job, messages.Stop{})
		}
		return j
	default:
		s.finished(stored)
	}
	if job != nil {
		c.Send(job, messages.JobSettled{Job: stored})
	}
	s.answerCancels(j.ID, &stored)
	return stored
}

// finished tells the operator (log, counters) how a job ended.
func (s *session) finished(j messages.Job) {
	log := s.d.Log.With("job_id", j.ID, "user_id", j.UserID)
	s.d.Metrics.JobFinished(j)
	if took, ok := metrics.GenerationTime(j); ok && j.Outcome == messages.OutcomeDone {
		if err := s.d.Timings.Observe(j.Model, took); err != nil {
			s.d.Log.Warn("recording a generation time failed", "model", j.Model, "err", err)
		}
	}
	f := j.Failure
	if j.Outcome != messages.OutcomeFailed || f == nil {
		log.Info("job delivered", "kind", j.Kind, "message_id", j.MessageID)
		return
	}
	args := []any{"class", f.Class, "reason", f.Reason, "code", f.Code, "detail", f.Detail, "task_id", j.TaskID}
	switch {
	case f.Reason == messages.ReasonCancelled:
		log.Info("job cancelled by an operator", args...)
	case f.Class == messages.Operator, f.Class == messages.Internal:
		log.Error("job failed", args...)
	case f.Class == messages.User:
		log.Info("job failed", args...)
	default:
		log.Warn("job failed", args...)
	}
}

// jobCrashed handles a panic in a job actor itself: the job fails as internal, its hold is
// released, and the seller gets an apology. Everyone else's jobs carry on.
func (s *session) jobCrashed(c *actor.Context, m messages.Crashed) {
	for id, pid := range s.jobs {
		if pid.ID != m.ID {
			continue
		}
		s.d.Log.Error("job actor panicked", "job_id", id, "user_id", s.uid, "panic", m.Reason, "stack", m.Stack)
		c.Send(pid, messages.Stop{})
		j, ok, err := s.d.Store.Job(id)
		if err != nil || !ok || j.Terminal() {
			return
		}
		f := internalFailure("job panic: " + m.Reason)
		j.Failure = &f
		j = s.settle(c, j, nil)
		if !j.Terminal() {
			return
		}
		s.post(conversation.Reply{Text: texts.T(j.Lang, texts.FailInternal, texts.Credits(j.Lang, j.Price)), Keyboard: keyboard.Failure(j)})
		if err := s.d.Store.MarkNotified(j); err != nil {
			s.d.Log.Error("recording that the seller was told failed", "job_id", id, "err", err)
		}
		return
	}
}
