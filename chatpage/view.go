package chatpage

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"neurocards/app"
	"neurocards/testkit/tgfake"
)

// chatView is everything the page shows for one seller; the browser gets a new one whenever it
// changes.
type chatView struct {
	Seller   Seller        `json:"seller"`
	Messages []messageView `json:"messages"`
	Commands []commandView `json:"commands"`
	Account  *accountView  `json:"account"` // nil until the seller has talked to the bot
	Bot      botView       `json:"bot"`
	Faults   faultsView    `json:"faults"`
	Activity []activity    `json:"activity"` // newest first
	Toasts   []toast       `json:"toasts"`
	Action   *chatAction   `json:"action,omitempty"`
}

// messageView is one message as Telegram shows it.
type messageView struct {
	ID      int            `json:"id"`
	FromBot bool           `json:"from_bot"`
	Service bool           `json:"service,omitempty"` // a line Telegram itself posts (a refund)
	Text    string         `json:"text,omitempty"`
	Caption string         `json:"caption,omitempty"`
	Media   *mediaView     `json:"media,omitempty"`
	Invoice *invoiceView   `json:"invoice,omitempty"`
	Payment *paymentView   `json:"payment,omitempty"`
	Buttons [][]buttonView `json:"buttons,omitempty"`
	Edited  bool           `json:"edited,omitempty"`
	Time    string         `json:"time"`
}

type mediaView struct {
	Kind string `json:"kind"` // photo, video, document
	URL  string `json:"url"`
	Name string `json:"name,omitempty"`
	Size int64  `json:"size"`
}

type invoiceView struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	Amount      int    `json:"amount"`
	Currency    string `json:"currency"`
	Paid        bool   `json:"paid"`
}

type paymentView struct {
	Amount   int    `json:"amount"`
	Currency string `json:"currency"`
	Refunded bool   `json:"refunded"`
}

type buttonView struct {
	Text string `json:"text"`
	Data string `json:"data,omitempty"`
	URL  string `json:"url,omitempty"`
}

type commandView struct {
	Command     string `json:"command"`
	Description string `json:"description"`
}

type accountView struct {
	Balance   int64       `json:"balance"`
	Held      int64       `json:"held"`
	Available int64       `json:"available"`
	Blocked   bool        `json:"blocked"` // as the bot has it: it saw a 403
	Ledger    []ledgerRow `json:"ledger"`  // newest first
}

type ledgerRow struct {
	Type   string `json:"type"`
	Amount int64  `json:"amount"`
	Held   int64  `json:"held"`
	Job    uint64 `json:"job,omitempty"`
	Time   string `json:"time"`
}

type botView struct {
	State           string `json:"state"` // running, restarting, stopped
	Error           string `json:"error,omitempty"`
	KIEBreaker      string `json:"kie_breaker,omitempty"`
	TelegramBreaker string `json:"telegram_breaker,omitempty"`
	KIETasks        int    `json:"kie_tasks"`
	AdminURL        string `json:"admin_url,omitempty"` // the operator console, when its server answers
}

type faultsView struct {
	KIEDown    bool     `json:"kie_down"`
	KIEFailing []string `json:"kie_failing"` // what the next tasks will fail with, in order
	Blocked    bool     `json:"blocked"`     // this seller blocks the bot
}

// ledgerKept is how many ledger rows the panel shows.
const ledgerKept = 12

// view builds what the page shows for s now.
func (p *Page) view(s Seller) chatView {
	msgs := p.tgSeller(s).Messages()
	v := chatView{Seller: s, Messages: messagesView(s.ID, msgs), Commands: p.commands(s.Lang)}
	a := p.env.Bot()
	if a != nil {
		v.Account = account(a, s.ID)
		v.Bot.KIEBreaker, v.Bot.TelegramBreaker = a.KIE.BreakerState(), a.Telegram.BreakerState()
		v.Bot.AdminURL = p.adminURL(a)
	}
	v.Bot.KIETasks = len(p.env.KIE.Tasks())

	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.restarting:
		v.Bot.State = "restarting"
	case a == nil:
		v.Bot.State = "stopped"
	default:
		v.Bot.State = "running"
	}
	v.Bot.Error = p.botErr
	v.Faults = faultsView{KIEDown: p.kieDown, KIEFailing: []string{}, Blocked: p.blocked[s.ID]}
	for _, f := range p.kieFails {
		v.Faults.KIEFailing = append(v.Faults.KIEFailing, f.label)
	}
	for _, e := range slices.Backward(p.activity) {
		if e.chat == 0 || e.chat == s.ID {
			v.Activity = append(v.Activity, e)
		}
	}
	v.Toasts = slices.Clone(p.toasts[s.ID])
	if a, ok := p.actions[s.ID]; ok {
		v.Action = &a
	}
	return v
}

