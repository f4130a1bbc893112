package actors

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/anthdm/hollywood/actor"
	"github.com/go-telegram/bot/models"

	"neurocards/config"
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
}

func newSession(d *Deps, uid int64) actor.Producer {
	return func() actor.Receiver { return &session{d: d, uid: uid, jobs: map[uint64]*actor.PID{}} }
}

func (s *session) Receive(c *actor.Context) {
	switch m := c.Message().(type) {
	case actor.Started:
		s.resume(c)
	case messages.Update:
		s.handle(c, m)
	case messages.JobFinished:
		delete(s.jobs, m.JobID)
	case messages.Crashed:
		s.jobCrashed(c, m)
	}
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
		c.Engine().Poison(pid)
		delete(s.jobs, id)
		j, ok, err := s.d.Store.Job(id)
		if err != nil || !ok {
			return
		}
		j.Outcome = messages.OutcomeFailed
		j.Failure = &messages.Failure{Class: messages.Internal, Reason: messages.ReasonInternal, Detail: "job panic: " + m.Reason}
		if j, err = s.d.Store.FinishJob(j); err != nil {
			s.d.Log.Error("failing a crashed job failed", "job_id", id, "err", err)
			return
		}
		s.d.Metrics.Inc("job_failures_total", "class", string(messages.Internal), "reason", string(messages.ReasonInternal))
		s.post(j.ChatID, reply{text: texts.T(j.Lang, texts.FailInternal, texts.Credits(j.Lang, j.Price)), kb: failureKeyboard(j)})
		return
	}
}

// reply is a message decided inside a transaction and sent only after it commits.
type reply struct {
	text string
	kb   telegram.Keyboard
}

// turn is the work of one update: the transaction, the replies it decided, and a job to start.
type turn struct {
	s       *session
	t       *store.UserTx
	chatID  int64
	lang    string
	replies []reply
	started []messages.Job
}

func (tn *turn) say(key texts.Key, kb telegram.Keyboard, args ...any) {
	tn.replies = append(tn.replies, reply{text: texts.T(tn.lang, key, args...), kb: kb})
}

func (tn *turn) menu(key texts.Key, args ...any) {
	tn.say(key, menuKeyboard(tn.s.d.Config, tn.lang), args...)
}

// errSeen rolls back the transaction of an update that was already handled.
var errSeen = errors.New("update already handled")

