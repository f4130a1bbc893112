package actors

import (
	"context"
	"errors"
	"fmt"
	_ "image/jpeg" // image.DecodeConfig reads the dimensions of photos sent as files
	_ "image/png"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/go-telegram/bot/models"

	"neurocards/messages"
	"neurocards/store"
	"neurocards/telegram"
	"neurocards/texts"
)

// session handles every update of one seller, in order, so two taps on "Generate" can never race:
// the second sees what the first did. Its state lives in the store; each update is one
// transaction that also records the update id, so a re-delivered update has no second effect.
type session struct {
	d    *Deps
	uid  int64
	jobs map[uint64]*actor.PID

	// The seller's update rate: updates counted in the current window and whether they were told
	// to slow down in it. A few fields per session, so the limit costs no memory per update.
	windowStart time.Time
	inWindow    int
	warned      bool
	lang        string // the seller's language as of their last update

	// An update that waits for I/O (an image's dimensions, a Stars refund) holds the session:
	// the seller's later updates wait in held, in order, until it is finished.
	busy bool
	held []messages.Update

	// handled counts the updates the router gave this session; idle (re)arms the timer after
	// which a session with nothing in flight offers the router to retire it.
	handled  int
	idle     func() bool
	idleGen  int
	stopping bool
	poisoned bool
}

// idleCheck is the session's idle timer firing; gen tells a stale timer from the current one.
type idleCheck struct{ gen int }

func newSession(d *Deps, uid int64) actor.Producer {
	return func() actor.Receiver { return &session{d: d, uid: uid, jobs: map[uint64]*actor.PID{}} }
}

// Messages a session sends itself when I/O it started off its goroutine is finished.
type (
	photoChecked struct {
		update messages.Update
		check  photoCheck
	}
	starsRefunded struct {
		update  messages.Update
		lang    string
		charge  string
		attempt string
		back    store.ChargeBack
		err     error
	}
)

