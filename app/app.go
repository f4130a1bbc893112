// Package app wires neurocards together: the store, the Telegram gateway and poller, the KIE
// client and the actor tree. `neurocards run`, the sandbox and the end-to-end tests all start the
// bot through it, so they run the same wiring.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/go-telegram/bot/models"

	"neurocards/actors"
	"neurocards/admin"
	"neurocards/clock"
	"neurocards/config"
	"neurocards/keyboard"
	"neurocards/kie"
	"neurocards/messages"
	"neurocards/metrics"
	"neurocards/public"
	"neurocards/store"
	"neurocards/telegram"
	"neurocards/texts"
)

// Options are the parts of the wiring a caller may choose.
type Options struct {
	Logger *slog.Logger
	Hooks  actors.Hooks
	Clock  clock.Clock // nil: the wall clock
}

// App is a wired bot, ready to Run.
type App struct {
	Config   config.Config
	Store    *store.Store
	Telegram *telegram.Gateway
	KIE      *kie.Client
	Metrics  *metrics.Metrics
	Log      *slog.Logger
	Admin    *admin.Server
	// Public is the listener facing the internet (KIE callbacks, the Telegram webhook); nil
	// unless NEUROCARDS_PUBLIC_URL or NEUROCARDS_WEBHOOK_URL is set.
	Public *public.Server

	deps *actors.Deps

	mu       sync.Mutex
	engine   *actor.Engine
	router   *actor.PID                      // while Run serves
	poller   atomic.Pointer[telegram.Poller] // set while Run polls
	stopping atomic.Bool                     // Run's context has ended
}

// New opens the data directory and builds the clients. It makes no network call, and fails at
// once if another process has the data directory open.
func New(cfg config.Config, opt Options) (*App, error) {
	log := opt.Logger
	if log == nil {
		log = slog.Default()
	}
	clk := opt.Clock
	if clk == nil {
		clk = clock.Real
	}
	st, err := store.Open(cfg.DataDir, store.Options{Now: clk.Now, Logger: log})
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*App, error) {
		st.Close()
		return nil, err
	}
	m := metrics.New()
	gw, err := telegram.New(telegram.Config{
		Token:           cfg.TelegramToken,
		APIURL:          cfg.TelegramAPIURL,
		PerSec:          cfg.Limits.TelegramPerSec,
		PerChat:         cfg.Limits.TelegramPerChat,
		CallTimeout:     cfg.Timing.TelegramCall,
		BreakerFailures: cfg.Limits.BreakerFailures,
		BreakerCooldown: cfg.Timing.BreakerCooldown,
		Logger:          log,
		Metrics:         m,
	})
	if err != nil {
		return fail(err)
	}
	kc := kie.New(kie.Config{
		APIURL:       cfg.KIEAPIURL,
		UploadURL:    cfg.KIEUploadURL,
		APIKey:       cfg.KIEAPIKey,
		CreatePer10s: -1, // actors.Line paces createTask

		BreakerFailures: cfg.Limits.BreakerFailures,
		BreakerCooldown: cfg.Timing.BreakerCooldown,
		Logger:          log,
		Metrics:         m,
	})
	a := &App{Config: cfg, Store: st, Telegram: gw, KIE: kc, Metrics: m, Log: log}
	a.deps = &actors.Deps{Config: cfg, Store: st, Telegram: gw, KIE: kc, Log: log, Metrics: m, Hooks: opt.Hooks, Clock: clk, Alive: &actors.Alive{},
		Timings: actors.NewTimings(st),
		Line: actors.NewLine(clk, cfg.Limits.KIECreatePer10s, cfg.Timing.DelayedRecheck, kc.BreakerState,
			func(n int) { m.SetParked(metrics.KIE, n) })}
	if err := os.MkdirAll(a.deps.OutputsDir(), 0o700); err != nil {
		return fail(fmt.Errorf("outputs dir: %w", err))
	}
	m.WatchBreaker(metrics.KIE, kc.BreakerState)
	m.WatchBreaker(metrics.Telegram, gw.BreakerState)
	m.WatchPoller(a.lastPoll)
	m.WatchInFlight(func() (map[messages.Stage]int, error) {
		n, err := st.InFlight()
		return n.ByStage, err
	})
	if a.Admin, err = admin.Listen(a.adminConfig()); err != nil {
		return fail(err)
	}
	if err := a.listenPublic(); err != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		a.Admin.Shutdown(ctx)
		return fail(err)
	}
	return a, nil
}

