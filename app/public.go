package app

import (
	"context"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/go-telegram/bot/models"
	"golang.org/x/time/rate"

	"neurocards/messages"
	"neurocards/public"
)

// allowedUpdates are the kinds of update the bot asks Telegram for, by poller or webhook alike.
var allowedUpdates = []string{models.AllowedUpdateMessage, models.AllowedUpdateCallbackQuery, models.AllowedUpdatePreCheckoutQuery}

// listenPublic binds the public listener when the bot has a public URL or a webhook, and gives
// jobs their callback URLs when it has a public URL.
func (a *App) listenPublic() error {
	cfg := a.Config
	if !cfg.ServesPublic() {
		return nil
	}
	key, err := a.Store.InboundKey()
	if err != nil {
		return err
	}
	a.Public, err = public.Listen(public.Config{
		Addr:          cfg.PublicAddr,
		PublicURL:     cfg.PublicURL,
		WebhookURL:    cfg.WebhookURL,
		Key:           key,
		KIEWebhookKey: cfg.KIEWebhookKey,
		// Callbacks come from tasks the bot created, at most KIECreatePer10s every 10 s: room
		// for several each (KIE repeats itself), and a burst of ten 10-second windows' worth.
		CallbackRate:  rate.Limit(float64(cfg.Limits.KIECreatePer10s) / 10 * 5),
		CallbackBurst: 10 * cfg.Limits.KIECreatePer10s,
		Store:         a.Store,
		Trigger:       a.trigger,
		Dispatch:      a.dispatchWebhook,
		Logger:        a.Log,
	})
	if err != nil {
		return err
	}
	if cfg.PublicURL != "" {
		a.deps.CallbackURL = a.Public.CallbackURL
	}
	return nil
}

func (a *App) publicAddr() string {
	if a.Public == nil {
		return ""
	}
	return a.Public.Addr()
}

// serving returns the engine and router while Run serves.
func (a *App) serving() (engine *actor.Engine, router *actor.PID, ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.engine, a.router, a.router != nil
}

// trigger hands KIE's callback to the router; false while the bot is not serving.
func (a *App) trigger(m messages.TaskCallback) bool {
	engine, router, ok := a.serving()
	if ok {
		engine.Send(router, m)
	}
	return ok
}

// dispatchWebhook hands an update from the webhook to the same dispatch the poller uses.
func (a *App) dispatchWebhook(u models.Update, done func()) bool {
	engine, router, ok := a.serving()
	if ok {
		a.dispatch(engine, router, u, done)
	}
	return ok
}

// serveWebhook points Telegram at the webhook, trying again until it agrees, and then serves
// updates through the public listener until ctx ends.
func (a *App) serveWebhook(ctx context.Context) error {
	for wait := time.Second; ; wait = min(2*wait, 30*time.Second) {
		cctx, cancel := context.WithTimeout(ctx, a.Config.Timing.TelegramCall)
		err := a.Telegram.SetWebhook(cctx, a.Config.WebhookURL, a.Public.WebhookSecret(), allowedUpdates)
		cancel()
		if err == nil {
			a.Public.NoteTelegram()
			a.Log.Info("telegram delivers updates by webhook", "url", a.Config.WebhookURL)
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		a.Log.Warn("setWebhook failed; trying again", "err", err, "retry_in", wait)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil
		}
	}
	<-ctx.Done()
	return nil
}

// dropWebhook turns off a webhook left from an earlier run in webhook mode, so that getUpdates
// works. A failure only warns: the poller then hears 409 and says so.
func (a *App) dropWebhook(ctx context.Context) {
	cctx, cancel := context.WithTimeout(ctx, a.Config.Timing.TelegramCall)
	defer cancel()
	if err := a.Telegram.DeleteWebhook(cctx); err != nil {
		a.Log.Warn("deleteWebhook failed; long polling may be refused while a webhook is set", "err", err)
	}
}

// stopPublic stops the public listener, letting webhook requests in progress get their answer
// (the actors still run, so that takes moments); half the grace at most, the rest is the jobs'.
func (a *App) stopPublic() {
	if a.Public == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.Config.Timing.ShutdownGrace/2)
	defer cancel()
	if err := a.Public.Shutdown(ctx); err != nil {
		a.Log.Warn("stopping: the public listener did not stop cleanly", "err", err)
	}
}

// WebhookContact is, in webhook mode, when Telegram last reached the bot: an update with the
// right secret token, or setWebhook succeeding. ok is false in long-polling mode, where the
// poller's own contact with getUpdates tells the same. Readiness checks use it.
func (a *App) WebhookContact() (at time.Time, ok bool) {
	if a.Config.WebhookURL == "" || a.Public == nil {
		return time.Time{}, false
	}
	return a.Public.TelegramSeen(), true
}