func (s *session) Receive(c *actor.Context) {
	switch m := c.Message().(type) {
	case actor.Started:
		s.resume(c)
		s.armIdle(c)
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
	case photoChecked:
		s.busy = false
		s.handle(c, m.update, &resumed{photo: &m.check})
		s.drain(c)
		s.armIdle(c)
	case starsRefunded:
		s.busy = false
		s.handle(c, m.update, &resumed{operated: true, replies: s.finishStarsRefund(m)})
		s.drain(c)
		s.armIdle(c)
	case messages.Crashed:
		s.jobCrashed(c, m)
	case messages.ChildStopped:
		for id, pid := range s.jobs {
			if pid.ID == m.ID {
				delete(s.jobs, id)
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
			s.idle()
		}
		stopped(c)
	}
}

// quiet is a session with nothing in flight: no job, no update waiting for I/O.
func (s *session) quiet() bool { return len(s.jobs) == 0 && !s.busy && len(s.held) == 0 }

// armIdle restarts the idle timer whenever the session is quiet.
func (s *session) armIdle(c *actor.Context) {
	if s.idle != nil {
		s.idle()
		s.idle = nil
	}
	d := s.d.Config.Timing.SessionIdle
	if d <= 0 || !s.quiet() || s.stopping {
		return
	}
	s.idleGen++
	s.idle = after(c.Engine(), c.PID(), d, idleCheck{gen: s.idleGen})
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

// admit applies the per-seller update limit: past it, the seller hears one polite notice and then
// nothing until the window passes. Payments always pass: they are money already spent.
func (s *session) admit(m messages.Update) bool {
	u := m.Update
	if msg := u.Message; msg != nil && (msg.SuccessfulPayment != nil || msg.RefundedPayment != nil) {
		return true
	}
	limit, window := s.d.Config.Limits.UpdatesPerMinute, s.d.Config.Timing.UpdatesWindow
	if limit <= 0 {
		return true
	}
	if window <= 0 {
		window = time.Minute
	}
	if now := time.Now(); now.Sub(s.windowStart) >= window {
		s.windowStart, s.inWindow, s.warned = now, 0, false
	}
	if s.inWindow++; s.inWindow <= limit {
		return true
	}
	s.d.Metrics.UpdateLimited()
	if !s.warned {
		s.warned = true
		s.d.Log.Info("seller over the update limit; ignoring them for the rest of the window", "user_id", s.uid, "limit", limit, "window", window)
		if chatID, from := updateChat(u); chatID != 0 {
			lang := s.lang
			if lang == "" && from != nil {
				lang = texts.Lang(from.LanguageCode)
			}
			s.post(chatID, reply{text: texts.T(lang, texts.TooFast)})
		}
	}
	return false
}

// resume restarts the seller's unfinished jobs from their persisted stages.
func (s *session) resume(c *actor.Context) {
	jobs, err := s.d.Store.ActiveJobsOf(s.uid)
	if err != nil {
		s.d.Log.Error("loading unfinished jobs failed", "user_id", s.uid, "err", err)
		return
	}
	for _, j := range jobs {
		s.d.Log.Info("resuming job", "job_id", j.ID, "user_id", s.uid, "stage", j.Stage)
		s.spawnJob(c, j)
	}
}

func (s *session) spawnJob(c *actor.Context, j messages.Job) {
	if _, running := s.jobs[j.ID]; running {
		return
	}
	s.jobs[j.ID] = c.SpawnChild(newJob(s.d, j), "job", spawnOpts(strconv.FormatUint(j.ID, 10))...)
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
		j, err := s.d.Store.FailJob(id, messages.Failure{Class: messages.Internal, Reason: messages.ReasonInternal, Detail: "job panic: " + m.Reason})
		if err != nil {
			if !errors.Is(err, store.ErrFinished) {
				s.d.Log.Error("failing a crashed job failed", "job_id", id, "err", err)
			}
			return
		}
		s.d.Metrics.JobFinished(j)
		s.post(j.ChatID, reply{text: texts.T(j.Lang, texts.FailInternal, texts.Credits(j.Lang, j.Price)), kb: failureKeyboard(j)})
		if err := s.d.Store.MarkNotified(j); err != nil {
			s.d.Log.Error("recording that the seller was told failed", "job_id", id, "err", err)
		}
		return
	}
}

// reply is a message decided inside a transaction and sent only after it commits.
type reply struct {
	text    string
	kb      telegram.Keyboard
	invoice *telegram.Invoice // sent as a Stars invoice instead of a text
}

// resumed is what an update that waited for I/O comes back with.
type resumed struct {
	photo    *photoCheck // the dimensions of an image sent as a file, or why they are unknown
	operated bool        // an operator command already carried out; replies are its answers
	replies  []reply
}

// turn is the work of one update: the transaction, the replies it decided, and a job to start.
type turn struct {
	s        *session
	t        *store.UserTx
	update   *models.Update
	chatID   int64
	lang     string
	resumed  *resumed
	replies  []reply
	started  []messages.Job
	checking *messages.Photo // an image whose dimensions must be read before it is accepted
}

func (tn *turn) say(key texts.Key, kb telegram.Keyboard, args ...any) {
	tn.replies = append(tn.replies, reply{text: texts.T(tn.lang, key, args...), kb: kb})
}

func (tn *turn) menu(key texts.Key, args ...any) {
	tn.say(key, menuKeyboard(tn.s.d.Config, tn.lang), args...)
}

var (
	// errSeen rolls back the transaction of an update that was already handled.
	errSeen = errors.New("update already handled")
	// errCheckPhoto rolls back the transaction of an update whose image must be measured first;
	// the update is handled again, from the start, with the result.
	errCheckPhoto = errors.New("the image's dimensions are needed")
)

// handle runs one update. Done is called whatever happens, so the poller is never stuck — when
// the update waits for I/O, once it comes back and its outcome is persisted. A panic is logged,
// the seller gets an apology and nothing of the update is persisted.
func (s *session) handle(c *actor.Context, m messages.Update, r *resumed) {
	u := m.Update
	chatID, from := updateChat(u)
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
			if chatID != 0 {
				s.post(chatID, reply{text: texts.T(texts.Lang(from.LanguageCode), texts.SomethingWrong)})
			}
		}
	}()
	if u.CallbackQuery != nil && r == nil {
		s.answer(u.CallbackQuery.ID)
	}
	if chatID == 0 {
		return
	}
	if r == nil {
		if cmd, args, ok := s.operatorCommand(u); ok {
			replies, wait := s.operate(c, m, cmd, args)
			if wait {
				s.busy, done = true, false
				return
			}
			r = &resumed{operated: true, replies: replies}
		}
	}
	tn := &turn{s: s, update: u, chatID: chatID, resumed: r}
	_, err := s.d.Store.WithUser(s.uid, func(t *store.UserTx) error {
		if t.Exists() && u.ID <= t.User.LastUpdate {
			return errSeen
		}
		tn.t = t
		s.touch(t, from, u.ID, tn)
		tn.lang = t.User.Lang
		switch {
		case r != nil && r.operated:
			tn.replies = r.replies
		case u.CallbackQuery != nil:
			return tn.onCallback(u.CallbackQuery.Data)
		case u.Message != nil:
			return tn.onMessage(u.Message)
		}
		return nil
	})
	switch {
	case errors.Is(err, errSeen):
		s.d.Log.Info("update seen before; ignored", "user_id", s.uid, "update_id", u.ID)
		return
	case errors.Is(err, errCheckPhoto):
		s.checkPhoto(c, m, *tn.checking)
		s.busy, done = true, false
		return
	case err != nil:
		s.d.Log.Error("handling an update failed", "user_id", s.uid, "update_id", u.ID, "err", err)
		s.post(chatID, reply{text: texts.T(texts.Lang(from.LanguageCode), texts.SomethingWrong)})
		return
	}
	s.lang = tn.lang
	for _, r := range tn.replies {
		s.post(chatID, r)
	}
	for _, j := range tn.started {
		s.spawnJob(c, j)
	}
}