// adminConfig is what the admin server learns from the bot: the store, the metrics, the health
// of the poller and the breakers, and the way to act on a seller.
func (a *App) adminConfig() admin.Config {
	cfg := a.Config
	kinds := make([]string, 0, len(cfg.Kinds))
	for _, k := range cfg.Kinds {
		kinds = append(kinds, k.ID)
	}
	return admin.Config{
		Addr: cfg.AdminAddr, Token: cfg.AdminToken, Store: a.Store, Logger: a.Log,
		Metrics: a.Metrics,
		Operate: a.Operate,
		Kinds:   kinds,
		Health: admin.Health{
			LastPoll: a.lastPoll,
			// A long poll answers within its timeout, plus the call's own slack (poller.go).
			PollStale: cfg.Timing.TelegramPoll + 30*time.Second,
			Stopping:  a.stopping.Load,
			Breakers: func() map[string]string {
				return map[string]string{metrics.KIE: a.KIE.BreakerState(), metrics.Telegram: a.Telegram.BreakerState()}
			},
		},
	}
}

// lastPoll is when the update poller last had an answer from Telegram; zero when it is not
// polling.
func (a *App) lastPoll() time.Time {
	if at, webhook := a.WebhookContact(); webhook {
		// In webhook mode Telegram comes to us: its last authenticated request is the sign of life.
		return at
	}
	if p := a.poller.Load(); p != nil {
		return p.LastAnswer()
	}
	return time.Time{}
}

// Run serves sellers until ctx ends, then stops taking updates, lets in-flight steps persist and
// returns within the configured grace. The data file stays open until Close.
func (a *App) Run(ctx context.Context) error {
	engine, err := actor.NewEngine(actor.NewEngineConfig())
	if err != nil {
		return fmt.Errorf("actors: %w", err)
	}
	name, err := a.checkTelegram(ctx)
	if err != nil {
		return err
	} else if name != "" {
		a.Log.Info("telegram ok", "bot", "@"+name)
	}
	go func() {
		if err := a.Admin.Serve(); err != nil {
			a.Log.Error("admin server stopped", "err", err)
		}
	}()
	if a.Public != nil {
		go func() {
			if err := a.Public.Serve(); err != nil {
				a.Log.Error("public listener stopped", "err", err)
			}
		}()
	}
	treeStopped := make(chan struct{})
	router := engine.Spawn(actors.NewRouter(a.deps, func() { close(treeStopped) }), "router", actors.RouterOpts(a.deps)...)
	a.mu.Lock()
	a.engine, a.router = engine, router
	a.mu.Unlock()
	// Private chats only: a chat that answers 403 is its seller's, and their session records it.
	a.Telegram.OnBlocked(func(chatID int64) { engine.Send(router, messages.SellerBlocked{UserID: chatID}) })
	commands := make(chan struct{})
	go func() { defer close(commands); a.registerCommands(ctx) }()
	poller := &telegram.Poller{
		Gateway:     a.Telegram,
		Timeout:     a.Config.Timing.TelegramPoll,
		Allowed:     allowedUpdates,
		LastHandled: a.Store.Offset,
		SaveHandled: a.Store.SetOffset,
		Dispatch:    func(u models.Update, done func()) { a.dispatch(engine, router, u, done) },
		Logger:      a.Log,
	}
	a.poller.Store(poller)
	defer a.poller.Store(nil)
	stopWatch := context.AfterFunc(ctx, func() { a.stopping.Store(true) })
	defer stopWatch()
	a.Log.Info("neurocards is serving", "data_dir", a.Config.DataDir, "kinds", len(a.Config.Kinds), "admin", a.Admin.Addr(), "public", a.publicAddr(), "webhook", a.Config.WebhookURL != "")
	if a.Config.WebhookURL != "" {
		err = a.serveWebhook(ctx)
	} else {
		if name != "" {
			a.dropWebhook(ctx)
		}
		err = poller.Run(ctx)
	}
	a.stopping.Store(true)
	<-commands
	a.Log.Info("stopping: no more updates; letting jobs persist")
	a.stopPublic()
	a.mu.Lock()
	a.router = nil
	a.mu.Unlock()
	grace, cancel := context.WithTimeout(context.Background(), a.Config.Timing.ShutdownGrace)
	defer cancel()
	engine.Send(router, messages.Stop{})
	select {
	case <-treeStopped:
	case <-grace.Done():
		a.Log.Warn("stopping: actors did not stop within the grace period")
	}
	poller.Settle()
	if err := a.Telegram.Flush(grace); err != nil {
		a.Log.Warn("stopping: some messages were not sent", "err", err)
	}
	return err
}

