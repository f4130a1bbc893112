package telegram

import (
	"context"

	"github.com/go-telegram/bot"
)

// SetWebhook asks Telegram to deliver updates to url, sending secret back in the
// X-Telegram-Bot-Api-Secret-Token header of each, and only the allowed kinds. Updates already
// waiting are kept. The secret never appears in the error.
func (g *Gateway) SetWebhook(ctx context.Context, url, secret string, allowed []string) error {
	err := g.do(ctx, "setWebhook", 0, false, func(ctx context.Context) error {
		_, err := g.bot.SetWebhook(ctx, &bot.SetWebhookParams{URL: url, SecretToken: secret, AllowedUpdates: allowed})
		return err
	})
	return newRedactor(secret).redact(err)
}

// DeleteWebhook turns webhook delivery off, keeping the updates waiting, so that getUpdates works.
func (g *Gateway) DeleteWebhook(ctx context.Context) error {
	return g.do(ctx, "deleteWebhook", 0, false, func(ctx context.Context) error {
		_, err := g.bot.DeleteWebhook(ctx, &bot.DeleteWebhookParams{})
		return err
	})
}
