package conversation

import (
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"

	"neurocards/config"
	"neurocards/keyboard"
	"neurocards/messages"
	"neurocards/photo"
	"neurocards/store"
	"neurocards/telegram"
	"neurocards/texts"
)

func (tn *turn) menu(key texts.Key, args ...any) {
	tn.say(key, keyboard.MainMenu(tn.cfg, tn.lang), args...)
}

func (tn *turn) onMessage(m *models.Message) error {
	if m.SuccessfulPayment != nil {
		return tn.onPayment(m.SuccessfulPayment)
	}
	if m.RefundedPayment != nil {
		// Telegram's notice of a Stars refund: the operator's /refundstars has told the seller.
		return nil
	}
	text := strings.TrimSpace(m.Text)
	if strings.HasPrefix(text, "/") {
		return tn.onCommand(text)
	}
	draft := &tn.u.Draft
	if p, ok := imageOf(m); ok {
		if draft.Step != store.DraftPhoto && draft.Step != store.DraftText && draft.Step != store.DraftConfirm {
			tn.menu(texts.UnknownInput)
			return nil
		}
		tn.onPhoto(p)
		return nil
	}
	switch draft.Step {
	case store.DraftPhoto:
		tn.say(texts.PhotoNotImage, nil)
	case store.DraftText, store.DraftConfirm:
		if text == "" {
			tn.say(texts.TextNotText, keyboard.SkipText(tn.lang, draft.ID))
			return nil
		}
		tn.onProduct(text)
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

// onPhoto checks the photo against what KIE takes before anything is charged. A Telegram photo
// carries its dimensions; an image sent as a file does not, so the shell measures it first and
// hands this update back with the answer.
func (tn *turn) onPhoto(p messages.Photo) {
	lim := PhotoLimits(tn.cfg)
	if m := tn.in.Measured; m != nil && (p.Width <= 0 || p.Height <= 0) && p.Size <= lim.MaxBytes {
		switch {
		case errors.Is(m.Err, telegram.ErrTooLarge):
			tn.say(texts.PhotoTooLarge, nil, float64(max(p.Size, lim.MaxBytes+1))/(1<<20), lim.MaxBytes>>20)
			return
		case errors.Is(m.Err, photo.ErrFetch):
			tn.say(texts.PhotoFetch, nil)
			return
		case m.Err != nil:
			tn.say(texts.PhotoUnreadable, nil)
			return
		}
		p.Width, p.Height = m.Width, m.Height
	}
	switch photo.Check(p, lim) {
	case photo.TooLarge:
		tn.say(texts.PhotoTooLarge, nil, float64(p.Size)/(1<<20), lim.MaxBytes>>20)
		return
	case photo.Unmeasured:
		tn.res.Effects = append(tn.res.Effects, MeasurePhoto{Photo: p})
		return
	case photo.TooSmall:
		tn.say(texts.PhotoTooSmall, nil, p.Width, p.Height, lim.MinSide)
		return
	case photo.TooBig:
		tn.say(texts.PhotoTooBig, nil, p.Width, p.Height, lim.MaxSide)
		return
	}
	draft := &tn.u.Draft
	draft.Photo, draft.Step = p, store.DraftText
	tn.say(texts.AskText, keyboard.SkipText(tn.lang, draft.ID), tn.cfg.Limits.MaxProductText)
}

func (tn *turn) onProduct(text string) {
	if n, max := utf8.RuneCountInString(text), tn.cfg.Limits.MaxProductText; n > max {
		tn.say(texts.TextTooLong, nil, n, max)
		return
	}
	tn.u.Draft.Product = text
	tn.confirm()
}

// confirm shows the order with its price and the balance after, or says plainly that the
// credits do not cover it, with a way to top up.
func (tn *turn) confirm() {
	u := &tn.u
	kind, ok := tn.cfg.Kind(u.Draft.Kind)
	if !ok {
		u.Draft = store.Draft{}
		tn.menu(texts.Stale)
		return
	}
	if u.Available() < kind.Price {
		u.Draft.Step = store.DraftText
		tn.notEnough(kind.Price)
		return
	}
	u.Draft.Step = store.DraftConfirm
	product := u.Draft.Product
	if product == "" {
		product = texts.T(tn.lang, texts.NoProduct)
	}
	tn.say(texts.Confirm, keyboard.Confirm(tn.lang, u.Draft.ID),
		kind.TitleIn(tn.lang), product, texts.Credits(tn.lang, kind.Price), texts.Credits(tn.lang, u.Available()-kind.Price))
	if w := tn.in.Wait; w >= queueShown {
		r := &tn.res.Replies[len(tn.res.Replies)-1]
		r.Text += texts.T(tn.lang, texts.ConfirmWait, texts.Wait(tn.lang, w))
	}
}

// queueShown is the wait for the line from which the confirmation mentions it.
const queueShown = 30 * time.Second

func (tn *turn) notEnough(price int64) {
	tn.say(texts.NotEnough, keyboard.Low(tn.cfg, tn.lang), texts.Credits(tn.lang, price), texts.Credits(tn.lang, tn.u.Available()))
}

func (tn *turn) onCallback(raw string) error {
	cb, ok := keyboard.Parse(raw)
	if !ok {
		tn.menu(texts.Stale)
		return nil
	}
	u := &tn.u
	draft := &u.Draft
	switch cb.Action {
	case keyboard.Menu:
		tn.menu(texts.MenuPrompt, texts.Credits(tn.lang, u.Available()))
	case keyboard.Balance:
		return tn.balance()
	case keyboard.History:
		return tn.history()
	case keyboard.Help:
		tn.help()
	case keyboard.Buy:
		p, ok := tn.cfg.Pack(cb.Arg)
		if cb.Arg == "" || !ok {
			tn.buy()
			return nil
		}
		tn.invoice(p)
	case keyboard.Lang:
		tn.setLang(cb.Arg)
	case keyboard.Kind:
		kind, ok := tn.cfg.Kind(cb.Arg)
		if !ok {
			tn.menu(texts.Stale)
			return nil
		}
		u.DraftSeq++
		*draft = store.Draft{ID: u.DraftSeq, Kind: kind.ID, Step: store.DraftPhoto}
		tn.say(texts.AskPhoto, nil, kind.TitleIn(tn.lang))
	case keyboard.Skip:
		if draft.ID != cb.ID || (draft.Step != store.DraftText && draft.Step != store.DraftConfirm) {
			tn.menu(texts.Stale)
			return nil
		}
		draft.Product = ""
		tn.confirm()
	case keyboard.Cancel:
		if draft.ID != cb.ID || draft.Step == store.DraftConsumed || draft.Step == store.DraftNone {
			tn.menu(texts.Stale)
			return nil
		}
		*draft = store.Draft{}
		tn.menu(texts.Cancelled)
	case keyboard.Generate:
		switch {
		case draft.ID == cb.ID && draft.Step == store.DraftConsumed:
			tn.say(texts.AlreadyStarted, nil)
		case draft.ID != cb.ID || draft.Step != store.DraftConfirm:
			tn.menu(texts.Stale)
		default:
			ok, err := tn.startJob(draft.Kind, draft.Photo, draft.Product, 0, true)
			if err != nil || !ok {
				return err
			}
			draft.Step = store.DraftConsumed
		}
	case keyboard.Again:
		id := cb.ID
		if id == 0 {
			id = u.LastJobID // buttons from before "again" named its job
		}
		return tn.repeat(id, cb.Arg)
	case keyboard.Redo:
		return tn.repeat(cb.ID, "")
	case keyboard.Retry:
		old, ok, err := tn.facts.Job(cb.ID)
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
		_, err = tn.startJob(old.Kind, old.Photo, old.Product, old.ID, false)
		return err
	}
	return nil
}

// repeat starts another job like job id — of kind, or of the same kind when kind is "" — with
// its photo and text. Each button does it once: the seller's record keeps the messages whose
// "again"/"redo" button was used, so a double tap charges once, while the same job's other
// messages (its status, its result) still offer another. When Telegram no longer shows the
// button's message, the tap is remembered by the job it names instead, so repeated taps of such
// buttons still start one job.
func (tn *turn) repeat(id uint64, kind string) error {
	u := &tn.u
	if id == 0 {
		tn.menu(texts.NothingToRepeat)
		return nil
	}
	src, ok, err := tn.facts.Job(id)
	if err != nil {
		return err
	}
	if !ok || src.UserID != u.ID {
		tn.menu(texts.NothingToRepeat)
		return nil
	}
	button := tn.buttonMessage()
	if (button != 0 && slices.Contains(u.Repeated, button)) || (button == 0 && slices.Contains(u.RepeatedJobs, id)) {
		tn.say(texts.AgainUsed, nil)
		return nil
	}
	if kind == "" {
		kind = src.Kind
	}
	if ok, err := tn.startJob(kind, src.Photo, src.Product, 0, false); err != nil || !ok {
		return err
	}
	if button != 0 {
		u.Repeated = keepLast(append(u.Repeated, button))
	} else {
		u.RepeatedJobs = keepLast(append(u.RepeatedJobs, id))
	}
	return nil
}

func keepLast[T any](s []T) []T {
	if n := len(s); n > store.RepeatedKept {
		return slices.Clone(s[n-store.RepeatedKept:])
	}
	return s
}

// buttonMessage is the id of the message whose button was tapped, or 0 when Telegram no longer
// shows it to the bot.
func (tn *turn) buttonMessage() int {
	cq := tn.in.Update.CallbackQuery
	switch {
	case cq == nil:
		return 0
	case cq.Message.Message != nil:
		return cq.Message.Message.ID
	case cq.Message.InaccessibleMessage != nil:
		return cq.Message.InaccessibleMessage.MessageID
	}
	return 0
}

// startJob decides a new job: the kind must still be sold, the seller under their limit of jobs
// in flight and able to pay. The shell holds the price and creates the job in this update's
// transaction. ok is false when the seller was told why not.
func (tn *turn) startJob(kindID string, p messages.Photo, product string, retryOf uint64, fromDraft bool) (bool, error) {
	kind, ok := tn.cfg.Kind(kindID)
	if !ok {
		tn.menu(texts.Stale)
		return false, nil
	}
	n, err := tn.facts.InFlight()
	if err != nil {
		return false, err
	}
	if n >= tn.cfg.Limits.JobsPerSeller {
		tn.say(texts.TooManyJobs, nil, n)
		return false, nil
	}
	if tn.u.Available() < kind.Price {
		tn.notEnough(kind.Price)
		return false, nil
	}
	// Admission: a job that would wait in the line too long to finish by its deadline is refused
	// before anything is held, with when to try again.
	if room := tn.cfg.Timing.JobTimeout - kind.Expected(); tn.in.Wait > 0 && tn.in.Wait > room {
		tn.say(texts.Busy, nil, texts.Wait(tn.lang, tn.in.Wait-room))
		return false, nil
	}
	tn.u.Held += kind.Price // what the hold will make it, for the rest of this turn
	tn.res.Effects = append(tn.res.Effects, StartJob{Job: jobFor(kind, tn.u, tn.chat(), p, product, retryOf), FromDraft: fromDraft})
	return true, nil
}

func jobFor(k config.Kind, u store.User, chatID int64, p messages.Photo, product string, retryOf uint64) messages.Job {
	return messages.Job{
		UserID: u.ID, ChatID: chatID, Lang: u.Lang,
		Kind: k.ID, Model: k.Model, Output: messages.Output(k.Output), Price: k.Price,
		Photo: p, Product: product, RetryOf: retryOf,
	}
}

// chat is where the seller is answered: their private chat with the bot, whose id is theirs.
func (tn *turn) chat() int64 { return tn.u.ID }