// registerCommands sets the bot's command menu in every language (and Russian for the rest).
// A failure only warns: the menu is a convenience, and the next start tries again.
func (a *App) registerCommands(ctx context.Context) {
	for _, lang := range []string{"", texts.RU, texts.EN} {
		lng := lang
		if lng == "" {
			lng = texts.RU
		}
		cctx, cancel := context.WithTimeout(ctx, a.Config.Timing.TelegramCall)
		err := a.Telegram.SetCommands(cctx, lang, keyboard.Commands(lng))
		cancel()
		if err != nil {
			a.Log.Warn("registering the bot's commands failed", "lang", lang, "err", err)
			return
		}
	}
}

// checkTelegram asks getMe once: a refused token stops the start with a clear error, while an
// unreachable Telegram only warns, since the poller keeps trying.
func (a *App) checkTelegram(ctx context.Context) (string, error) {
	cctx, cancel := context.WithTimeout(ctx, a.Config.Timing.TelegramCall)
	defer cancel()
	name, err := a.Telegram.GetMe(cctx)
	if err == nil {
		return name, nil
	}
	if f := telegram.Classify(err); f.Class == messages.Operator {
		return "", fmt.Errorf("telegram refused the bot token (getMe: %s): check NEUROCARDS_TELEGRAM_TOKEN", f.Code)
	}
	a.Log.Warn("telegram is not reachable yet; polling will keep trying", "err", err)
	return "", nil
}

// dispatch hands one update to the router; done is called when its effect is persisted, and
// only then may the poller confirm it to Telegram (and the update counts as handled). Writing to
// the bot means the seller no longer blocks it.
func (a *App) dispatch(engine *actor.Engine, router *actor.PID, u models.Update, done func()) {
	telegram.Lighten(&u) // polled or from the webhook alike
	if chatID := chatOf(&u); chatID != 0 {
		a.Telegram.Unblock(chatID)
	}
	kind := updateKind(&u)
	var once sync.Once
	handled := func() {
		done()
		once.Do(func() { a.Metrics.UpdateHandled(kind) })
	}
	engine.Send(router, messages.Update{Update: &u, Done: handled})
}

// updateKind names an update's type for the updates_handled_total counter.
func updateKind(u *models.Update) string {
	switch {
	case u.Message != nil:
		return "message"
	case u.CallbackQuery != nil:
		return "callback_query"
	case u.PreCheckoutQuery != nil:
		return "pre_checkout_query"
	}
	return "other"
}

// chatOf is the chat a seller wrote from: writing again means they no longer block the bot.
func chatOf(u *models.Update) int64 {
	switch {
	case u.Message != nil:
		return u.Message.Chat.ID
	case u.CallbackQuery != nil:
		return u.CallbackQuery.From.ID
	}
	return 0
}

// ErrNotServing means the bot is not running (not started yet, or stopping): an operator's
// action cannot reach the seller's session.
var ErrNotServing = errors.New("the bot is not serving")

// Operate carries out an operator's action on a seller — from the dashboard — through the
// router to the seller's session, the same path as the Telegram operator commands, and waits
// for its answer until ctx ends.
func (a *App) Operate(ctx context.Context, cmd messages.OperatorCommand) (messages.OperatorResult, error) {
	a.mu.Lock()
	engine, router := a.engine, a.router
	a.mu.Unlock()
	if router == nil {
		return messages.OperatorResult{}, ErrNotServing
	}
	wait := time.Minute
	if d, ok := ctx.Deadline(); ok {
		wait = time.Until(d)
	}
	return actors.Ask(engine, router, cmd, wait), nil
}

// Alive is how many actors of a kind are running: router, session, job, generate, deliver.
func (a *App) Alive(kind string) int { return a.deps.Alive.Count(kind) }

// OutputsDir is where results wait on disk between download and delivery.
func (a *App) OutputsDir() string { return a.deps.OutputsDir() }

// Close stops the admin server, letting a backup in progress finish for a few seconds, and closes
// the data file.
func (a *App) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	a.Admin.Shutdown(ctx)
	if a.Public != nil {
		a.Public.Shutdown(ctx)
	}
	return a.Store.Close()
}
