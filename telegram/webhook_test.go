package telegram

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"neurocards/testkit"
	"neurocards/testkit/tgfake"
)

func TestSetAndDeleteWebhook(t *testing.T) {
	tg := tgfake.New(testkit.BotToken)
	defer tg.Close()
	g := newGateway(t, tg, time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := g.SetWebhook(ctx, "http://127.0.0.1:1/telegram", "s3cret_token", []string{"message", "pre_checkout_query"}); err != nil {
		t.Fatal(err)
	}
	info, ok := tg.Webhook()
	if !ok || info.URL != "http://127.0.0.1:1/telegram" || info.SecretToken != "s3cret_token" || !slices.Equal(info.Allowed, []string{"message", "pre_checkout_query"}) {
		t.Fatalf("webhook: %+v %v", info, ok)
	}
	if err := g.DeleteWebhook(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := tg.Webhook(); ok {
		t.Error("the webhook is still set")
	}
	// Telegram refuses a malformed token; the error names neither it nor the bot token.
	err := g.SetWebhook(ctx, "http://127.0.0.1:1/telegram", "not a token", nil)
	if err == nil {
		t.Fatal("a malformed secret token was accepted")
	}
	if strings.Contains(err.Error(), "not a token") || strings.Contains(err.Error(), testkit.BotToken) {
		t.Errorf("the error shows a secret: %v", err)
	}
}
