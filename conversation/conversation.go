// Package conversation is what a seller's update does, as a pure function: given the seller's
// state, the update and the configuration, Handle returns the new state, the replies and the
// effects (jobs to start, ledger rows to write, an image to measure). It does no I/O: the seller's
// session actor loads the state, calls Handle, persists the result in one transaction and only
// then sends the replies — so every edge of the conversation is a table test.
package conversation

import (
	"errors"
	"time"

	"github.com/go-telegram/bot/models"

	"neurocards/config"
	"neurocards/messages"
	"neurocards/photo"
	"neurocards/store"
	"neurocards/telegram"
	"neurocards/texts"
)

// Facts are the read-only lookups a few updates need besides the seller's record: the history,
// the statement, the job a button names. The session answers them from the transaction the update
// runs in; table tests answer them from memory.
type Facts interface {
	// Job is one of this seller's jobs; another seller's job is reported as missing.
	Job(id uint64) (messages.Job, bool, error)
	Jobs(limit int) ([]messages.Job, error)  // newest first
	Ledger(limit int) ([]store.Entry, error) // newest first
	KeyExists(key string) bool               // a ledger idempotency key is taken
	InFlight() (int, error)                  // the seller's jobs not yet ended
}

// Input is one update and what the shell knows about it.
type Input struct {
	Update *models.Update
	Now    time.Time
	// Measured is an image sent as a file after the shell read its header (Effect MeasurePhoto).
	Measured *Measured
	// Wait is how long a new job would wait in the line for KIE's createTask budget.
	Wait time.Duration
	// Answered: the update was an operator command the shell carried out; these are its answers.
	// The conversation only records the update and passes them on.
	Answered []Reply
}

// Measured is what reading an image's header found: its dimensions, or why they are unknown
// (photo.ErrFetch, photo.ErrUnreadable, telegram.ErrTooLarge).
type Measured struct {
	Width, Height int
	Err           error
}

// Reply is a message to the seller, sent after the state is persisted.
type Reply struct {
	Text     string
	Keyboard telegram.Keyboard
	Invoice  *telegram.Invoice // sent as a Stars invoice instead of a text
}

// Effect is a change the shell makes in the update's transaction (or, for MeasurePhoto, instead
// of committing it).
type Effect interface{ effect() }

type (
	// StartJob holds the job's price and creates it. The shell sets its id, LastJobID, and, when
	// FromDraft, the draft's JobID; when RetryOf is set, the failed job records it as its retry.
	StartJob struct {
		Job       messages.Job
		FromDraft bool
	}
	// Grant writes a grant row (the start bonus).
	Grant struct {
		Amount int64
		Key    string
		Note   string
	}
	// Purchase credits a paid pack, keyed by the Telegram charge id.
	Purchase struct {
		Charge  string
		Pack    string // "" when the payment matched no pack
		Credits int64
		Note    string
	}
	// MeasurePhoto: the image sent as a file must be measured before the update can be decided;
	// nothing of this update is persisted, and it is handled again with Input.Measured.
	MeasurePhoto struct{ Photo messages.Photo }
)

func (StartJob) effect()     {}
func (Grant) effect()        {}
func (Purchase) effect()     {}
func (MeasurePhoto) effect() {}

// Result is what an update did.
type Result struct {
	User    store.User // the seller's new record (balance and holds are changed only by effects)
	New     bool       // the seller wrote for the first time
	Replies []Reply
	Effects []Effect
	// Seen: the update was handled before (a re-delivery); nothing is to be done.
	Seen bool
	// Log lines worth an operator's attention, with their attributes.
	Notes []Note
}

// Note is something the shell should log about the update.
type Note struct {
	Msg   string
	Error bool
	Attrs []any
}

// ErrNoChat means the update names no chat to answer in; the shell drops it.
var ErrNoChat = errors.New("conversation: update without a chat")

// turn is the work of one update.
type turn struct {
	cfg   config.Config
	facts Facts
	in    Input
	u     store.User
	new   bool
	lang  string
	res   Result
}

// Handle decides what update in does to the seller whose record is u (exists is false for a
// seller writing for the first time: u then carries only its id and creation time).
func Handle(cfg config.Config, u store.User, exists bool, facts Facts, in Input) (Result, error) {
	upd := in.Update
	if upd == nil || (upd.Message == nil && upd.CallbackQuery == nil) {
		return Result{}, ErrNoChat
	}
	if exists && upd.ID <= u.LastUpdate {
		return Result{User: u, Seen: true}, nil
	}
	tn := &turn{cfg: cfg, facts: facts, in: in, u: u, new: !exists}
	tn.touch()
	var err error
	switch {
	case in.Answered != nil:
		tn.res.Replies = in.Answered
	case upd.CallbackQuery != nil:
		err = tn.onCallback(upd.CallbackQuery.Data)
	default:
		err = tn.onMessage(upd.Message)
	}
	if err != nil {
		return Result{}, err
	}
	tn.res.User, tn.res.New = tn.u, tn.new
	return tn.res, nil
}

// touch records the update and keeps the seller's profile current; a new seller gets the start
// bonus. Writing to the bot means the seller no longer blocks it.
func (tn *turn) touch() {
	u, from := &tn.u, tn.from()
	u.LastUpdate = tn.in.Update.ID
	u.SeenAt = tn.in.Now.UTC()
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
	tn.lang = u.Lang
	if tn.new && tn.cfg.StartCredits > 0 {
		tn.res.Effects = append(tn.res.Effects, Grant{Amount: tn.cfg.StartCredits, Key: StartBonusKey(u.ID), Note: "start bonus"})
		u.Balance += tn.cfg.StartCredits // what the grant will make it, for the greeting
	}
}

// StartBonusKey is the idempotency key of a seller's start bonus.
func StartBonusKey(uid int64) string { return "start:" + itoa(uid) }

func (tn *turn) from() *models.User {
	upd := tn.in.Update
	switch {
	case upd.Message != nil:
		return upd.Message.From
	case upd.CallbackQuery != nil:
		return &upd.CallbackQuery.From
	}
	return nil
}

func (tn *turn) say(key texts.Key, kb telegram.Keyboard, args ...any) {
	tn.res.Replies = append(tn.res.Replies, Reply{Text: texts.T(tn.lang, key, args...), Keyboard: kb})
}

func (tn *turn) note(msg string, attrs ...any) {
	tn.res.Notes = append(tn.res.Notes, Note{Msg: msg, Attrs: attrs})
}

func (tn *turn) alarm(msg string, attrs ...any) {
	tn.res.Notes = append(tn.res.Notes, Note{Msg: msg, Error: true, Attrs: attrs})
}

// PhotoLimits are the configured limits of a seller's photo.
func PhotoLimits(cfg config.Config) photo.Limits {
	l := cfg.Limits
	return photo.Limits{MaxBytes: l.MaxPhotoBytes, MinSide: l.MinPhotoSide, MaxSide: l.MaxPhotoSide, MaxPixels: l.MaxPhotoPixels}
}
