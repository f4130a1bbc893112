package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/go-telegram/bot/models"

	"neurocards/config"
	"neurocards/keyboard"
	"neurocards/store"
	"neurocards/testkit/harness"
	"neurocards/testkit/kiefake"
	"neurocards/testkit/tgfake"
	"neurocards/texts"
)

// greet starts a seller's conversation and waits for the menu.
func greet(t *testing.T, b *bot, uid int64, lang string) *tgfake.Seller {
	t.Helper()
	s := b.seller(uid, lang)
	s.Send("/start")
	s.Expect(t, wait, "the greeting", hasButton(keyboard.Kind.Data("video")))
	return s
}

// say sends text and waits for the bot's next message that satisfies pred.
func say(t *testing.T, s *tgfake.Seller, text, what string, pred func(tgfake.Message) bool) tgfake.Message {
	t.Helper()
	last := lastID(s)
	s.Send(text)
	return s.ExpectNew(t, wait, last, what, pred)
}

// countBot counts the bot's messages that satisfy pred.
func countBot(s *tgfake.Seller, pred func(tgfake.Message) bool) int {
	n := 0
	for _, m := range s.BotMessages() {
		if pred(m) {
			n++
		}
	}
	return n
}

func isInvoice(m tgfake.Message) bool { return m.Method == "sendInvoice" && m.Invoice != nil }

// buyPack opens /buy, taps the pack and returns the invoice the seller got.
func buyPack(t *testing.T, s *tgfake.Seller, pack string) tgfake.Invoice {
	t.Helper()
	packs := say(t, s, "/buy", "the packs", hasButton(keyboard.Buy.Prefix()+pack))
	tap(t, s, keyboard.Buy.Prefix()+pack)
	inv := s.ExpectNew(t, wait, packs.ID, "the invoice", isInvoice)
	return *inv.Invoice
}

// waitCalls waits until the fake has answered n calls of method.
func waitCalls(t testing.TB, b *bot, method string, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := b.Telegram.WaitCalls(ctx, method, n); err != nil {
		t.Fatal(err)
	}
}

// preCheckout sends the pre_checkout_query Telegram sends when the seller confirms an invoice,
// and returns the bot's answer. How fast it comes is measured by BenchmarkPreCheckout, not here.
func preCheckout(t testing.TB, b *bot, s *tgfake.Seller, payload string, stars int) tgfake.PreCheckoutAnswer {
	t.Helper()
	n := len(b.Telegram.PreCheckoutAnswers())
	s.PreCheckout(payload, "XTR", stars)
	waitCalls(t, b, "answerPreCheckoutQuery", n+1)
	answers := b.Telegram.PreCheckoutAnswers()
	return answers[len(answers)-1]
}

