package e2e

import (
	"strings"
	"testing"

	"neurocards/config"
	"neurocards/messages"
	"neurocards/store"
	"neurocards/testkit/kiefake"
	"neurocards/testkit/tgfake"
)

const operatorID = 900

// withOperator makes user 900 an operator.
func withOperator(c *config.Config) { c.AdminIDs = []int64{operatorID} }

// adjustRows returns a user's adjust rows, oldest first.
func adjustRows(t *testing.T, b *bot, uid int64) []store.Entry {
	t.Helper()
	rows, err := b.App.Store.Ledger(uid, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.Entry
	for i := len(rows) - 1; i >= 0; i-- {
		if rows[i].Type == store.EntryAdjust {
			out = append(out, rows[i])
		}
	}
	return out
}

// TestOperatorCommandsAreUnknownToOthers: a seller who is not an operator gets exactly the
// ordinary unknown-command answer, and nothing changes.
func TestOperatorCommandsAreUnknownToOthers(t *testing.T) {
	b := start(t, withOperator)
	s := greet(t, b, 901, "ru")
	unknown := say(t, s, "/frobnicate", "the unknown-command answer", contains("Не понял"))
	for _, cmd := range []string{"/grant 901 100", "/grant 901 100 мне можно", "/user 901", "/stats", "/refund 1", "/refundstars ch-1"} {
		got := say(t, s, cmd, "the answer to "+cmd, func(tgfake.Message) bool { return true })
		if got.Text != unknown.Text || !sameButtons(got.Buttons, unknown.Buttons) {
			t.Errorf("%s answered %q %+v, want the unknown-command answer", cmd, got.Text, got.Buttons)
		}
	}
	if got := b.ledger(901); got != "grant+20" {
		t.Errorf("ledger: %s", got)
	}
}

func sameButtons(a, b [][]tgfake.Button) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				return false
			}
		}
	}
	return true
}

// TestOperatorGrant: one adjust row per grant, negative allowed down to what jobs hold and no
// further, a replayed command changes nothing, and the seller is told.
func TestOperatorGrant(t *testing.T) {
	b := start(t, withOperator)
	b.KIE.Script(func(int, string, map[string]any) kiefake.Script { return kiefake.Script{Forever: true} })
	op := greet(t, b, operatorID, "en")
	s := greet(t, b, 902, "ru")

	last := lastID(s)
	grant := op.Send("/grant 902 15 за неудобства")
	done := op.Expect(t, wait, "the grant's answer", contains("Done: +15 credits to user 902"))
	if !strings.Contains(done.Text, "Balance: 35 credits, in progress: 0 credits") {
		t.Errorf("grant answer: %q", done.Text)
	}
	s.ExpectNew(t, wait, last, "the seller's notice", contains("🎁 Оператор начислил вам 15 кредитов. Баланс: 35 кредитов.\nПричина: за неудобства"))
	rows := adjustRows(t, b, 902)
	if len(rows) != 1 || rows[0].Amount != 15 || rows[0].By != operatorID || rows[0].Note != "за неудобства" {
		t.Fatalf("adjust rows: %+v", rows)
	}

	// The same update again (a crash before it was confirmed): nothing more.
	op.Resend(grant)
	say(t, op, "/grant 999 5", "the unknown user", contains("There is no user 999"))
	if got := b.ledger(902); got != "grant+20 adjust+15" {
		t.Errorf("ledger after the replay: %s", got)
	}

	// A job holds 10 of 35: taking 30 would dip into the hold, so it is refused; 25 is fine.
	order(t, s, "video", "Кружка")
	refused := say(t, op, "/grant 902 -30", "the refusal", contains("Not taken"))
	if !strings.Contains(refused.Text, "user 902 has only 25 credits available (balance 35 credits, in progress 10 credits)") {
		t.Errorf("refusal: %q", refused.Text)
	}
	last = lastID(s)
	say(t, op, "/grant 902 -25", "the debit", contains("Done: −25 credits to user 902"))
	s.ExpectNew(t, wait, last, "the seller's notice", contains("Оператор списал 25 кредитов. Баланс: 0 кредитов."))
	if got := b.ledger(902); got != "grant+20 adjust+15 hold(10) adjust-25" {
		t.Errorf("ledger: %s", got)
	}
	if u := b.user(902); u.Balance != 10 || u.Held != 10 {
		t.Errorf("balance %d held %d, want 10/10", u.Balance, u.Held)
	}
	for _, bad := range []string{"/grant", "/grant 902", "/grant 902 0", "/grant x 5", "/grant 902 lots"} {
		say(t, op, bad, "the usage for "+bad, contains("Usage: /grant"))
	}
	if n := len(adjustRows(t, b, 902)); n != 2 {
		t.Errorf("adjust rows: %d, want 2", n)
	}
}

