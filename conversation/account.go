package conversation

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/go-telegram/bot/models"

	"neurocards/config"
	"neurocards/keyboard"
	"neurocards/messages"
	"neurocards/store"
	"neurocards/telegram"
	"neurocards/texts"
)

func (tn *turn) onCommand(text string) error {
	cmd, arg := SplitCommand(text)
	u := &tn.u
	switch cmd {
	case "start":
		u.Draft = store.Draft{}
		name := u.FirstName
		if name == "" {
			name = "👤"
		}
		if tn.new {
			tn.menu(texts.GreetingNew, name, texts.Credits(tn.lang, tn.cfg.StartCredits), texts.Credits(tn.lang, u.Balance))
		} else {
			tn.menu(texts.Greeting, name, texts.Credits(tn.lang, u.Available()))
		}
	case "menu":
		tn.menu(texts.MenuPrompt, texts.Credits(tn.lang, u.Available()))
	case "balance":
		return tn.balance()
	case "history":
		return tn.history()
	case "buy":
		tn.buy()
	case "lang":
		switch l := strings.ToLower(arg); {
		case strings.HasPrefix(l, "ru") || strings.HasPrefix(l, "рус"):
			tn.setLang(texts.RU)
		case strings.HasPrefix(l, "en") || strings.HasPrefix(l, "англ"):
			tn.setLang(texts.EN)
		default:
			tn.say(texts.LangPrompt, keyboard.Languages())
		}
	case "help":
		tn.help()
	default:
		tn.menu(texts.UnknownInput)
	}
	return nil
}

// SplitCommand splits "/cmd@bot arg text" into "cmd" and "arg text".
func SplitCommand(text string) (string, string) {
	cmd, arg, _ := strings.Cut(strings.TrimPrefix(strings.TrimSpace(text), "/"), " ")
	cmd, _, _ = strings.Cut(strings.ToLower(cmd), "@")
	return cmd, strings.TrimSpace(arg)
}

func (tn *turn) setLang(lang string) {
	u := &tn.u
	u.Lang, u.LangChosen, tn.lang = lang, true, lang
	tn.menu(texts.LangSet)
}

// balance shows the balance, what jobs in flight hold, and the last ten ledger rows in words.
func (tn *turn) balance() error {
	u := tn.u
	text := texts.T(tn.lang, texts.Balance, texts.Credits(tn.lang, u.Balance), texts.Credits(tn.lang, u.Held), texts.Credits(tn.lang, u.Available()))
	rows, err := tn.facts.Ledger(10)
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		text += texts.T(tn.lang, texts.BalanceNoRows)
	} else {
		lines := make([]string, 0, len(rows))
		for _, e := range rows {
			line, err := LedgerLine(tn.cfg, tn.lang, e, tn.facts.Job)
			if err != nil {
				return err
			}
			lines = append(lines, line)
		}
		text += texts.T(tn.lang, texts.BalanceRows, strings.Join(lines, "\n"))
	}
	tn.res.Replies = append(tn.res.Replies, Reply{Text: text, Keyboard: keyboard.BalanceMenu(tn.lang)})
	return nil
}

// LedgerLine says what one ledger row did, in plain words, with its date. job looks up the job a
// row names.
func LedgerLine(cfg config.Config, lang string, e store.Entry, job func(uint64) (messages.Job, bool, error)) (string, error) {
	var ref string
	if e.JobID != 0 {
		j, ok, err := job(e.JobID)
		if err != nil {
			return "", err
		}
		ref = texts.T(lang, texts.JobRef, "", e.JobID)
		if ok {
			ref = texts.T(lang, texts.JobRef, KindTitle(cfg, lang, j.Kind), j.ID)
		}
	}
	var line string
	switch e.Type {
	case store.EntryGrant:
		line = texts.T(lang, texts.RowGrant, e.Amount)
	case store.EntryPurchase:
		line = texts.T(lang, texts.RowPurchase, e.Amount)
	case store.EntryHold:
		line = texts.T(lang, texts.RowHold, e.Held, ref)
	case store.EntryCapture:
		line = texts.T(lang, texts.RowCapture, -e.Amount, ref)
	case store.EntryRelease:
		line = texts.T(lang, texts.RowRelease, -e.Held, ref)
	default:
		switch {
		case e.JobID != 0 && e.Key == store.RefundJobKey(e.JobID):
			line = texts.T(lang, texts.RowRefundJob, e.Amount, ref)
		case strings.HasPrefix(e.Key, store.ChargeBackKey("")) && e.Amount < 0:
			line = texts.T(lang, texts.RowChargeBack, -e.Amount)
		case e.Amount >= 0:
			line = texts.T(lang, texts.RowAdjustIn, e.Amount)
		default:
			line = texts.T(lang, texts.RowAdjustOut, -e.Amount)
		}
	}
	return texts.T(lang, texts.RowDated, line, texts.Date(lang, e.At)), nil
}

// KindTitle is a kind's title in lang, or its id when the kind is no longer configured.
func KindTitle(cfg config.Config, lang, id string) string {
	if k, ok := cfg.Kind(id); ok {
		return k.TitleIn(lang)
	}
	return id
}

// history shows the last ten jobs — kind, state, cost — with a button to run each again.
func (tn *turn) history() error {
	jobs, err := tn.facts.Jobs(10)
	if err != nil {
		return err
	}
	if len(jobs) == 0 {
		tn.menu(texts.HistoryEmpty)
		return nil
	}
	lines := make([]string, 0, len(jobs))
	for _, j := range jobs {
		lines = append(lines, JobLine(tn.cfg, tn.lang, j, tn.facts.KeyExists(store.RefundJobKey(j.ID))))
	}
	tn.say(texts.HistoryTitle, keyboard.HistoryMenu(tn.lang, jobs), strings.Join(lines, "\n\n"))
	return nil
}

