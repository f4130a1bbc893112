package telegram

import (
	"context"
	"strings"

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
	if err != nil {
		return hide(err, secret)
	}
	return nil
}

// DeleteWebhook turns webhook delivery off, keeping the updates waiting, so that getUpdates works.
func (g *Gateway) DeleteWebhook(ctx context.Context) error {
	err := g.do(ctx, "deleteWebhook", 0, false, func(ctx context.Context) error {
		_, err := g.bot.DeleteWebhook(ctx, &bot.DeleteWebhookParams{})
		return err
	})
	return err
}

// hide removes secret from an error's text, keeping the chain for errors.Is and Classify.
func hide(err error, secret string) error {
	if secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return hidden{err: err, text: strings.ReplaceAll(err.Error(), secret, "***")}
}

type hidden struct {
	err  error
	text string
}

func (h hidden) Error() string { return h.text }
func (h hidden) Unwrap() error { return h.err }