// TestOperatorRefund: a delivered job gets its price back in one adjust row, once; a job in
// flight is stopped and its hold released (one release row), and its actor stops without
// delivering; a failed job has nothing to refund.
func TestOperatorRefund(t *testing.T) {
	b := start(t, withOperator)
	op := greet(t, b, operatorID, "ru")
	s := greet(t, b, 903, "en")
	status := order(t, s, "video", "Mug")
	video := s.ExpectNew(t, wait, status.ID, "the video", isFile("sendVideo"))
	statusSays(t, s, status.ID, "Done")

	done := say(t, op, "/refund 1", "the refund", contains("Задание #1 было доставлено"))
	if !strings.Contains(done.Text, "вернул 10 кредитов пользователю 903") || !strings.Contains(done.Text, "Баланс: 20 кредитов") {
		t.Errorf("refund answer: %q", done.Text)
	}
	s.ExpectNew(t, wait, video.ID, "the seller's notice", contains("↩️ The operator returned 10 credits for the job “🎬 Product video”. Balance: 20 credits."))
	say(t, op, "/refund 1", "the second refund", contains("По заданию #1 возврат уже был"))
	rows := adjustRows(t, b, 903)
	if len(rows) != 1 || rows[0].Amount != 10 || rows[0].JobID != 1 || rows[0].Key != store.RefundJobKey(1) || rows[0].By != operatorID {
		t.Fatalf("adjust rows: %+v", rows)
	}
	hist := say(t, s, "/history", "the history", contains("Recent jobs"))
	if !strings.Contains(hist.Text, "✅ delivered, ↩️ credits returned by the operator · 10 credits returned") {
		t.Errorf("history: %q", hist.Text)
	}

	// A job in flight.
	b.KIE.Script(func(int, string, map[string]any) kiefake.Script { return kiefake.Script{Forever: true} })
	status = order(t, s, "video", "Mug")
	if err := b.KIE.WaitTasks(t.Context(), 2); err != nil {
		t.Fatal(err)
	}
	// Once the status message has been edited the job has stored its id, so the job can show the
	// outcome in it when it finds itself ended.
	s.ExpectUntil(t, wait, "the status message to be edited", func(msgs []tgfake.Message) bool {
		for _, m := range msgs {
			if m.ID == status.ID {
				return len(m.Edits) > 0
			}
		}
		return false
	})
	done = say(t, op, "/refund 2", "the cancellation", contains("Задание #2 остановлено"))
	if !strings.Contains(done.Text, "резерв 10 кредитов вернулся пользователю 903") {
		t.Errorf("cancel answer: %q", done.Text)
	}
	s.ExpectNew(t, wait, status.ID, "the seller's notice", contains("cancelled by an operator"))
	say(t, op, "/refund 2", "the second refund", contains("кредиты уже вернулись автоматически"))
	if got := b.ledger(903); got != "grant+20 hold(10) capture-10 adjust+10 hold(10) release(10)" {
		t.Errorf("ledger: %s", got)
	}
	j := b.jobs(903)[0]
	if j.Outcome != messages.OutcomeFailed || j.Failure == nil || j.Failure.Reason != messages.ReasonCancelled || j.Failure.Class != messages.Operator {
		t.Errorf("cancelled job: %+v", j)
	}
	// KIE finishes the task after all: the job learns it was ended and stops, showing the outcome.
	if err := b.KIE.Finish(b.KIE.Tasks()[1].ID); err != nil {
		t.Fatal(err)
	}
	statusSays(t, s, status.ID, "credits returned")
	if n := countBot(s, isFile("sendVideo")); n != 1 {
		t.Errorf("videos delivered: %d, want 1", n)
	}
	say(t, op, "/refund 77", "no such job", contains("Задания #77 нет"))
	say(t, op, "/refund", "the usage", contains("Формат: /refund"))
}

