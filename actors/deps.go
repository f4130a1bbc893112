// Package actors is the bot's behaviour on hollywood: the router, a session per seller, a job per
// job in flight and the job's generator and sender children. Actors are thin shells around pure
// decisions (jobfsm.go) and the store's transactions; every network call runs off the actor's
// goroutine and comes back as a message.
package actors

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	"github.com/anthdm/hollywood/actor"

	"neurocards/clock"
	"neurocards/config"
	"neurocards/kie"
	"neurocards/messages"
	"neurocards/metrics"
	"neurocards/store"
	"neurocards/telegram"
	"neurocards/texts"
)

// Deps is what every actor works with. The real clients, never stand-ins: tests point them at the
// testkit fakes on loopback.
type Deps struct {
	Config   config.Config
	Store    *store.Store
	Telegram *telegram.Gateway
	KIE      *kie.Client
	Log      *slog.Logger
	Metrics  *metrics.Metrics
	Hooks    Hooks
	// Clock is where actors take time from and arm their timers.
	Clock clock.Clock
	// Alive counts the actors running, by kind.
	Alive *Alive
	// Line is the queue of jobs waiting for a KIE createTask slot.
	Line *Line
	// Timings is what the bot has learned of each model's generation time.
	Timings *Timings
	// CallbackURL is the URL KIE calls back when a job's task changes, or "" when the bot has no
	// public address (nil: never).
	CallbackURL func(jobID uint64) string
}

// Hooks let tests inject faults at points a real failure could strike. All nil in production.
type Hooks struct {
	// BeforeGenerate runs in the generator's worker before it touches KIE; a panic there is a bug
	// in the generator as far as the job can tell.
	BeforeGenerate func(jobID uint64)
	// OnReceive runs inside every actor's Receive, before the actor sees the message: a panic
	// there is a panic in that actor (kind: router, session, job, generate, deliver).
	OnReceive func(kind string, msg any)
}

// OutputsDir is where results are written before they are sent.
func (d *Deps) OutputsDir() string { return filepath.Join(d.Config.DataDir, "outputs") }

func (d *Deps) policy() Policy {
	return Policy{
		GenAttempts:    d.Config.Limits.GenAttempts,
		SendAttempts:   d.Config.Limits.SendAttempts,
		RetryBase:      d.Config.Timing.RetryBase,
		RetryMax:       d.Config.Timing.RetryMax,
		DelayedRecheck: d.Config.Timing.DelayedRecheck,
		PollMin:        d.Config.Timing.PollMin,
		PollMax:        d.Config.Timing.PollMax,
		PollDense:      d.Config.Timing.PollDense,
		Callbacks:      d.CallbackURL != nil,
		PollSlow:       d.Config.Timing.PollSlow,
		KIEAttempt:     d.Config.Timing.KIEAttemptTimeout,
		StatusInterval: d.Config.Timing.StatusInterval,
		StatusTick:     d.Config.Timing.StatusTick,
	}
}

// inbox is the inbox size of every actor: small, since hollywood preallocates it and grows it on demand.
const inbox = 16

// spawnOpts are the options every actor of a kind is spawned with: a small inbox, a
// deterministic id, and the middleware that counts it alive and turns a panic into a message to
// its parent, so hollywood never restarts an actor by itself (past MaxRestarts v1.0.5 crashes the
// process).
func (d *Deps) spawnOpts(kind, id string) []actor.OptFunc {
	return []actor.OptFunc{actor.WithID(id), actor.WithInboxSize(inbox), actor.WithMaxRestarts(1 << 30), actor.WithMiddleware(d.middleware(kind))}
}

// middleware counts the actors of a kind alive, and recovers a panic in Receive as a Crashed
// message to the actor's parent (or a log line when it has none), so the owner decides what the
// crash means.
func (d *Deps) middleware(kind string) actor.MiddlewareFunc {
	return func(next actor.ReceiveFunc) actor.ReceiveFunc {
		return func(c *actor.Context) {
			switch c.Message().(type) {
			case actor.Started:
				d.Alive.add(kind, 1)
				d.Metrics.ActorStarted(kind)
			case actor.Stopped:
				d.Alive.add(kind, -1)
				d.Metrics.ActorStopped(kind)
			}
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				msg := messages.Crashed{ID: c.PID().ID, Reason: fmt.Sprint(v), Stack: string(debug.Stack())}
				if u, ok := c.Message().(messages.Update); ok {
					d.dropUpdate(u, msg)
				}
				if p := c.Parent(); p != nil {
					c.Engine().Send(p, msg)
					return
				}
				d.Log.Error("actor panicked", "actor", msg.ID, "panic", msg.Reason, "stack", msg.Stack)
			}()
			if h := d.Hooks.OnReceive; h != nil {
				h(kind, c.Message())
			}
			next(c)
		}
	}
}

// dropUpdate is an update whose handling panicked before its effect was persisted: the seller
// hears that something went wrong, and the poller may go on (nothing of it was persisted, so it
// has nothing to confirm twice).
func (d *Deps) dropUpdate(u messages.Update, crash messages.Crashed) {
	d.Log.Error("handling an update panicked; it is dropped", "actor", crash.ID, "update_id", u.Update.ID, "panic", crash.Reason, "stack", crash.Stack)
	if chatID, from := updateChat(u.Update); chatID != 0 && from != nil {
		text := texts.T(texts.Lang(from.LanguageCode), texts.SomethingWrong)
		d.Telegram.Post(from.ID, func(ctx context.Context) {
			if _, err := d.Telegram.Send(ctx, from.ID, text, nil); err != nil {
				d.Log.Warn("reply failed", "chat_id", from.ID, "err", err)
			}
		})
	}
	u.Done()
}

// Alive counts the actors running, by kind: router, session, job, generate, deliver.
type Alive struct {
	mu sync.Mutex
	n  map[string]int
}

func (a *Alive) add(kind string, n int) {
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.n == nil {
		a.n = map[string]int{}
	}
	a.n[kind] += n
}

// Count is how many actors of the kind are running.
func (a *Alive) Count(kind string) int {
	if a == nil {
		return 0
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n[kind]
}

// stopped tells the actor's owner it has stopped for good; call it from actor.Stopped.
func stopped(c *actor.Context) {
	if p := c.Parent(); p != nil {
		c.Engine().Send(p, messages.ChildStopped{ID: c.PID().ID})
	}
}

// goSafe runs work off the actor's goroutine. A panic in it becomes a report through onPanic
// instead of killing the process.
func goSafe(onPanic func(reason, stack string), work func()) {
	go func() {
		defer func() {
			if v := recover(); v != nil {
				onPanic(fmt.Sprint(v), string(debug.Stack()))
			}
		}()
		work()
	}()
}

// after sends msg to pid after d on the clock, without a goroutine; the returned timer cancels it.
func (d *Deps) after(e *actor.Engine, pid *actor.PID, wait time.Duration, msg any) clock.Timer {
	return d.Clock.AfterFunc(wait, func() { e.Send(pid, msg) })
}

// jitter spreads retries: d plus up to a fifth of it, never less than d (a retry_after is a minimum).
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return d + time.Duration(rand.Int64N(int64(d)/5+1))
}
