package conversation

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"

	"neurocards/config"
	"neurocards/keyboard"
	"neurocards/messages"
	"neurocards/photo"
	"neurocards/store"
	"neurocards/telegram"
)

var now = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// facts is the conversation's lookups answered from memory.
type facts struct {
	jobs     []messages.Job // newest first
	ledger   []store.Entry
	keys     map[string]bool
	inFlight int
}

func (f facts) Job(id uint64) (messages.Job, bool, error) {
	for _, j := range f.jobs {
		if j.ID == id {
			return j, true, nil
		}
	}
	return messages.Job{}, false, nil
}
func (f facts) Jobs(limit int) ([]messages.Job, error) { return f.jobs[:min(limit, len(f.jobs))], nil }
func (f facts) Ledger(limit int) ([]store.Entry, error) {
	return f.ledger[:min(limit, len(f.ledger))], nil
}
func (f facts) KeyExists(key string) bool { return f.keys[key] }
func (f facts) InFlight() (int, error)    { return f.inFlight, nil }

const uid = 42

func seller(mods ...func(*store.User)) store.User {
	u := store.User{ID: uid, FirstName: "Анна", Lang: "ru", Balance: 20, LastUpdate: 10, CreatedAt: now.Add(-time.Hour)}
	for _, m := range mods {
		m(&u)
	}
	return u
}

func draft(step store.DraftStep, mods ...func(*store.Draft)) func(*store.User) {
	return func(u *store.User) {
		u.DraftSeq = 5
		u.Draft = store.Draft{ID: 5, Kind: "card", Step: step}
		if step == store.DraftText || step == store.DraftConfirm || step == store.DraftConsumed {
			u.Draft.Photo = messages.Photo{FileID: "ph", Width: 800, Height: 800, Size: 1000, Mime: "image/jpeg"}
		}
		for _, m := range mods {
			m(&u.Draft)
		}
	}
}

var from = &models.User{ID: uid, FirstName: "Анна", LanguageCode: "ru"}

func text(s string) *models.Update {
	return &models.Update{ID: 11, Message: &models.Message{ID: 100, From: from, Chat: models.Chat{ID: uid, Type: models.ChatTypePrivate}, Text: s}}
}

func tap(data string, messageID int) *models.Update {
	cq := &models.CallbackQuery{ID: "cq", From: *from, Data: data}
	if messageID >= 0 {
		cq.Message = models.MaybeInaccessibleMessage{Type: models.MaybeInaccessibleMessageTypeMessage,
			Message: &models.Message{ID: messageID, Chat: models.Chat{ID: uid, Type: models.ChatTypePrivate}}}
	} else {
		cq.Message = models.MaybeInaccessibleMessage{Type: models.MaybeInaccessibleMessageTypeInaccessibleMessage,
			InaccessibleMessage: &models.InaccessibleMessage{Chat: models.Chat{ID: uid, Type: models.ChatTypePrivate}}}
	}
	return &models.Update{ID: 11, CallbackQuery: cq}
}

func photoMsg(w, h int, size int) *models.Update {
	u := text("")
	u.Message.Photo = []models.PhotoSize{{FileID: "small", Width: 90, Height: 90}, {FileID: "big", FileUniqueID: "u", Width: w, Height: h, FileSize: size}}
	return u
}

func document(mime string, size int64) *models.Update {
	u := text("")
	u.Message.Document = &models.Document{FileID: "doc", MimeType: mime, FileSize: size}
	return u
}

func payment(payload, currency string, amount int, charge string) *models.Update {
	u := text("")
	u.Message.SuccessfulPayment = &models.SuccessfulPayment{InvoicePayload: payload, Currency: currency, TotalAmount: amount, TelegramPaymentChargeID: charge}
	return u
}

