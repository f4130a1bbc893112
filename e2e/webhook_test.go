package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/go-telegram/bot/models"

	"neurocards/keyboard"
	"neurocards/testkit/harness"
	"neurocards/testkit/tgfake"
)

func startWebhook(t *testing.T) *bot {
	t.Helper()
	return startWith(t, harness.Options{Webhook: true})
}

// acceptedOnce waits until update id has been accepted by the webhook n times in all.
func acceptedTimes(t *testing.T, b *bot, id int64, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	err := b.Telegram.WaitWebhook(ctx, func(ds []tgfake.WebhookDelivery) bool {
		got := 0
		for _, d := range ds {
			if d.UpdateID == id && d.OK() {
				got++
			}
		}
		return got >= n
	})
	if err != nil {
		t.Fatalf("update %d accepted %d times: %v", id, n, err)
	}
}

// In webhook mode a seller is served as with long polling: Telegram posts each update with the
// secret token, and the bot never calls getUpdates.
func TestWebhookServesASeller(t *testing.T) {
	b := startWebhook(t)
	s := startSeller(t, b, 401, "ru")
	status := order(t, s, "card", "")
	s.ExpectNew(t, wait, status.ID, "the card", isFile("sendPhoto"))
	statusSays(t, s, status.ID, "Готово")
	info, ok := b.Telegram.Webhook()
	if !ok || info.URL != b.Config.WebhookURL || info.SecretToken == "" {
		t.Fatalf("webhook: %+v", info)
	}
	for _, kind := range []string{models.AllowedUpdateMessage, models.AllowedUpdateCallbackQuery, models.AllowedUpdatePreCheckoutQuery} {
		if !slices.Contains(info.Allowed, kind) {
			t.Errorf("allowed updates %v lack %s", info.Allowed, kind)
		}
	}
	if n := b.Telegram.CountCalls("getUpdates", 0); n != 0 {
		t.Errorf("getUpdates calls: %d", n)
	}
	for _, d := range b.Telegram.WebhookDeliveries() {
		if !d.OK() {
			t.Errorf("delivery refused: %+v", d)
		}
	}
	if got := b.ledger(401); got != "grant+20 hold(3) capture-3" {
		t.Errorf("ledger: %s", got)
	}
	if at, ok := b.App.WebhookContact(); !ok || at.IsZero() {
		t.Error("no webhook contact for readiness")
	}
	if strings.Contains(b.logs.String(), info.SecretToken) {
		t.Error("the logs hold the webhook's secret token")
	}
}

// A request to the webhook without the right secret token is refused and does nothing.
func TestWebhookRefusesAWrongSecretToken(t *testing.T) {
	b := startWebhook(t)
	startSeller(t, b, 402, "ru") // the bot is serving
	start := models.Update{ID: 900_000, Message: &models.Message{ID: 1, Date: 1, Text: "/start",
		From: &models.User{ID: 403, FirstName: "Mallory"}, Chat: models.Chat{ID: 403, Type: models.ChatTypePrivate},
		Entities: []models.MessageEntity{{Type: models.MessageEntityTypeBotCommand, Length: 6}}}}
	body, _ := json.Marshal(start)
	info, _ := b.Telegram.Webhook()
	for name, headers := range map[string]map[string]string{
		"no token":         nil,
		"a wrong token":    {"X-Telegram-Bot-Api-Secret-Token": "guess"},
		"a token too long": {"X-Telegram-Bot-Api-Secret-Token": info.SecretToken + "x"},
	} {
		if got := forge(t, b.Config.WebhookURL, body, headers); got != http.StatusForbidden {
			t.Errorf("%s: HTTP %d, want 403", name, got)
		}
	}
	// A seller's own update is handled after anything the forged ones could have caused.
	s := b.seller(402, "ru")
	s.Send("/balance")
	s.Expect(t, wait, "the balance", contains("Баланс"))
	if _, ok, err := b.App.Store.User(403); ok || err != nil {
		t.Errorf("the forged /start made a seller (err %v)", err)
	}
	if n := b.Telegram.CountCalls("", 403); n != 0 {
		t.Errorf("calls to chat 403: %d", n)
	}
}

// Telegram delivering an update again — a Generate tap — has no second effect.
func TestRedeliveredWebhookUpdateHasNoSecondEffect(t *testing.T) {
	b := startWebhook(t)
	s := startSeller(t, b, 404, "ru")
	last := lastID(s)
	tap(t, s, keyboard.Kind.Data("card"))
	ask := s.ExpectNew(t, wait, last, "the photo request", contains("📸"))
	s.SendPhoto(harness.Photo(800, 1000), 800, 1000, "")
	askText := s.ExpectNew(t, wait, ask.ID, "the description request", hasButton(keyboard.Skip.Prefix()))
	tap(t, s, buttonData(askText, keyboard.Skip.Prefix()))
	confirm := s.ExpectNew(t, wait, askText.ID, "the confirmation", hasButton(keyboard.Generate.Prefix()))
	id, err := s.Tap(buttonData(confirm, keyboard.Generate.Prefix()))
	if err != nil {
		t.Fatal(err)
	}
	status := s.ExpectNew(t, wait, confirm.ID, "the status message", hasButton(keyboard.Again.Data("card")))
	s.ExpectNew(t, wait, status.ID, "the card", isFile("sendPhoto"))
	statusSays(t, s, status.ID, "Готово")
	acceptedTimes(t, b, id, 1)

	s.Resend(id)
	acceptedTimes(t, b, id, 2)
	s.Send("/balance")
	s.Expect(t, wait, "the balance", contains("Баланс"))
	if n := len(b.jobs(404)); n != 1 {
		t.Errorf("jobs: %d, want 1", n)
	}
	if got := b.ledger(404); got != "grant+20 hold(3) capture-3" {
		t.Errorf("ledger: %s", got)
	}
	if n := len(b.KIE.Tasks()); n != 1 {
		t.Errorf("KIE tasks: %d, want 1", n)
	}
}

// Going back from webhook to long polling: the bot deletes its webhook and polls.
func TestBackToLongPollingDeletesTheWebhook(t *testing.T) {
	b := startWebhook(t)
	s := startSeller(t, b, 405, "ru")
	if err := b.StopBot(); err != nil {
		t.Fatal(err)
	}
	b.Config.WebhookURL, b.Config.PublicURL = "", ""
	if err := b.Restart(); err != nil {
		t.Fatal(err)
	}
	last := lastID(s)
	s.Send("/balance")
	s.ExpectNew(t, wait, last, "the balance", contains("Баланс"))
	if _, ok := b.Telegram.Webhook(); ok {
		t.Error("the webhook is still set")
	}
	if b.App.Public != nil {
		t.Error("the public listener runs with nothing to serve")
	}
	if n := b.Telegram.CountCalls("getUpdates", 0); n == 0 {
		t.Error("no getUpdates")
	}
}
