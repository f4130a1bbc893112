package actors

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-telegram/bot/models"

	"neurocards/config"
	"neurocards/messages"
	"neurocards/store"
	"neurocards/telegram"
	"neurocards/texts"
)

func (tn *turn) onCommand(text string) error {
	cmd, arg := splitCommand(text)
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
		return tn.balance()
	case "history":
		return tn.history()
	case "buy":
		tn.buy()
	case "lang":
		switch l := strings.ToLower(arg); {
		case l == "":
			tn.say(texts.LangPrompt, langKeyboard())
		case strings.HasPrefix(l, "ru") || strings.HasPrefix(l, "рус"):
			tn.setLang(texts.RU)
		case strings.HasPrefix(l, "en") || strings.HasPrefix(l, "англ"):
			tn.setLang(texts.EN)
		default:
			tn.say(texts.LangPrompt, langKeyboard())
		}
	case "help":
		tn.help()
	default:
		tn.menu(texts.UnknownInput)
	}
	return nil
}

// splitCommand splits "/cmd@bot arg text" into "cmd" and "arg text".
func splitCommand(text string) (string, string) {
	cmd, arg, _ := strings.Cut(strings.TrimPrefix(text, "/"), " ")
	cmd, _, _ = strings.Cut(strings.ToLower(cmd), "@")
	return cmd, strings.TrimSpace(arg)
}

func (tn *turn) setLang(lang string) {
	u := &tn.t.User
	u.Lang, u.LangChosen, tn.lang = lang, true, lang
	tn.menu(texts.LangSet)
}

// balance shows the balance, what jobs in flight hold, and the last ten ledger rows in words.
func (tn *turn) balance() error {
	u := tn.t.User
	text := texts.T(tn.lang, texts.Balance, texts.Credits(tn.lang, u.Balance), texts.Credits(tn.lang, u.Held), texts.Credits(tn.lang, u.Available()))
	rows, err := tn.t.Ledger(10)
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		text += texts.T(tn.lang, texts.BalanceNoRows)
	} else {
		lines := make([]string, 0, len(rows))
		for _, e := range rows {
			line, err := tn.ledgerRow(e)
			if err != nil {
				return err
			}
			lines = append(lines, line)
		}
		text += texts.T(tn.lang, texts.BalanceRows, strings.Join(lines, "\n"))
	}
	tn.replies = append(tn.replies, reply{text: text, kb: balanceKeyboard(tn.lang)})
	return nil
}

// ledgerRow says what one ledger row did, in plain words, with its date.
func (tn *turn) ledgerRow(e store.Entry) (string, error) {
	lang := tn.lang
	job := func() (string, error) {
		j, ok, err := tn.t.Job(e.JobID)
		if err != nil || !ok {
			return texts.T(lang, texts.JobRef, "", e.JobID), err
		}
		return texts.T(lang, texts.JobRef, tn.kindTitle(j.Kind), j.ID), nil
	}
	var (
		line string
		err  error
		ref  string
	)
	if e.JobID != 0 {
		if ref, err = job(); err != nil {
			return "", err
		}
	}
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

func (tn *turn) kindTitle(id string) string {
	if k, ok := tn.s.d.Config.Kind(id); ok {
		return k.TitleIn(tn.lang)
	}
	return id
}

// history shows the last ten jobs — kind, state, cost — with a button to run each again.
func (tn *turn) history() error {
	jobs, err := tn.t.Jobs(10)
	if err != nil {
		return err
	}
	if len(jobs) == 0 {
		tn.menu(texts.HistoryEmpty)
		return nil
	}
	lines := make([]string, 0, len(jobs))
	for _, j := range jobs {
		lines = append(lines, jobLine(tn.s.d.Config, tn.lang, j, tn.t.KeyExists(store.RefundJobKey(j.ID))))
	}
	tn.say(texts.HistoryTitle, historyKeyboard(tn.lang, jobs), strings.Join(lines, "\n\n"))
	return nil
}

// jobLine is one job in a history: number, kind, date, state and what it cost. refunded says an
// operator gave a delivered job's price back.
func jobLine(cfg config.Config, lang string, j messages.Job, refunded bool) string {
	title := j.Kind
	if k, ok := cfg.Kind(j.Kind); ok {
		title = k.TitleIn(lang)
	}
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
	return texts.T(lang, texts.HistoryLine, j.ID, title, texts.Date(lang, j.CreatedAt), state, cost)
}

func (tn *turn) help() {
	cfg := tn.s.d.Config
	var prices, packs []string
	for _, k := range cfg.Kinds {
		prices = append(prices, "• "+texts.T(tn.lang, texts.KindButton, k.TitleIn(tn.lang), texts.Credits(tn.lang, k.Price)))
	}
	for _, p := range cfg.Packs {
		packs = append(packs, "• "+texts.T(tn.lang, texts.PackButton, texts.Credits(tn.lang, p.Credits), p.Stars))
	}
	tn.menu(texts.Help, cfg.Limits.MinPhotoSide, cfg.Limits.MaxPhotoBytes>>20, strings.Join(prices, "\n"), strings.Join(packs, "\n"))
}

// buy offers the credit packs.
func (tn *turn) buy() {
	tn.say(texts.BuyPrompt, packsKeyboard(tn.s.d.Config, tn.lang), texts.Credits(tn.lang, tn.t.User.Available()))
}

// invoice sends a Stars invoice for the pack. Its payload names the pack and this update, so the
// pre-checkout can check it against the configuration and a log line leads back here.
func (tn *turn) invoice(p config.Pack) {
	credits := texts.Credits(tn.lang, p.Credits)
	tn.replies = append(tn.replies, reply{invoice: &telegram.Invoice{
		Title:       texts.T(tn.lang, texts.InvoiceTitle, credits),
		Description: texts.T(tn.lang, texts.InvoiceDescription, credits),
		Payload:     invoicePayload(p.ID, strconv.FormatInt(tn.update.ID, 36)),
		Label:       credits,
		Stars:       p.Stars,
	}})
}

// onPayment credits a paid pack, once per telegram_payment_charge_id: a replayed payment credits
// nothing and gets no second receipt.
func (tn *turn) onPayment(sp *models.SuccessfulPayment) error {
	d := tn.s.d
	id, _ := payloadPack(sp.InvoicePayload)
	pack, known := d.Config.Pack(id)
	var credits int64
	if known {
		credits = pack.Credits
	}
	note := fmt.Sprintf("%s, %d %s", sp.InvoicePayload, sp.TotalAmount, sp.Currency)
	_, err := tn.t.Purchase(sp.TelegramPaymentChargeID, credits, note)
	if errors.Is(err, store.ErrDuplicate) {
		d.Log.Info("payment seen before; nothing credited", "user_id", tn.s.uid, "charge_id", sp.TelegramPaymentChargeID)
		return nil
	}
	if err != nil {
		return err
	}
	d.Metrics.Purchase(id, credits)
	if !known {
		d.Log.Error("payment for an unknown pack; credit it or refund the Stars by hand", "user_id", tn.s.uid,
			"charge_id", sp.TelegramPaymentChargeID, "payload", sp.InvoicePayload, "stars", sp.TotalAmount)
		tn.say(texts.PaymentUnknownPack, nil, sp.TotalAmount)
		return nil
	}
	d.Log.Info("credits bought", "user_id", tn.s.uid, "pack", id, "credits", credits, "stars", sp.TotalAmount, "charge_id", sp.TelegramPaymentChargeID)
	tn.menu(texts.Receipt, texts.Credits(tn.lang, credits), texts.Credits(tn.lang, tn.t.User.Available()))
	return nil
}
