package e2e

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/go-telegram/bot/models"

	"neurocards/keyboard"
	"neurocards/telegram"
	"neurocards/testkit/tgfake"
)

// TestButtonsOutsideAPrivateChatDoNothing: a keyboard that ends up in a group (forwarded, or a
// modified client) starts nothing and charges nobody; the tap is answered so the button stops
// spinning, and nothing is sent to the group.
func TestButtonsOutsideAPrivateChatDoNothing(t *testing.T) {
	b := start(t)
	s := startSeller(t, b, 801, "ru")
	tap(t, s, keyboard.Kind.Data("card"))
	s.Expect(t, wait, "the photo request", contains("📸"))
	const group = -100500
	from := models.User{ID: 801, FirstName: "Seller801", LanguageCode: "ru"}
	for i, data := range []string{keyboard.Kind.Data("video"), keyboard.Generate.ID(1), keyboard.AgainData("card", 1)} {
		b.Telegram.Push(models.Update{CallbackQuery: &models.CallbackQuery{
			ID: "group-tap-" + string(rune('a'+i)), From: from, Data: data,
			Message: models.MaybeInaccessibleMessage{Type: models.MaybeInaccessibleMessageTypeMessage,
				Message: &models.Message{ID: 77, Date: 1, Chat: models.Chat{ID: group, Type: models.ChatTypeSupergroup}}},
		}})
	}
	eventually(t, "the taps to be answered", func() bool { return len(b.Telegram.AnsweredCallbacks()) >= 4 })
	refused := 0
	for _, a := range b.Telegram.AnsweredCallbacks() {
		if strings.Contains(a.Text, "только в личном чате") {
			refused++
		}
	}
	if refused != 3 {
		t.Errorf("taps answered as private-only: %d, want 3", refused)
	}
	for _, c := range b.Telegram.Calls("") {
		if c.ChatID == group && c.Method != "answerCallbackQuery" {
			t.Errorf("sent to the group: %s", c.Method)
		}
	}
	s.Send("/balance")
	s.Expect(t, wait, "the balance", contains("Баланс: 20 кредитов"))
	if jobs := b.jobs(801); len(jobs) != 0 {
		t.Errorf("jobs: %d", len(jobs))
	}
}

// TestAgainFromAnInaccessibleMessageStartsOneJob: Telegram reports the message of an "again"
// button as inaccessible (message id 0); however often it is tapped, one job starts.
func TestAgainFromAnInaccessibleMessageStartsOneJob(t *testing.T) {
	b := start(t)
	s := startSeller(t, b, 802, "ru")
	status := order(t, s, "card", "Свеча")
	s.ExpectNew(t, wait, status.ID, "the card", isFile("sendPhoto"))
	statusSays(t, s, status.ID, "Готово")
	again := keyboard.AgainData("card", 1)
	for range 3 {
		s.TapOn(0, again)
	}
	s.Expect(t, wait, "the second job's status", func(m tgmsg) bool {
		return m.ID > status.ID && m.Button(again) == "" && m.Button(keyboard.AgainData("card", 2)) != ""
	})
	s.Expect(t, wait, "the refusal of the repeated taps", contains("уже"))
	eventually(t, "the second card paid for", func() bool { return b.ledger(802) == "grant+20 hold(3) capture-3 hold(3) capture-3" })
	if n := len(b.jobs(802)); n != 2 || countBot(s, isFile("sendPhoto")) != 2 {
		t.Errorf("jobs: %d, cards %d, want 2 and 2", n, countBot(s, isFile("sendPhoto")))
	}
}

// TestLyingImageHeaderIsRefused: a 45-byte PNG that claims 100000×100000 pixels is refused
// before anything is held or sent to KIE.
func TestLyingImageHeaderIsRefused(t *testing.T) {
	b := start(t)
	s := startSeller(t, b, 803, "ru")
	tap(t, s, keyboard.Kind.Data("card"))
	ask := s.Expect(t, wait, "the photo request", contains("📸"))
	s.SendDocument(pngClaiming(100000, 100000), "huge.png", "image/png")
	s.ExpectNew(t, wait, ask.ID, "the refusal", contains("100000×100000"))
	if n := len(b.KIE.Uploads()); n != 0 {
		t.Errorf("uploads to KIE: %d", n)
	}
	if got := b.ledger(803); got != "grant+20" {
		t.Errorf("ledger: %s", got)
	}
}

// TestPaymentThatDoesNotMatchItsPack credits nothing: Telegram sends a successful_payment only
// after the pre-checkout agreed, so this is the second check; the charge is recorded, so an
// operator can refund the Stars.
func TestPaymentThatDoesNotMatchItsPack(t *testing.T) {
	b := start(t)
	s := startSeller(t, b, 804, "ru")
	last := lastID(s)
	s.Pay(keyboard.InvoicePayload("200", "x"), telegram.Stars, 1, "charge-804")
	s.ExpectNew(t, wait, last, "the notice", contains("1"))
	last = lastID(s)
	s.Pay(keyboard.InvoicePayload("10", "y"), "USD", 50, "charge-805")
	s.ExpectNew(t, wait, last, "the notice", contains("50"))
	if got := b.ledger(804); got != "grant+20 purchase+0 purchase+0" {
		t.Errorf("ledger: %s", got)
	}
	if u := b.user(804); u.Balance != 20 {
		t.Errorf("balance %d", u.Balance)
	}
}

// TestOperatorArgumentsAreBounded: an argument too long to echo gets a clear answer and changes
// nothing; a grant with a reason the seller can be told is carried out and told.
func TestOperatorArgumentsAreBounded(t *testing.T) {
	b := start(t, withOperator)
	op := greet(t, b, operatorID, "ru")
	s := greet(t, b, 805, "ru")
	say(t, op, "/grant 805 5 "+strings.Repeat("причина ", 700), "the refusal", contains("Слишком длинная команда"))
	say(t, op, "/user "+strings.Repeat("9", 5000), "the refusal", contains("Слишком длинная команда"))
	say(t, op, "/grant 805 +-5", "the usage", contains("/grant"))
	say(t, op, "/grant 805 99999999999999999999", "the usage", contains("/grant"))
	say(t, op, "/grant 805 2000000", "the bound", contains("вне допустимых пределов"))
	if got := b.ledger(805); got != "grant+20" {
		t.Fatalf("ledger after refusals: %s", got)
	}
	reason := strings.Repeat("компенсация ", 16)
	last := lastID(s)
	say(t, op, "/grant 805 5 "+reason, "the grant", contains("805"))
	s.ExpectNew(t, wait, last, "the seller's notice", contains(strings.TrimSpace(reason)))
	if got := b.ledger(805); got != "grant+20 adjust+5" {
		t.Errorf("ledger: %s", got)
	}
}

// pngClaiming is the smallest PNG header that claims the given size: the signature, an IHDR
// chunk with a correct CRC, and IEND. It has no pixels.
func pngClaiming(w, h uint32) []byte {
	var buf bytes.Buffer
	buf.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(kind string, data []byte) {
		binary.Write(&buf, binary.BigEndian, uint32(len(data)))
		body := append([]byte(kind), data...)
		buf.Write(body)
		binary.Write(&buf, binary.BigEndian, crc32.ChecksumIEEE(body))
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	chunk("IHDR", ihdr)
	chunk("IEND", nil)
	return buf.Bytes()
}

type tgmsg = tgfake.Message