// TestBuyCreditsOnce: /buy shows the packs, a pack sends a Stars invoice, the pre-checkout is
// answered while a job is in flight, and the payment credits the pack once
// and sends one receipt — however often Telegram delivers it, before or after a restart.
func TestBuyCreditsOnce(t *testing.T) {
	b := start(t)
	b.KIE.Script(func(int, string, map[string]any) kiefake.Script { return kiefake.Script{Forever: true} })
	s := greet(t, b, 801, "ru")
	order(t, s, "card", "Кружка")

	packs := say(t, s, "/buy", "the packs", hasButton(keyboard.Buy.Data("10")))
	if !strings.Contains(packs.Text, "звёздами Telegram") || !strings.Contains(packs.Text, "Сейчас доступно: 17 кредитов") {
		t.Errorf("packs prompt: %q", packs.Text)
	}
	for data, label := range map[string]string{keyboard.Buy.Data("10"): "10 кредитов — 50 ⭐", keyboard.Buy.Data("50"): "50 кредитов — 225 ⭐", keyboard.Buy.Data("200"): "200 кредитов — 800 ⭐"} {
		if !hasButtonText(packs, data, label) {
			t.Errorf("no button %q → %s: %+v", label, data, packs.Buttons)
		}
	}
	tap(t, s, keyboard.Buy.Data("10"))
	inv := s.ExpectNew(t, wait, packs.ID, "the invoice", isInvoice).Invoice
	if inv.Currency != "XTR" || inv.Amount != 50 || !strings.HasPrefix(inv.Payload, "pack:10:") || inv.Title != "Пакет: 10 кредитов" {
		t.Fatalf("invoice: %+v", inv)
	}
	call := b.Telegram.Calls("sendInvoice")[0]
	var prices []models.LabeledPrice
	if err := json.Unmarshal([]byte(call.Fields["prices"]), &prices); err != nil || len(prices) != 1 || prices[0].Amount != 50 {
		t.Errorf("prices %q: %v", call.Fields["prices"], err)
	}
	if tok, sent := call.Fields["provider_token"]; sent {
		t.Errorf("a Stars invoice carries provider_token %q", tok)
	}

	if answer := preCheckout(t, b, s, inv.Payload, 50); !answer.OK {
		t.Fatalf("pre-checkout: %+v, want ok", answer)
	}

	last := lastID(s)
	pay := s.Pay(inv.Payload, "XTR", 50, "stars-charge-1")
	receipt := s.ExpectNew(t, wait, last, "the receipt", contains("Оплата прошла"))
	for _, want := range []string{"+10 кредитов", "Баланс: 27 кредитов"} {
		if !strings.Contains(receipt.Text, want) {
			t.Errorf("receipt %q lacks %q", receipt.Text, want)
		}
	}
	want := "grant+20 hold(3) purchase+10"
	if got := b.ledger(801); got != want {
		t.Errorf("ledger after the payment: %s", got)
	}

	// The same update again, and the same payment in a new update: nothing credited, no receipt.
	s.Resend(pay)
	s.Pay(inv.Payload, "XTR", 50, "stars-charge-1")
	say(t, s, "/balance", "the balance", contains("💰 Баланс: 30 кредитов"))
	// After a restart the router has forgotten the update; the stored last update id still knows it.
	if err := b.Restart(); err != nil {
		t.Fatal(err)
	}
	s.Resend(pay)
	say(t, s, "/menu", "the menu", hasButton(keyboard.Kind.Data("video")))
	if got := b.ledger(801); got != want {
		t.Errorf("ledger after the replays: %s, want %s", got, want)
	}
	if n := countBot(s, contains("Оплата прошла")); n != 1 {
		t.Errorf("receipts: %d, want 1", n)
	}
	rows, err := b.App.Store.Ledger(801, 0)
	if err != nil {
		t.Fatal(err)
	}
	if rows[0].Type != store.EntryPurchase || rows[0].Key != store.PurchaseKey("stars-charge-1") {
		t.Errorf("purchase row: %+v", rows[0])
	}
}

func hasButtonText(m tgfake.Message, data, text string) bool {
	for _, row := range m.Buttons {
		for _, btn := range row {
			if btn.Data == data && btn.Text == text {
				return true
			}
		}
	}
	return false
}

// TestBadPreCheckoutRefused: an invoice for a pack that is not sold, at another price or in
// another currency is declined, fast, with the reason in the buyer's language; nothing is credited.
func TestBadPreCheckoutRefused(t *testing.T) {
	b := start(t, func(c *config.Config) {
		c.Packs = []config.Pack{{ID: "10", Credits: 10, Stars: 50}, {ID: "big", Credits: 100, Stars: 400}}
	})
	en := greet(t, b, 802, "en")
	ru := greet(t, b, 803, "ru")
	cases := []struct {
		s       *tgfake.Seller
		payload string
		stars   int
		want    string
	}{
		{en, "pack:200:abc", 800, "no longer sold"},
		{en, "something-else", 50, "no longer sold"},
		{en, "pack:10:abc", 40, "price of this pack has changed"},
		{ru, "pack:big:abc", 450, "Цена пакета изменилась"},
		{ru, "pack:50:abc", 225, "больше не продаётся"},
	}
	for _, c := range cases {
		if a := preCheckout(t, b, c.s, c.payload, c.stars); a.OK || !strings.Contains(a.ErrorMessage, c.want) {
			t.Errorf("pre-checkout %s for %d ⭐: %+v, want refused with %q", c.payload, c.stars, a, c.want)
		}
	}
	if a := preCheckout(t, b, ru, "pack:big:xyz", 400); !a.OK {
		t.Errorf("a good invoice was refused: %+v", a)
	}
	if got := b.ledger(802) + " | " + b.ledger(803); got != "grant+20 | grant+20" {
		t.Errorf("ledgers: %s", got)
	}
}