// TestOperatorRefundStars: refundStarPayment is called once and the pack's credits come back in
// one adjust row; a second try, an unknown payment, and a buyer who already spent the credits are
// refused without calling Telegram.
func TestOperatorRefundStars(t *testing.T) {
	b := start(t, withOperator)
	op := greet(t, b, operatorID, "en")
	s := greet(t, b, 904, "ru")
	inv := buyPack(t, s, "10")
	last := lastID(s)
	s.Pay(inv.Payload, "XTR", 50, "charge-904")
	s.ExpectNew(t, wait, last, "the receipt", contains("Оплата прошла"))

	last = lastID(s)
	done := say(t, op, "/refundstars charge-904", "the refund", contains("Refunded the Stars of payment charge-904"))
	if !strings.Contains(done.Text, "to user 904 and took back 10 credits") || !strings.Contains(done.Text, "Balance: 20 credits") {
		t.Errorf("refund answer: %q", done.Text)
	}
	s.ExpectNew(t, wait, last, "the buyer's notice", contains("⭐ Звёзды за покупку вернулись к вам, а 10 кредитов сняты с баланса. Баланс: 20 кредитов."))
	refunds := b.Telegram.StarRefunds()
	if len(refunds) != 1 || refunds[0].ChargeID != "charge-904" || refunds[0].UserID != 904 || refunds[0].Amount != 50 {
		t.Fatalf("star refunds: %+v", refunds)
	}
	say(t, op, "/refundstars charge-904", "the second refund", contains("were refunded already"))
	say(t, op, "/refundstars nope", "an unknown payment", contains("There is no purchase with payment nope"))
	// Telegram's refunded_payment notice reaches the buyer's session, which says nothing more.
	say(t, s, "/balance", "the balance", contains("💰 Баланс: 20 кредитов"))
	if n := countBot(s, contains("Не понял")); n != 0 {
		t.Errorf("the refund notice was answered as unknown input %d times", n)
	}
	if got := b.ledger(904); got != "grant+20 purchase+10 adjust-10" {
		t.Errorf("ledger: %s", got)
	}
	if rows := adjustRows(t, b, 904); len(rows) != 1 || !strings.HasPrefix(rows[0].Key, store.ChargeBackKey("charge-904")+":") || rows[0].By != operatorID {
		t.Errorf("adjust rows: %+v", rows)
	}
	if n := len(b.Telegram.StarRefunds()); n != 1 {
		t.Errorf("star refunds: %d, want 1", n)
	}
}

