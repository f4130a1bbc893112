package actors

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"

	"neurocards/config"
	"neurocards/messages"
	"neurocards/store"
	"neurocards/telegram"
	"neurocards/texts"
)

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

// onPhoto checks the photo against what KIE takes before anything is charged. A Telegram photo
// carries its dimensions; an image sent as a file does not, so it is measured first (off the
// actor, see checkPhoto) and this update handled again with the answer.
func (tn *turn) onPhoto(p messages.Photo) error {
	lim := tn.s.d.Config.Limits
	draft := &tn.t.User.Draft
	if p.Size > lim.MaxPhotoBytes {
		tn.say(texts.PhotoTooLarge, nil, float64(p.Size)/(1<<20), lim.MaxPhotoBytes>>20)
		return nil
	}
	if p.Width <= 0 || p.Height <= 0 {
		r := tn.resumed
		if r == nil || r.photo == nil {
			tn.checking = &p
			return errCheckPhoto
		}
		switch err := r.photo.err; {
		case errors.Is(err, telegram.ErrTooLarge):
			tn.say(texts.PhotoTooLarge, nil, float64(max(p.Size, lim.MaxPhotoBytes+1))/(1<<20), lim.MaxPhotoBytes>>20)
			return nil
		case errors.Is(err, errFetch):
			tn.say(texts.PhotoFetch, nil)
			return nil
		case err != nil:
			tn.say(texts.PhotoUnreadable, nil)
			return nil
		}
		p.Width, p.Height = r.photo.width, r.photo.height
	}
	if min(p.Width, p.Height) < lim.MinPhotoSide {
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
// credits do not cover it, with a way to top up.
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
		tn.notEnough(kind.Price)
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

func (tn *turn) notEnough(price int64) {
	tn.say(texts.NotEnough, lowKeyboard(tn.s.d.Config, tn.lang), texts.Credits(tn.lang, price), texts.Credits(tn.lang, tn.t.User.Available()))
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
		return tn.balance()
	case cbHistory:
		return tn.history()
	case cbHelp:
		tn.help()
	case cbBuy:
		if cb.arg == "" {
			tn.buy()
			return nil
		}
		p, ok := tn.s.d.Config.Pack(cb.arg)
		if !ok {
			tn.buy()
			return nil
		}
		tn.invoice(p)
	case cbLang:
		tn.setLang(cb.arg)
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
		kind, src, named := strings.Cut(cb.arg, ":")
		id := u.LastJobID // buttons from before they named their job
		if named {
			n, err := strconv.ParseUint(src, 10, 64)
			if err != nil {
				tn.menu(texts.Stale)
				return nil
			}
			id = n
		}
		return tn.repeat(id, kind)
	case cbRedo:
		return tn.repeat(cb.id(), "")
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

// repeat starts another job like job id — of kind, or of the same kind when kind is "" — with
// its photo and text. Each button does it once: the seller's record keeps the messages whose
// "again"/"redo" button was used, so a double tap charges once, while the same job's other
// messages (its status, its result) still offer another.
func (tn *turn) repeat(id uint64, kind string) error {
	u := &tn.t.User
	src, ok, err := tn.t.Job(id)
	if err != nil {
		return err
	}
	if !ok || id == 0 || src.UserID != u.ID {
		tn.menu(texts.NothingToRepeat)
		return nil
	}
	button := tn.buttonMessage()
	if button != 0 && slices.Contains(u.Repeated, button) {
		tn.say(texts.AgainUsed, nil)
		return nil
	}
	if kind == "" {
		kind = src.Kind
	}
	if _, ok, err := tn.startJob(kind, src.Photo, src.Product, 0); err != nil || !ok {
		return err
	}
	if button != 0 {
		u.Repeated = append(u.Repeated, button)
		if n := len(u.Repeated); n > store.RepeatedKept {
			u.Repeated = slices.Clone(u.Repeated[n-store.RepeatedKept:])
		}
	}
	return nil
}

// buttonMessage is the id of the message whose button was tapped, or 0 when Telegram no longer
// shows it to the bot.
func (tn *turn) buttonMessage() int {
	if cq := tn.update.CallbackQuery; cq != nil && cq.Message.Message != nil {
		return cq.Message.Message.ID
	}
	return 0
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
		tn.notEnough(kind.Price)
		return messages.Job{}, false, nil
	}
	if err != nil {
		return messages.Job{}, false, err
	}
	tn.started = append(tn.started, j)
	d.Metrics.JobStarted(kind.ID)
	return j, true, nil
}

func jobFor(k config.Kind, u store.User, chatID int64, photo messages.Photo, product string, retryOf uint64) messages.Job {
	return messages.Job{
		ChatID: chatID, Lang: u.Lang,
		Kind: k.ID, Model: k.Model, Output: messages.Output(k.Output), Price: k.Price,
		Photo: photo, Product: product, RetryOf: retryOf,
	}
}

// operatorCommands are for config.AdminIDs only; anyone else gets the ordinary unknown-command answer.