// TestTopUpWhenCreditsRunShort: "not enough credits" comes with a Top up button that leads to
// the packs.
func TestTopUpWhenCreditsRunShort(t *testing.T) {
	b := start(t, func(c *config.Config) { c.StartCredits = 5 })
	s := greet(t, b, 804, "en")
	tap(t, s, keyboard.Kind.Data("video"))
	ask := s.ExpectNew(t, wait, 0, "the photo request", contains("📸"))
	s.SendPhoto(harness.Photo(800, 800), 800, 800, "")
	askText := s.ExpectNew(t, wait, ask.ID, "the description request", hasButton(keyboard.Skip.Prefix()))
	tap(t, s, buttonData(askText, keyboard.Skip.Prefix()))
	short := s.ExpectNew(t, wait, askText.ID, "the refusal", contains("Not enough credits"))
	if !hasButtonText(short, "buy", "💳 Top up") {
		t.Fatalf("no Top up button: %+v", short.Buttons)
	}
	tap(t, s, "buy")
	packs := s.ExpectNew(t, wait, short.ID, "the packs", hasButton(keyboard.Buy.Data("50")))
	if !strings.Contains(packs.Text, "Available now: 5 credits") {
		t.Errorf("packs prompt: %q", packs.Text)
	}
	inv := buyPack(t, s, "50")
	if inv.Title != "Pack: 50 credits" || inv.Amount != 225 {
		t.Errorf("invoice: %+v", inv)
	}
	if a := preCheckout(t, b, s, inv.Payload, 225); !a.OK {
		t.Fatalf("pre-checkout: %+v", a)
	}
	last := lastID(s)
	s.Pay(inv.Payload, "XTR", 225, "stars-charge-804")
	s.ExpectNew(t, wait, last, "the receipt", contains("Payment received: +50 credits.\nBalance: 55 credits."))
}

// TestBalanceAndHistoryInRussian: /balance says the balance, what is held and the last ten rows
// in words with Moscow dates; /history lists the jobs with state and cost and runs one again.
func TestBalanceAndHistoryInRussian(t *testing.T) {
	b := start(t, func(c *config.Config) { c.StartCredits = 40 })
	b.KIE.Script(func(n int, _ string, _ map[string]any) kiefake.Script {
		switch n {
		case 2:
			return kiefake.Script{Outcome: kiefake.Outcome{Fail: true, FailCode: "400", FailMsg: "Your prompt was flagged by Website as violating content policies"}}
		case 3:
			return kiefake.Script{Forever: true}
		}
		return kiefake.Script{}
	})
	s := greet(t, b, 811, "ru")
	status := order(t, s, "video", "Термокружка")
	s.ExpectNew(t, wait, status.ID, "the video", isFile("sendVideo"))
	statusSays(t, s, status.ID, "Готово")
	status = order(t, s, "card", "")
	s.ExpectNew(t, wait, status.ID, "the failure", contains("вернулись на баланс"))
	order(t, s, "video", "Рюкзак")
	if err := b.KIE.WaitTasks(context.Background(), 3); err != nil {
		t.Fatal(err)
	}

	bal := say(t, s, "/balance", "the balance", contains("💰 Баланс"))
	rows, err := b.App.Store.Ledger(811, 0)
	if err != nil {
		t.Fatal(err)
	}
	on := func(i int) string { return ", " + texts.Date(texts.RU, rows[i].At) }
	want := "💰 Баланс: 30 кредитов\nВ работе: 10 кредитов\nДоступно: 20 кредитов\n\n" +
		"Последние операции (время московское):\n" +
		"🔒 10 в резерве: 🎬 Видео товара #3" + on(0) + "\n" +
		"↩️ 3 вернулись из резерва: 🖼 Карточка товара #2" + on(1) + "\n" +
		"🔒 3 в резерве: 🖼 Карточка товара #2" + on(2) + "\n" +
		"−10 🎬 Видео товара #1" + on(3) + "\n" +
		"🔒 10 в резерве: 🎬 Видео товара #1" + on(4) + "\n" +
		"+40 🎁 подарок" + on(5)
	if bal.Text != want {
		t.Errorf("balance:\n%s\nwant:\n%s", bal.Text, want)
	}
	if !hasButtonText(bal, "buy", "💳 Пополнить") || buttonData(bal, "hist") == "" {
		t.Errorf("balance buttons: %+v", bal.Buttons)
	}

	tap(t, s, "hist")
	hist := s.ExpectNew(t, wait, bal.ID, "the history", contains("Последние задания"))
	jobs := b.jobs(811)
	at := func(i int) string { return texts.Date(texts.RU, jobs[i].CreatedAt) }
	want = "🧾 Последние задания (время московское):\n\n" +
		"#3 🎬 Видео товара, " + at(0) + "\n⏳ в работе · в резерве 10 кредитов\n\n" +
		"#2 🖼 Карточка товара, " + at(1) + "\n↩️ не получилось: сервис генерации отказался по своим правилам · возвращено 3 кредита\n\n" +
		"#1 🎬 Видео товара, " + at(2) + "\n✅ доставлено · списано 10 кредитов"
	if hist.Text != want {
		t.Errorf("history:\n%s\nwant:\n%s", hist.Text, want)
	}
	if !hasButtonText(hist, keyboard.Retry.ID(2), "🔁 Повторить #2") || !hasButtonText(hist, keyboard.Redo.ID(1), "🔁 Ещё #1") || buttonData(hist, keyboard.Redo.ID(3)) != "" {
		t.Errorf("history buttons: %+v", hist.Buttons)
	}

	// The in-flight video ends; then "again" from the history repeats job 1 with its photo and text.
	if err := b.KIE.Finish(b.KIE.Tasks()[2].ID); err != nil {
		t.Fatal(err)
	}
	third := s.ExpectNew(t, wait, hist.ID, "the third video", isFile("sendVideo"))
	b.KIE.Script(nil)
	tap(t, s, keyboard.Redo.ID(1))
	again := s.ExpectNew(t, wait, third.ID, "the repeat's status", contains("Принял"))
	s.ExpectNew(t, wait, again.ID, "the repeated video", isFile("sendVideo"))
	jobs = b.jobs(811)
	if len(jobs) != 4 || jobs[0].Kind != "video" || jobs[0].Product != "Термокружка" || jobs[0].Photo.FileID != jobs[3].Photo.FileID {
		t.Errorf("repeated job: %+v", jobs[0])
	}
}