// handle runs one update. Done is called whatever happens, so the poller is never stuck; a panic
// is logged, the seller gets an apology and nothing of the update is persisted.
func (s *session) handle(c *actor.Context, m messages.Update) {
	u := m.Update
	chatID, from := updateChat(u)
	defer m.Done()
	defer func() {
		if v := recover(); v != nil {
			s.d.Log.Error("handling an update panicked", "user_id", s.uid, "update_id", u.ID, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			s.d.Metrics.Inc("update_panics_total")
			if chatID != 0 {
				s.post(chatID, reply{text: texts.T(texts.Lang(from.LanguageCode), texts.SomethingWrong)})
			}
		}
	}()
	if u.CallbackQuery != nil {
		s.answer(u.CallbackQuery.ID)
	}
	if chatID == 0 {
		return
	}
	tn := &turn{s: s, chatID: chatID}
	_, err := s.d.Store.WithUser(s.uid, func(t *store.UserTx) error {
		if t.Exists() && u.ID <= t.User.LastUpdate {
			return errSeen
		}
		tn.t = t
		s.touch(t, from, u.ID, tn)
		tn.lang = t.User.Lang
		switch {
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
	case err != nil:
		s.d.Log.Error("handling an update failed", "user_id", s.uid, "update_id", u.ID, "err", err)
		s.post(chatID, reply{text: texts.T(texts.Lang(from.LanguageCode), texts.SomethingWrong)})
		return
	}
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
	log := s.d.Log
	s.d.Telegram.Post(chatID, func(ctx context.Context) {
		if _, err := s.d.Telegram.Send(ctx, chatID, r.text, r.kb); err != nil {
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

func (tn *turn) onMessage(m *models.Message) error {
	text := strings.TrimSpace(m.Text)
	if strings.HasPrefix(text, "/") {
		return tn.onCommand(text)
	}
	draft := &tn.t.User.Draft
	if photo, ok := imageOf(m); ok {
		if draft.Step != store.DraftPhoto && draft.Step != store.DraftText && draft.Step != store.DraftConfirm {
			tn.menu(texts.UnknownInput)
			return nil
		}
		return tn.onPhoto(photo)
	}
	switch draft.Step {
	case store.DraftPhoto:
		tn.say(texts.PhotoNotImage, nil)
	case store.DraftText, store.DraftConfirm:
		if text == "" {
			tn.say(texts.TextNotText, skipKeyboard(tn.lang, draft.ID))
			return nil
		}
		return tn.onProduct(text)
	default:
		tn.menu(texts.UnknownInput)
	}
	return nil
}

// imageOf finds a usable image in a message: the largest photo size, or a document that is an image.
func imageOf(m *models.Message) (messages.Photo, bool) {
	if n := len(m.Photo); n > 0 {
		p := m.Photo[n-1]
		return messages.Photo{FileID: p.FileID, UniqueID: p.FileUniqueID, Width: p.Width, Height: p.Height, Size: int64(p.FileSize), Mime: "image/jpeg"}, true
	}
	if d := m.Document; d != nil {
		switch strings.ToLower(d.MimeType) {
		case "image/jpeg", "image/jpg", "image/png", "image/webp":
			return messages.Photo{FileID: d.FileID, UniqueID: d.FileUniqueID, Size: d.FileSize, Mime: strings.ToLower(d.MimeType)}, true
		}
	}
	return messages.Photo{}, false
}

func (tn *turn) onPhoto(p messages.Photo) error {
	lim := tn.s.d.Config.Limits
	draft := &tn.t.User.Draft
	switch {
	case p.Size > lim.MaxPhotoBytes:
		tn.say(texts.PhotoTooLarge, nil, float64(p.Size)/(1<<20), lim.MaxPhotoBytes>>20)
		return nil
	case p.Width > 0 && p.Height > 0 && min(p.Width, p.Height) < lim.MinPhotoSide:
		tn.say(texts.PhotoTooSmall, nil, p.Width, p.Height, lim.MinPhotoSide)
		return nil
	}
	draft.Photo, draft.Step = p, store.DraftText
	tn.say(texts.AskText, skipKeyboard(tn.lang, draft.ID), lim.MaxProductText)
	return nil
}

func (tn *turn) onProduct(text string) error {
	if n, max := utf8.RuneCountInString(text), tn.s.d.Config.Limits.MaxProductText; n > max {
		tn.say(texts.TextTooLong, nil, n, max)
		return nil
	}
	tn.t.User.Draft.Product = text
	return tn.confirm()
}

// confirm shows the order with its price and the balance after, or says plainly that the
// credits do not cover it.
func (tn *turn) confirm() error {
	u := &tn.t.User
	kind, ok := tn.s.d.Config.Kind(u.Draft.Kind)
	if !ok {
		u.Draft = store.Draft{}
		tn.menu(texts.Stale)
		return nil
	}
	if u.Available() < kind.Price {
		u.Draft.Step = store.DraftText
		tn.menu(texts.NotEnough, texts.Credits(tn.lang, kind.Price), texts.Credits(tn.lang, u.Available()))
		return nil
	}
	u.Draft.Step = store.DraftConfirm
	product := u.Draft.Product
	if product == "" {
		product = texts.T(tn.lang, texts.NoProduct)
	}
	tn.say(texts.Confirm, confirmKeyboard(tn.lang, u.Draft.ID),
		kind.TitleIn(tn.lang), product, texts.Credits(tn.lang, kind.Price), texts.Credits(tn.lang, u.Available()-kind.Price))
	return nil
}

func (tn *turn) onCommand(text string) error {
	cmd, _, _ := strings.Cut(strings.TrimPrefix(text, "/"), " ")
	cmd, _, _ = strings.Cut(strings.ToLower(cmd), "@")
	u := &tn.t.User
	switch cmd {
	case "start":
		u.Draft = store.Draft{}
		name := u.FirstName
		if name == "" {
			name = "👤"
		}
		if !tn.t.Exists() {
			tn.menu(texts.GreetingNew, name, texts.Credits(tn.lang, tn.s.d.Config.StartCredits), texts.Credits(tn.lang, u.Balance))
		} else {
			tn.menu(texts.Greeting, name, texts.Credits(tn.lang, u.Available()))
		}
	case "menu":
		tn.menu(texts.MenuPrompt, texts.Credits(tn.lang, u.Available()))
	case "balance":
		tn.balance()
	case "help":
		tn.help()
	default:
		tn.menu(texts.UnknownInput)
	}
	return nil
}

func (tn *turn) balance() {
	u := tn.t.User
	tn.menu(texts.Balance, texts.Credits(tn.lang, u.Balance), texts.Credits(tn.lang, u.Held), texts.Credits(tn.lang, u.Available()))
}

func (tn *turn) help() {
	var prices []string
	for _, k := range tn.s.d.Config.Kinds {
		prices = append(prices, "• "+texts.T(tn.lang, texts.KindButton, k.TitleIn(tn.lang), texts.Credits(tn.lang, k.Price)))
	}
	tn.menu(texts.Help, strings.Join(prices, "\n"))
}

func (tn *turn) onCallback(raw string) error {
	cb, ok := parseCallback(raw)
	if !ok {
		tn.menu(texts.Stale)
		return nil
	}
	u := &tn.t.User
	draft := &u.Draft
	switch cb.action {
	case cbMenu:
		tn.menu(texts.MenuPrompt, texts.Credits(tn.lang, u.Available()))
	case cbBalance:
		tn.balance()
	case cbHelp:
		tn.help()
	case cbKind:
		kind, ok := tn.s.d.Config.Kind(cb.arg)
		if !ok {
			tn.menu(texts.Stale)
			return nil
		}
		u.DraftSeq++
		*draft = store.Draft{ID: u.DraftSeq, Kind: kind.ID, Step: store.DraftPhoto}
		tn.say(texts.AskPhoto, nil, kind.TitleIn(tn.lang))
	case cbSkip:
		if draft.ID != cb.id() || (draft.Step != store.DraftText && draft.Step != store.DraftConfirm) {
			tn.menu(texts.Stale)
			return nil
		}
		draft.Product = ""
		return tn.confirm()
	case cbCancel:
		if draft.ID != cb.id() || draft.Step == store.DraftConsumed || draft.Step == store.DraftNone {
			tn.menu(texts.Stale)
			return nil
		}
		*draft = store.Draft{}
		tn.menu(texts.Cancelled)
	case cbGenerate:
		switch {
		case draft.ID == cb.id() && draft.Step == store.DraftConsumed:
			tn.say(texts.AlreadyStarted, nil)
		case draft.ID != cb.id() || draft.Step != store.DraftConfirm:
			tn.menu(texts.Stale)
		default:
			j, ok, err := tn.startJob(draft.Kind, draft.Photo, draft.Product, 0)
			if err != nil || !ok {
				return err
			}
			draft.Step, draft.JobID = store.DraftConsumed, j.ID
		}
	case cbAgain:
		last, ok, err := tn.t.Job(u.LastJobID)
		if err != nil {
			return err
		}
		if !ok || u.LastJobID == 0 {
			tn.menu(texts.NothingToRepeat)
			return nil
		}
		_, _, err = tn.startJob(cb.arg, last.Photo, last.Product, 0)
		return err
	case cbRetry:
		old, ok, err := tn.t.Job(cb.id())
		if err != nil {
			return err
		}
		if !ok || old.UserID != u.ID || old.Outcome != messages.OutcomeFailed {
			tn.menu(texts.Stale)
			return nil
		}
		if old.RetriedBy != 0 {
			tn.say(texts.AlreadyStarted, nil)
			return nil
		}
		j, ok, err := tn.startJob(old.Kind, old.Photo, old.Product, old.ID)
		if err != nil || !ok {
			return err
		}
		return tn.t.MarkRetried(old.ID, j.ID)
	}
	return nil
}

// startJob holds the price and creates the job in this transaction; the job actor starts after
// the commit. ok is false when the seller was told why not (credits, limit).
func (tn *turn) startJob(kindID string, photo messages.Photo, product string, retryOf uint64) (messages.Job, bool, error) {
	d := tn.s.d
	kind, ok := d.Config.Kind(kindID)
	if !ok {
		tn.menu(texts.Stale)
		return messages.Job{}, false, nil
	}
	n, err := tn.t.InFlight()
	if err != nil {
		return messages.Job{}, false, err
	}
	if n >= d.Config.Limits.JobsPerSeller {
		tn.say(texts.TooManyJobs, nil, n)
		return messages.Job{}, false, nil
	}
	j, err := tn.t.StartJob(jobFor(kind, tn.t.User, tn.chatID, photo, product, retryOf), d.Config.Timing.JobTimeout)
	if errors.Is(err, store.ErrInsufficient) {
		tn.menu(texts.NotEnough, texts.Credits(tn.lang, kind.Price), texts.Credits(tn.lang, tn.t.User.Available()))
		return messages.Job{}, false, nil
	}
	if err != nil {
		return messages.Job{}, false, err
	}
	tn.started = append(tn.started, j)
	d.Metrics.Inc("jobs_started_total", "kind", kind.ID)
	return j, true, nil
}

func jobFor(k config.Kind, u store.User, chatID int64, photo messages.Photo, product string, retryOf uint64) messages.Job {
	return messages.Job{
		ChatID: chatID, Lang: u.Lang,
		Kind: k.ID, Model: k.Model, Output: messages.Output(k.Output), Price: k.Price,
		Photo: photo, Product: product, RetryOf: retryOf,
	}
}