// touch records the update and keeps the seller's profile current; a new seller gets the start
// bonus as a grant row in the same transaction.
func (s *session) touch(t *store.UserTx, from *models.User, updateID int64, tn *turn) {
	u := &t.User
	u.LastUpdate = updateID
	u.SeenAt = s.d.Store.Now()
	u.Blocked = false
	if from != nil {
		u.FirstName = from.FirstName
		if !u.LangChosen {
			u.Lang = texts.Lang(from.LanguageCode)
		}
	}
	if u.Lang == "" {
		u.Lang = texts.RU
	}
	if !t.Exists() && s.d.Config.StartCredits > 0 {
		if _, err := t.Post(store.Entry{Type: store.EntryGrant, Amount: s.d.Config.StartCredits, Key: fmt.Sprintf("start:%d", u.ID), Note: "start bonus"}); err != nil && !errors.Is(err, store.ErrDuplicate) {
			s.d.Log.Error("start bonus failed", "user_id", u.ID, "err", err)
		}
	}
}

func (s *session) post(chatID int64, r reply) {
	log, g := s.d.Log, s.d.Telegram
	g.Post(chatID, func(ctx context.Context) {
		var err error
		if r.invoice != nil {
			_, err = g.SendInvoice(ctx, chatID, *r.invoice)
		} else {
			_, err = g.Send(ctx, chatID, r.text, r.kb)
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

func updateChat(u *models.Update) (int64, *models.User) {
	switch {
	case u.Message != nil && u.Message.From != nil:
		return u.Message.Chat.ID, u.Message.From
	case u.CallbackQuery != nil:
		if m := u.CallbackQuery.Message.Message; m != nil {
			return m.Chat.ID, &u.CallbackQuery.From
		}
		return u.CallbackQuery.From.ID, &u.CallbackQuery.From
	}
	return 0, nil
}