// TestBalanceAndHistoryInEnglish, and /lang switching both ways.
func TestBalanceAndHistoryInEnglish(t *testing.T) {
	b := start(t)
	s := greet(t, b, 812, "en")
	status := order(t, s, "card", "Mug")
	s.ExpectNew(t, wait, status.ID, "the card", isFile("sendPhoto"))
	statusSays(t, s, status.ID, "Done")

	bal := say(t, s, "/balance", "the balance", contains("💰 Balance"))
	rows, _ := b.App.Store.Ledger(812, 0)
	for _, want := range []string{
		"💰 Balance: 17 credits\nIn progress: 0 credits\nAvailable: 17 credits",
		"Recent operations (Moscow time):",
		"−3 🖼 Product card #1, " + texts.Date(texts.EN, rows[0].At),
		"+20 🎁 gift, " + texts.Date(texts.EN, rows[2].At),
	} {
		if !strings.Contains(bal.Text, want) {
			t.Errorf("balance %q lacks %q", bal.Text, want)
		}
	}
	hist := say(t, s, "/history", "the history", contains("Recent jobs"))
	if want := "#1 🖼 Product card, " + texts.Date(texts.EN, b.jobs(812)[0].CreatedAt) + "\n✅ delivered · 3 credits charged"; !strings.Contains(hist.Text, want) {
		t.Errorf("history %q lacks %q", hist.Text, want)
	}
	if !hasButtonText(hist, keyboard.Redo.ID(1), "🔁 Again #1") {
		t.Errorf("history buttons: %+v", hist.Buttons)
	}

	// /lang: a choice, remembered over Telegram's language, both ways.
	choice := say(t, s, "/lang", "the language choice", hasButton(keyboard.Lang.Data("ru")))
	tap(t, s, keyboard.Lang.Data("ru"))
	s.ExpectNew(t, wait, choice.ID, "Russian", contains("говорю по-русски"))
	say(t, s, "/balance", "the balance in Russian", contains("💰 Баланс: 17 кредитов"))
	if u := b.user(812); u.Lang != "ru" || !u.LangChosen {
		t.Errorf("language: %q chosen %v", u.Lang, u.LangChosen)
	}
	say(t, s, "/lang en", "English", contains("I will speak English"))
	help := say(t, s, "/help", "the help", contains("How it works"))
	for _, want := range []string{"🎬 Product video — 10 credits", "10 credits — 50 ⭐", "200 credits — 800 ⭐", "at least 300 pixels", "up to 10 MB", "charged only when the result is delivered"} {
		if !strings.Contains(help.Text, want) {
			t.Errorf("help %q lacks %q", help.Text, want)
		}
	}

	empty := greet(t, b, 813, "en")
	say(t, empty, "/history", "no history", contains("No jobs yet"))
}

// TestCommandsRegisteredInBothLanguages: at start the bot sets its command menu for Russian,
// English and everyone else; operator commands stay out of it.
func TestCommandsRegisteredInBothLanguages(t *testing.T) {
	b := start(t)
	waitCalls(t, b, "setMyCommands", 3)
	cmds := b.Telegram.Commands()
	names := func(lang string) string {
		var out []string
		for _, c := range cmds[lang] {
			out = append(out, c.Command)
		}
		return strings.Join(out, " ")
	}
	for _, lang := range []string{"", "ru", "en"} {
		if got := names(lang); got != "start buy balance history lang help" {
			t.Errorf("commands for %q: %s", lang, got)
		}
	}
	if d := cmds["en"][1].Description; d != "Buy credits with Stars" {
		t.Errorf("English /buy: %q", d)
	}
	if d := cmds["ru"][1].Description; d != "Купить кредиты за звёзды" || cmds[""][1].Description != d {
		t.Errorf("Russian /buy: %q, default %q", d, cmds[""][1].Description)
	}
}