func failedJob(id uint64, retriedBy uint64) messages.Job {
	return messages.Job{ID: id, UserID: uid, Kind: "card", Price: 3, Outcome: messages.OutcomeFailed, RetriedBy: retriedBy,
		Failure: &messages.Failure{Class: messages.User, Reason: messages.ReasonContentPolicy}, Photo: messages.Photo{FileID: "ph"}, Product: "Свеча"}
}

func doneJob(id uint64) messages.Job {
	return messages.Job{ID: id, UserID: uid, Kind: "card", Price: 3, Outcome: messages.OutcomeDone, Photo: messages.Photo{FileID: "ph"}, Product: "Свеча"}
}

func TestHandle(t *testing.T) {
	cfg := config.Defaults()
	type check func(t *testing.T, r Result)
	says := func(part string) check {
		return func(t *testing.T, r Result) {
			for _, rp := range r.Replies {
				if strings.Contains(rp.Text, part) {
					return
				}
			}
			t.Errorf("no reply says %q: %q", part, replyTexts(r))
		}
	}
	button := func(data string) check {
		return func(t *testing.T, r Result) {
			for _, rp := range r.Replies {
				for _, row := range rp.Keyboard {
					for _, b := range row {
						if strings.HasPrefix(b.Data, data) {
							return
						}
					}
				}
			}
			t.Errorf("no reply has a button %q", data)
		}
	}
	starts := func(n int) check {
		return func(t *testing.T, r Result) {
			got := 0
			for _, e := range r.Effects {
				if _, ok := e.(StartJob); ok {
					got++
				}
			}
			if got != n {
				t.Errorf("jobs started: %d, want %d", got, n)
			}
		}
	}
	step := func(want store.DraftStep) check {
		return func(t *testing.T, r Result) {
			if r.User.Draft.Step != want {
				t.Errorf("draft step %q, want %q", r.User.Draft.Step, want)
			}
		}
	}
	money := func(balance, held int64) check {
		return func(t *testing.T, r Result) {
			if r.User.Balance != balance || r.User.Held != held {
				t.Errorf("balance/held after: %d/%d, want %d/%d", r.User.Balance, r.User.Held, balance, held)
			}
		}
	}
	effect := func(want Effect) check {
		return func(t *testing.T, r Result) {
			for _, e := range r.Effects {
				if e == want {
					return
				}
			}
			t.Errorf("effects %#v lack %#v", r.Effects, want)
		}
	}
	noEffects := func(t *testing.T, r Result) {
		if len(r.Effects) != 0 {
			t.Errorf("effects: %#v", r.Effects)
		}
	}
	cases := []struct {
		name   string
		u      store.User
		exists bool
		facts  facts
		in     Input
		checks []check
	}{
		// Starting.
		{"a new seller is greeted with the start bonus",
			store.User{ID: uid, CreatedAt: now}, false, facts{}, Input{Update: text("/start")},
			[]check{says("Дарю 20 кредитов"), button("k:card"), money(20, 0), effect(Grant{Amount: 20, Key: "start:42", Note: "start bonus"})}},
		{"a known seller is greeted with their balance",
			seller(), true, facts{}, Input{Update: text("/start")},
			[]check{says("Баланс: 20 кредитов"), noEffects}},
		{"an English seller is answered in English",
			seller(func(u *store.User) { u.Lang = "en" }), true, facts{}, Input{Update: func() *models.Update {
				u := text("/menu")
				u.Message.From = &models.User{ID: uid, LanguageCode: "en-GB"}
				return u
			}()},
			[]check{says("credits")}},
		{"a chosen language outlasts Telegram's",
			seller(func(u *store.User) { u.Lang, u.LangChosen = "en", true }), true, facts{}, Input{Update: text("/menu")},
			[]check{says("credits")}},
		{"/lang en switches the language",
			seller(), true, facts{}, Input{Update: text("/lang en")},
			[]check{says("English"), func(t *testing.T, r Result) {
				if r.User.Lang != "en" || !r.User.LangChosen {
					t.Errorf("lang %q chosen %v", r.User.Lang, r.User.LangChosen)
				}
			}}},
		{"an update seen before does nothing",
			seller(func(u *store.User) { u.LastUpdate = 11 }), true, facts{}, Input{Update: text("/start")},
			[]check{func(t *testing.T, r Result) {
				if !r.Seen || len(r.Replies) != 0 {
					t.Errorf("seen %v replies %d", r.Seen, len(r.Replies))
				}
			}}},
		{"writing again means the seller no longer blocks the bot",
			seller(func(u *store.User) { u.Blocked = true }), true, facts{}, Input{Update: text("/menu")},
			[]check{func(t *testing.T, r Result) {
				if r.User.Blocked || r.User.LastUpdate != 11 {
					t.Errorf("blocked %v last update %d", r.User.Blocked, r.User.LastUpdate)
				}
			}}},
		{"an unknown command shows the menu",
			seller(), true, facts{}, Input{Update: text("/nope")},
			[]check{button("k:video")}},

		// Ordering.
		{"a kind starts a draft that asks for the photo",
			seller(), true, facts{}, Input{Update: tap(keyboard.Kind.Data("card"), 7)},
			[]check{says("📸"), step(store.DraftPhoto), func(t *testing.T, r Result) {
				if r.User.Draft.ID != 1 || r.User.DraftSeq != 1 {
					t.Errorf("draft %d seq %d", r.User.Draft.ID, r.User.DraftSeq)
				}
			}}},
		{"a kind no longer sold is a stale button",
			seller(), true, facts{}, Input{Update: tap(keyboard.Kind.Data("gone"), 7)},
			[]check{says("устарела"), step(store.DraftNone)}},
		{"a good photo asks for the product text",
			seller(draft(store.DraftPhoto)), true, facts{}, Input{Update: photoMsg(800, 1000, 50000)},
			[]check{says("Напишите название"), button("skip:5"), step(store.DraftText)}},
		{"a small photo is refused before anything is held",
			seller(draft(store.DraftPhoto)), true, facts{}, Input{Update: photoMsg(200, 1000, 5000)},
			[]check{says("слишком маленькое: 200×1000"), step(store.DraftPhoto), noEffects}},
		{"an oversized photo file is refused",
			seller(draft(store.DraftPhoto)), true, facts{}, Input{Update: document("image/png", 11<<20)},
			[]check{says("слишком"), step(store.DraftPhoto), noEffects}},
		{"an image sent as a file is measured first",
			seller(draft(store.DraftPhoto)), true, facts{}, Input{Update: document("image/png", 5000)},
			[]check{effect(MeasurePhoto{Photo: messages.Photo{FileID: "doc", Size: 5000, Mime: "image/png"}})}},
		{"a measured image is judged by what its header says",
			seller(draft(store.DraftPhoto)), true, facts{}, Input{Update: document("image/png", 5000), Measured: &Measured{Width: 1200, Height: 900}},
			[]check{step(store.DraftText), func(t *testing.T, r Result) {
				if p := r.User.Draft.Photo; p.Width != 1200 || p.Height != 900 {
					t.Errorf("photo %+v", p)
				}
			}}},
		{"a header claiming 100000×100000 pixels is refused, not trusted",
			seller(draft(store.DraftPhoto)), true, facts{}, Input{Update: document("image/png", 56), Measured: &Measured{Width: 100000, Height: 100000}},
			[]check{says("слишком большое"), step(store.DraftPhoto), noEffects}},
		{"an unreadable file is refused",
			seller(draft(store.DraftPhoto)), true, facts{}, Input{Update: document("image/png", 56), Measured: &Measured{Err: photo.ErrUnreadable}},
			[]check{says("открыть этот файл"), step(store.DraftPhoto)}},
		{"a file Telegram says is too large is refused",
			seller(draft(store.DraftPhoto)), true, facts{}, Input{Update: document("image/png", 56), Measured: &Measured{Err: telegram.ErrTooLarge}},
			[]check{says("слишком"), step(store.DraftPhoto)}},
		{"text where a photo is expected asks for the photo",
			seller(draft(store.DraftPhoto)), true, facts{}, Input{Update: text("вот")},
			[]check{step(store.DraftPhoto)}},
		{"the product text leads to the confirmation with the price",
			seller(draft(store.DraftText)), true, facts{}, Input{Update: text("Свеча ручной работы")},
			[]check{says("Свеча ручной работы"), says("3 кредита"), button("ok:5"), button("no:5"), step(store.DraftConfirm)}},
		{"a product text over the limit is refused",
			seller(draft(store.DraftText)), true, facts{}, Input{Update: text(strings.Repeat("я", 1001))},
			[]check{says("1001"), step(store.DraftText)}},
		{"skip confirms without a product text",
			seller(draft(store.DraftText)), true, facts{}, Input{Update: tap(keyboard.Skip.ID(5), 8)},
			[]check{button("ok:5"), step(store.DraftConfirm)}},
		{"a skip from an older draft is stale",
			seller(draft(store.DraftText)), true, facts{}, Input{Update: tap(keyboard.Skip.ID(4), 8)},
			[]check{says("устарела"), step(store.DraftText)}},
		{"not enough credits offers a top-up instead of the confirmation",
			seller(draft(store.DraftText), func(u *store.User) { u.Balance = 2 }), true, facts{}, Input{Update: text("Свеча")},
			[]check{button("buy"), step(store.DraftText)}},
		{"Generate holds the price and starts the job",
			seller(draft(store.DraftConfirm)), true, facts{}, Input{Update: tap(keyboard.Generate.ID(5), 9)},
			[]check{starts(1), step(store.DraftConsumed), money(20, 3), func(t *testing.T, r Result) {
				j := r.Effects[0].(StartJob)
				if j.Job.Kind != "card" || j.Job.Price != 3 || j.Job.ChatID != uid || !j.FromDraft || j.Job.Photo.FileID != "ph" {
					t.Errorf("job %+v", j)
				}
			}}},
		{"a second tap on Generate starts nothing",
			seller(draft(store.DraftConsumed)), true, facts{}, Input{Update: tap(keyboard.Generate.ID(5), 9)},
			[]check{says("уже"), starts(0), money(20, 0)}},
		{"Generate on an older draft is stale",
			seller(draft(store.DraftConfirm)), true, facts{}, Input{Update: tap(keyboard.Generate.ID(3), 9)},
			[]check{says("устарела"), starts(0)}},
		{"Generate past the limit of jobs in flight starts nothing",
			seller(draft(store.DraftConfirm)), true, facts{inFlight: 2}, Input{Update: tap(keyboard.Generate.ID(5), 9)},
			[]check{starts(0), step(store.DraftConfirm)}},
		{"Generate when the credits went meanwhile offers a top-up",
			seller(draft(store.DraftConfirm), func(u *store.User) { u.Held = 18 }), true, facts{}, Input{Update: tap(keyboard.Generate.ID(5), 9)},
			[]check{starts(0), button("buy")}},
		{"the confirmation shows the wait when there is a queue",
			seller(draft(store.DraftText)), true, facts{}, Input{Update: text("Свеча"), Wait: 3 * time.Minute},
			[]check{says("очередь: старт примерно через 3 мин"), step(store.DraftConfirm)}},
		{"Generate when the queue outlasts the deadline holds nothing and says when to try",
			seller(draft(store.DraftConfirm)), true, facts{}, Input{Update: tap(keyboard.Generate.ID(5), 9), Wait: 40 * time.Minute},
			[]check{starts(0), money(20, 0), step(store.DraftConfirm), says("слишком много заказов"), says("11 мин")}},
		{"Cancel drops the draft",
			seller(draft(store.DraftConfirm)), true, facts{}, Input{Update: tap(keyboard.Cancel.ID(5), 9)},
			[]check{says("Отменил"), step(store.DraftNone)}},
		{"Cancel after Generate is stale",
			seller(draft(store.DraftConsumed)), true, facts{}, Input{Update: tap(keyboard.Cancel.ID(5), 9)},
			[]check{says("устарела"), step(store.DraftConsumed)}},

		// Again, redo, retry.
		{"again starts another job with the same photo and text",
			seller(), true, facts{jobs: []messages.Job{doneJob(3)}}, Input{Update: tap(keyboard.AgainData("card", 3), 50)},
			[]check{starts(1), func(t *testing.T, r Result) {
				if len(r.User.Repeated) != 1 || r.User.Repeated[0] != 50 {
					t.Errorf("repeated %v", r.User.Repeated)
				}
			}}},
		{"the same again button twice starts one job",
			seller(func(u *store.User) { u.Repeated = []int{50} }), true, facts{jobs: []messages.Job{doneJob(3)}}, Input{Update: tap(keyboard.AgainData("card", 3), 50)},
			[]check{starts(0), says("уже")}},
		{"again from a message Telegram no longer shows is remembered by its job",
			seller(), true, facts{jobs: []messages.Job{doneJob(3)}}, Input{Update: tap(keyboard.AgainData("card", 3), -1)},
			[]check{starts(1), func(t *testing.T, r Result) {
				if len(r.User.RepeatedJobs) != 1 || r.User.RepeatedJobs[0] != 3 || len(r.User.Repeated) != 0 {
					t.Errorf("repeated %v / jobs %v", r.User.Repeated, r.User.RepeatedJobs)
				}
			}}},
		{"a second tap of an inaccessible again button starts nothing",
			seller(func(u *store.User) { u.RepeatedJobs = []uint64{3} }), true, facts{jobs: []messages.Job{doneJob(3)}}, Input{Update: tap(keyboard.AgainData("card", 3), -1)},
			[]check{starts(0), says("уже")}},
		{"again of another seller's job starts nothing",
			seller(), true, facts{}, Input{Update: tap(keyboard.AgainData("card", 99), 50)},
			[]check{starts(0)}},
		{"retry of a failed job starts one and marks it",
			seller(), true, facts{jobs: []messages.Job{failedJob(4, 0)}}, Input{Update: tap(keyboard.Retry.ID(4), 60)},
			[]check{starts(1), func(t *testing.T, r Result) {
				if j := r.Effects[0].(StartJob); j.Job.RetryOf != 4 {
					t.Errorf("retry of %d", j.Job.RetryOf)
				}
			}}},
		{"retry of a job already retried starts nothing",
			seller(), true, facts{jobs: []messages.Job{failedJob(4, 5)}}, Input{Update: tap(keyboard.Retry.ID(4), 60)},
			[]check{starts(0), says("уже")}},
		{"retry of a delivered job is stale",
			seller(), true, facts{jobs: []messages.Job{doneJob(4)}}, Input{Update: tap(keyboard.Retry.ID(4), 60)},
			[]check{starts(0), says("устарела")}},
		{"malformed callback data is a stale button",
			seller(), true, facts{}, Input{Update: tap("ok:-1", 9)},
			[]check{says("устарела"), noEffects}},
		{"oversized callback data is a stale button",
			seller(), true, facts{}, Input{Update: tap("k:"+strings.Repeat("a", 80), 9)},
			[]check{says("устарела"), noEffects}},

		// Money.
		{"/balance lists the ledger in words",
			seller(func(u *store.User) { u.Held = 3 }), true,
			facts{ledger: []store.Entry{{Type: store.EntryHold, Held: 3, JobID: 2, At: now}, {Type: store.EntryGrant, Amount: 20, At: now}}, jobs: []messages.Job{{ID: 2, UserID: uid, Kind: "card"}}},
			Input{Update: text("/balance")},
			[]check{says("20"), says("#2")}},
		{"/history lists jobs with their buttons",
			seller(), true, facts{jobs: []messages.Job{failedJob(4, 0), doneJob(3)}}, Input{Update: text("/history")},
			[]check{button("retry:4"), button("redo:3")}},
		{"a pack button sends its invoice",
			seller(), true, facts{}, Input{Update: tap(keyboard.Buy.Data("50"), 9)},
			[]check{func(t *testing.T, r Result) {
				if len(r.Replies) != 1 || r.Replies[0].Invoice == nil || r.Replies[0].Invoice.Stars != 225 {
					t.Errorf("replies %+v", r.Replies)
				}
			}}},
		{"a payment credits its pack once",
			seller(), true, facts{}, Input{Update: payment("pack:10:x", telegram.Stars, 50, "ch-1")},
			[]check{effect(Purchase{Charge: "ch-1", Pack: "10", Credits: 10, Note: "pack:10:x, 50 XTR"}), money(30, 0), says("10 кредитов")}},
		{"a replayed payment credits nothing",
			seller(), true, facts{keys: map[string]bool{store.PurchaseKey("ch-1"): true}}, Input{Update: payment("pack:10:x", telegram.Stars, 50, "ch-1")},
			[]check{noEffects, money(20, 0)}},
		{"a payment in the wrong currency credits nothing",
			seller(), true, facts{}, Input{Update: payment("pack:10:x", "USD", 50, "ch-2")},
			[]check{effect(Purchase{Charge: "ch-2", Credits: 0, Note: "pack:10:x, 50 USD"}), money(20, 0)}},
		{"a payment of the wrong amount credits nothing",
			seller(), true, facts{}, Input{Update: payment("pack:200:x", telegram.Stars, 1, "ch-3")},
			[]check{effect(Purchase{Charge: "ch-3", Credits: 0, Note: "pack:200:x, 1 XTR"}), money(20, 0)}},
		{"a payment for a pack no longer sold credits nothing",
			seller(), true, facts{}, Input{Update: payment("pack:gone:x", telegram.Stars, 50, "ch-4")},
			[]check{money(20, 0)}},

		// An operator's command the shell carried out.
		{"an answered operator command is recorded with its answer",
			seller(), true, facts{}, Input{Update: text("/grant 7 5"), Answered: []Reply{{Text: "Начислено"}}},
			[]check{says("Начислено"), noEffects, func(t *testing.T, r Result) {
				if r.User.LastUpdate != 11 || len(r.Replies) != 1 {
					t.Errorf("last update %d, replies %d", r.User.LastUpdate, len(r.Replies))
				}
			}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.in.Now = now
			r, err := Handle(cfg, c.u, c.exists, c.facts, c.in)
			if err != nil {
				t.Fatal(err)
			}
			for _, ch := range c.checks {
				ch(t, r)
			}
		})
	}
}