// JobLine is one job in a history: number, kind, date, state and what it cost. refunded says an
// operator gave a delivered job's price back.
func JobLine(cfg config.Config, lang string, j messages.Job, refunded bool) string {
	price := texts.Credits(lang, j.Price)
	var state, cost string
	switch {
	case j.Outcome == messages.OutcomeDone && refunded:
		state, cost = texts.T(lang, texts.StateOperatorBack), texts.T(lang, texts.CostReturned, price)
	case j.Outcome == messages.OutcomeDone:
		state, cost = texts.T(lang, texts.StateDelivered), texts.T(lang, texts.CostCharged, price)
	case j.Outcome == messages.OutcomeFailed:
		f := messages.Failure{Reason: messages.ReasonInternal}
		if j.Failure != nil {
			f = *j.Failure
		}
		state, cost = texts.T(lang, texts.StateRefunded, texts.T(lang, texts.WhyKey(f))), texts.T(lang, texts.CostReturned, price)
	default:
		state, cost = texts.T(lang, texts.StateInProgress), texts.T(lang, texts.CostHeld, price)
	}
	return texts.T(lang, texts.HistoryLine, j.ID, KindTitle(cfg, lang, j.Kind), texts.Date(lang, j.CreatedAt), state, cost)
}

func (tn *turn) help() {
	var prices, packs []string
	for _, k := range tn.cfg.Kinds {
		prices = append(prices, "• "+texts.T(tn.lang, texts.KindButton, k.TitleIn(tn.lang), texts.Credits(tn.lang, k.Price)))
	}
	for _, p := range tn.cfg.Packs {
		packs = append(packs, "• "+texts.T(tn.lang, texts.PackButton, texts.Credits(tn.lang, p.Credits), p.Stars))
	}
	l := tn.cfg.Limits
	tn.menu(texts.Help, l.MinPhotoSide, l.MaxPhotoBytes>>20, strings.Join(prices, "\n"), strings.Join(packs, "\n"))
}

// buy offers the credit packs.
func (tn *turn) buy() {
	tn.say(texts.BuyPrompt, keyboard.Packs(tn.cfg, tn.lang), texts.Credits(tn.lang, tn.u.Available()))
}

// invoice sends a Stars invoice for the pack. Its payload names the pack and this update, so the
// pre-checkout can check it against the configuration and a log line leads back here.
func (tn *turn) invoice(p config.Pack) {
	credits := texts.Credits(tn.lang, p.Credits)
	tn.res.Replies = append(tn.res.Replies, Reply{Invoice: &telegram.Invoice{
		Title:       texts.T(tn.lang, texts.InvoiceTitle, credits),
		Description: texts.T(tn.lang, texts.InvoiceDescription, credits),
		Payload:     keyboard.InvoicePayload(p.ID, strconv.FormatInt(tn.in.Update.ID, 36)),
		Label:       credits,
		Stars:       p.Stars,
	}})
}

// CheckoutRefusal is why an invoice may not be paid — a pack no longer sold, or a price or
// currency that is not the pack's — or "" when it may. The pre-checkout and the successful
// payment both ask it.
func CheckoutRefusal(cfg config.Config, payload, currency string, amount int) (config.Pack, texts.Key) {
	id, ok := keyboard.PayloadPack(payload)
	if !ok {
		return config.Pack{}, texts.PreCheckoutGone
	}
	p, ok := cfg.Pack(id)
	if !ok {
		return config.Pack{}, texts.PreCheckoutGone
	}
	if currency != telegram.Stars || amount != p.Stars {
		return p, texts.PreCheckoutPrice
	}
	return p, ""
}

// onPayment credits a paid pack, once per telegram_payment_charge_id: a replayed payment credits
// nothing and gets no second receipt. A payment that does not match its pack (Telegram sends one
// only after the pre-checkout agreed, so this is a second check) credits nothing and is left to
// the operator, who can refund the Stars.
func (tn *turn) onPayment(sp *models.SuccessfulPayment) error {
	charge := sp.TelegramPaymentChargeID
	if charge == "" || tn.facts.KeyExists(store.PurchaseKey(charge)) {
		tn.note("payment seen before (or without a charge id); nothing credited", "charge_id", charge)
		return nil
	}
	pack, refusal := CheckoutRefusal(tn.cfg, sp.InvoicePayload, sp.Currency, sp.TotalAmount)
	note := fmt.Sprintf("%s, %d %s", sp.InvoicePayload, sp.TotalAmount, sp.Currency)
	if refusal != "" {
		tn.alarm("payment does not match its pack; nothing credited — credit it or refund the Stars by hand",
			"charge_id", charge, "payload", sp.InvoicePayload, "currency", sp.Currency, "amount", sp.TotalAmount, "why", string(refusal))
		tn.res.Effects = append(tn.res.Effects, Purchase{Charge: charge, Credits: 0, Note: note})
		tn.say(texts.PaymentUnknownPack, nil, sp.TotalAmount)
		return nil
	}
	tn.res.Effects = append(tn.res.Effects, Purchase{Charge: charge, Pack: pack.ID, Credits: pack.Credits, Note: note})
	tn.u.Balance += pack.Credits // what the purchase row will make it
	tn.note("credits bought", "pack", pack.ID, "credits", pack.Credits, "stars", sp.TotalAmount, "charge_id", charge)
	tn.menu(texts.Receipt, texts.Credits(tn.lang, pack.Credits), texts.Credits(tn.lang, tn.u.Available()))
	return nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
