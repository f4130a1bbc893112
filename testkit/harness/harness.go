// Package harness runs the whole bot in-process — the same wiring as `neurocards run` — against
// the fake Telegram and fake KIE servers on loopback. The sandbox and the end-to-end tests start
// the bot through it.
package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"neurocards/actors"
	"neurocards/app"
	"neurocards/config"
	"neurocards/testkit"
	"neurocards/testkit/kiefake"
	"neurocards/testkit/tgfake"
)

// Fake credentials: they only ever reach the fakes.
const (
	BotToken = testkit.BotToken
	KIEKey   = testkit.KIEKey
)

// Options configure an Env.
type Options struct {
	DataDir string // default: a new temporary directory, removed by Stop
	// Logger gets the bot's logs (default: discard). Every record it takes is also scanned for
	// the fake credentials, and Stop reports any it finds.
	Logger *slog.Logger
	Hooks  actors.Hooks
	// Configure adjusts the configuration after the fast defaults are applied.
	Configure func(*config.Config)
	// FakeClock runs the actors on a testkit.FakeClock (Env.Clock) that only the test moves:
	// backoffs, polls, deadlines and status edits happen when the test advances it.
	FakeClock bool
	// Callbacks serves the public listener on loopback and gives KIE callback URLs to it.
	Callbacks bool
	// Webhook has the fake Telegram deliver updates to the public listener by webhook.
	Webhook bool
}

// Env is a running bot with its fakes.
type Env struct {
	Telegram *tgfake.Server
	KIE      *kiefake.Server
	App      *app.App
	Config   config.Config
	Clock    *testkit.FakeClock // with Options.FakeClock; it keeps its time across restarts

	opt     Options
	leaks   *testkit.LeakLog
	tempDir string
	cancel  context.CancelFunc
	done    chan error
	mu      sync.Mutex
}

// FastTiming makes every delay short enough for a test.
func FastTiming(c *config.Config) {
	testkit.FastTiming(c)
	c.Timing.PollSlow = 200 * time.Millisecond
}

// Start starts the fakes and the bot.
func Start(opt Options) (*Env, error) {
	e := &Env{opt: opt}
	if opt.DataDir == "" {
		dir, err := os.MkdirTemp("", "neurocards-sandbox-")
		if err != nil {
			return nil, err
		}
		e.tempDir, e.opt.DataDir = dir, dir
	}
	if e.opt.Logger == nil {
		e.opt.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opt.FakeClock {
		e.Clock = testkit.NewFakeClock(time.Time{})
	}
	h, leaks := testkit.ScanLogs(e.opt.Logger.Handler(), testkit.Fakes)
	e.opt.Logger, e.leaks = slog.New(h), leaks
	e.Telegram = tgfake.New(BotToken)
	e.KIE = kiefake.New(KIEKey)
	cfg := config.Defaults()
	cfg.TelegramToken, cfg.TelegramAPIURL = BotToken, e.Telegram.URL()
	cfg.KIEAPIKey, cfg.KIEAPIURL, cfg.KIEUploadURL = KIEKey, e.KIE.APIURL(), e.KIE.UploadURL()
	cfg.DataDir = e.opt.DataDir
	cfg.AdminAddr, cfg.AdminToken = "127.0.0.1:0", testkit.AdminToken
	FastTiming(&cfg)
	if err := publicOn(&cfg, opt); err != nil {
		e.closeFakes()
		return nil, err
	}
	if opt.Configure != nil {
		opt.Configure(&cfg)
	}
	e.Config = cfg
	if err := e.startBot(); err != nil {
		e.closeFakes()
		return nil, err
	}
	return e, nil
}

func (e *Env) startBot() error {
	opt := app.Options{Logger: e.opt.Logger, Hooks: e.opt.Hooks}
	if e.Clock != nil {
		opt.Clock = e.Clock
	}
	a, err := app.New(e.Config, opt)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	e.mu.Lock()
	e.App, e.cancel, e.done = a, cancel, done
	e.mu.Unlock()
	return nil
}

// Bot is the running bot, or nil while it is stopped (in the middle of a Restart). Code that runs
// beside a Restart reads the bot through it instead of the App field.
func (e *Env) Bot() *app.App {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.App
}

// StopBot stops the bot gracefully (as on SIGTERM) and closes its data file; the fakes keep running.
func (e *Env) StopBot() error {
	e.mu.Lock()
	a, cancel, done := e.App, e.cancel, e.done
	e.App = nil
	e.mu.Unlock()
	if a == nil {
		return nil
	}
	cancel()
	var err error
	select {
	case err = <-done:
	case <-time.After(e.Config.Timing.ShutdownGrace + 5*time.Second):
		err = errors.New("harness: the bot did not stop in time")
	}
	return errors.Join(err, a.Close())
}

// Restart stops the bot and starts it again on the same data directory.
func (e *Env) Restart() error {
	if err := e.StopBot(); err != nil {
		return fmt.Errorf("harness: restart: %w", err)
	}
	return e.startBot()
}

// Stop stops the bot and the fakes and removes a temporary data directory. It reports any log
// line that showed a secret.
func (e *Env) Stop() error {
	err := e.StopBot()
	e.closeFakes()
	if e.tempDir != "" {
		os.RemoveAll(e.tempDir)
	}
	return errors.Join(err, e.leaks.Err())
}

func (e *Env) closeFakes() {
	e.Telegram.Close()
	e.KIE.Close()
}

// Photo returns a JPEG of the given size, a stand-in for a seller's product photo.
func Photo(w, h int) []byte { return testkit.Photo(w, h) }