// TestRefundStarsThatTelegramRefuses: the credits are taken before Telegram is asked, so the
// buyer cannot spend them meanwhile; when Telegram refuses, they come back and a later try works.
func TestRefundStarsThatTelegramRefuses(t *testing.T) {
	b := start(t, withOperator)
	op := greet(t, b, operatorID, "en")
	s := greet(t, b, 907, "ru")
	inv := buyPack(t, s, "10")
	last := lastID(s)
	s.Pay(inv.Payload, "XTR", 50, "charge-907")
	s.ExpectNew(t, wait, last, "the receipt", contains("Оплата прошла"))

	b.Telegram.Fail("refundStarPayment", 0, 1, tgfake.Reply{Status: 500, Description: "Internal Server Error"})
	say(t, op, "/refundstars charge-907", "the failure", contains("did not refund the Stars"))
	eventually(t, "the credits to come back", func() bool { return b.user(907).Balance == 30 })
	if got := b.ledger(907); got != "grant+20 purchase+10 adjust-10 adjust+10" {
		t.Errorf("ledger after a refused refund: %s", got)
	}
	say(t, op, "/refundstars charge-907", "the second try", contains("Refunded the Stars of payment charge-907"))
	if got := b.ledger(907); got != "grant+20 purchase+10 adjust-10 adjust+10 adjust-10" {
		t.Errorf("ledger after the refund: %s", got)
	}
	if n := len(b.Telegram.StarRefunds()); n != 1 {
		t.Errorf("star refunds: %d, want 1", n)
	}
}

// TestRefundStarsRefusedWhenSpent: a buyer whose credits from the payment are held by a job is
// not refunded: the Stars would go back while the credits stay.
func TestRefundStarsRefusedWhenSpent(t *testing.T) {
	b := start(t, withOperator, func(c *config.Config) { c.StartCredits = 0 })
	b.KIE.Script(func(int, string, map[string]any) kiefake.Script { return kiefake.Script{Forever: true} })
	op := greet(t, b, operatorID, "ru")
	s := greet(t, b, 905, "ru")
	inv := buyPack(t, s, "10")
	last := lastID(s)
	s.Pay(inv.Payload, "XTR", 50, "charge-905")
	s.ExpectNew(t, wait, last, "the receipt", contains("Оплата прошла"))
	order(t, s, "video", "Кружка")
	refused := say(t, op, "/refundstars charge-905", "the refusal", contains("Не возвращаю"))
	if !strings.Contains(refused.Text, "начислено 10 кредитов, а у пользователя 905 доступно только 0 кредитов") {
		t.Errorf("refusal: %q", refused.Text)
	}
	if n := len(b.Telegram.StarRefunds()); n != 0 {
		t.Errorf("star refunds: %d, want 0", n)
	}
	if got := b.ledger(905); got != "purchase+10 hold(10)" {
		t.Errorf("ledger: %s", got)
	}
}

// TestOperatorUserAndStats: /user shows a seller's account and last jobs; /stats counts today.
func TestOperatorUserAndStats(t *testing.T) {
	b := start(t, withOperator)
	op := greet(t, b, operatorID, "en")
	s := greet(t, b, 906, "ru")
	status := order(t, s, "video", "Кружка")
	s.ExpectNew(t, wait, status.ID, "the video", isFile("sendVideo"))
	statusSays(t, s, status.ID, "Готово")
	inv := buyPack(t, s, "50")
	last := lastID(s)
	s.Pay(inv.Payload, "XTR", 225, "charge-906")
	s.ExpectNew(t, wait, last, "the receipt", contains("Оплата прошла"))

	u := say(t, op, "/user 906", "the user", contains("👤 906, Seller906 (ru)"))
	for _, want := range []string{"Balance: 60 credits, in progress: 0 credits", "Blocked the bot: no", "#1 🎬 Product video", "✅ delivered · 10 credits charged"} {
		if !strings.Contains(u.Text, want) {
			t.Errorf("/user %q lacks %q", u.Text, want)
		}
	}
	say(t, op, "/user 4242", "no such user", contains("There is no user 4242"))
	st := say(t, op, "/stats", "the stats", contains("📊 Today"))
	for _, want := range []string{"Jobs: 1 — done 1, failed 0, in progress 0", "Credits sold: 50 (purchases: 1)", "Credits spent: 10", "Sellers in total: 2"} {
		if !strings.Contains(st.Text, want) {
			t.Errorf("/stats %q lacks %q", st.Text, want)
		}
	}
}