// messagesView turns the fake's transcript into what the seller's Telegram shows: deleted
// messages are gone, files become links the page serves, an invoice knows whether it was paid.
func messagesView(chatID int64, msgs []tgfake.Message) []messageView {
	paid := paidPayloads(msgs)
	out := make([]messageView, 0, len(msgs))
	for _, m := range msgs {
		if m.Deleted {
			continue
		}
		v := messageView{
			ID: m.ID, FromBot: m.FromBot, Service: m.Method == "service", Text: m.Text, Caption: m.Caption,
			Edited: len(m.Edits) > 0, Time: m.SentAt.Format("15:04"),
		}
		if f := m.File; f != nil {
			v.Media = &mediaView{Kind: f.Field, URL: fmt.Sprintf("/api/chats/%d/messages/%d/file", chatID, m.ID), Name: f.Name, Size: f.Size}
		}
		if i := m.Invoice; i != nil {
			v.Invoice = &invoiceView{Title: i.Title, Description: i.Description, Amount: i.Amount, Currency: i.Currency, Paid: paid[i.Payload]}
		}
		if pm := m.Payment; pm != nil {
			v.Payment = &paymentView{Amount: pm.Amount, Currency: pm.Currency, Refunded: pm.Refunded}
		}
		for _, row := range m.Buttons {
			var r []buttonView
			for _, b := range row {
				r = append(r, buttonView{Text: b.Text, Data: b.Data, URL: b.URL})
			}
			v.Buttons = append(v.Buttons, r)
		}
		out = append(out, v)
	}
	return out
}

// paidPayloads are the invoice payloads the seller has paid.
func paidPayloads(msgs []tgfake.Message) map[string]bool {
	paid := map[string]bool{}
	for _, m := range msgs {
		if m.Payment != nil && !m.FromBot && !m.Payment.Refunded {
			paid[m.Payment.Payload] = true
		}
	}
	return paid
}

// commands is the menu the seller's client shows: the list for their language, else the default.
func (p *Page) commands(lang string) []commandView {
	all := p.env.Telegram.Commands()
	cmds, ok := all[lang]
	if !ok {
		cmds = all[""]
	}
	out := make([]commandView, 0, len(cmds))
	for _, c := range cmds {
		out = append(out, commandView{Command: "/" + c.Command, Description: c.Description})
	}
	return out
}

// account reads the seller's balance and ledger through the running bot's store, read-only. A
// store closing under a restart reads as no account for a moment.
func account(a *app.App, id int64) *accountView {
	u, ok, err := a.Store.User(id)
	if err != nil || !ok {
		return nil
	}
	rows, err := a.Store.Ledger(id, ledgerKept)
	if err != nil {
		return nil
	}
	v := &accountView{Balance: u.Balance, Held: u.Held, Available: u.Available(), Blocked: u.Blocked, Ledger: []ledgerRow{}}
	for _, e := range rows {
		v.Ledger = append(v.Ledger, ledgerRow{Type: string(e.Type), Amount: e.Amount, Held: e.Held, Job: e.JobID, Time: e.At.Local().Format("15:04:05")})
	}
	return v
}

// adminProbe remembers whether one bot's admin server has answered.
type adminProbe struct {
	app *app.App
	url string
}

// adminURL is the operator console's address once the bot's admin server answers /healthz; the
// answer is remembered for that bot, so a page update costs no request after the first.
func (p *Page) adminURL(a *app.App) string {
	p.mu.Lock()
	probe := p.admin
	p.mu.Unlock()
	if probe.app == a {
		return probe.url
	}
	base := "http://" + a.Admin.Addr() + "/"
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"healthz", nil)
	if err != nil {
		return ""
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ""
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return ""
	}
	p.mu.Lock()
	p.admin = adminProbe{app: a, url: base}
	p.mu.Unlock()
	return base
}