func TestHandleRefusesWhatHasNoChat(t *testing.T) {
	for _, u := range []*models.Update{nil, {ID: 1}, {ID: 1, PreCheckoutQuery: &models.PreCheckoutQuery{ID: "q"}}} {
		if _, err := Handle(config.Defaults(), seller(), true, facts{}, Input{Update: u, Now: now}); !errors.Is(err, ErrNoChat) {
			t.Errorf("%+v: %v", u, err)
		}
	}
}

func TestAdmit(t *testing.T) {
	var w Window
	var got []Admission
	for range 5 {
		var a Admission
		w, a = Admit(w, text("x"), now, 3, time.Minute)
		got = append(got, a)
	}
	want := []Admission{Admitted, Admitted, Admitted, Warn, Ignored}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("admissions %v, want %v", got, want)
		}
	}
	if _, a := Admit(w, payment("pack:10:x", telegram.Stars, 50, "c"), now, 3, time.Minute); a != Admitted {
		t.Error("a payment was limited")
	}
	if _, a := Admit(w, text("x"), now.Add(time.Minute), 3, time.Minute); a != Admitted {
		t.Error("a new window did not admit")
	}
}

func replyTexts(r Result) []string {
	var out []string
	for _, rp := range r.Replies {
		out = append(out, rp.Text)
	}
	return out
}
