// Package actors is the bot's behaviour on hollywood: the router, a session per seller, a job per
// job in flight and the job's generator and sender children. Actors are thin shells around pure
// decisions (jobfsm.go) and the store's transactions; every network call runs off the actor's
// goroutine and comes back as a message.
package actors

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/anthdm/hollywood/actor"

	"neurocards/config"
	"neurocards/kie"
	"neurocards/messages"
	"neurocards/metrics"
	"neurocards/store"
	"neurocards/telegram"
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
}

// Hooks let tests inject faults at points a real failure could strike. All nil in production.
type Hooks struct {
	// BeforeGenerate runs in the generator's worker before it touches KIE; a panic there is a bug
	// in the generator as far as the job can tell.
	BeforeGenerate func(jobID uint64)
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
	}
}

// inbox is the inbox size of every actor: small, since hollywood preallocates it and grows it on demand.
const inbox = 16

// spawnOpts are the options every actor is spawned with: a small inbox, a deterministic id, and
// the recover middleware, so hollywood never restarts an actor by itself (past MaxRestarts
// v1.0.5 crashes the process).
func spawnOpts(id string) []actor.OptFunc {
	return []actor.OptFunc{actor.WithID(id), actor.WithInboxSize(inbox), actor.WithMaxRestarts(1 << 30), actor.WithMiddleware(recoverToParent)}
}

// recoverToParent turns a panic in Receive into a Crashed message to the actor's parent (or to the
// actor itself when it has none), so the owner decides what the crash means.
func recoverToParent(next actor.ReceiveFunc) actor.ReceiveFunc {
	return func(c *actor.Context) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			msg := messages.Crashed{ID: c.PID().ID, Reason: fmt.Sprint(v), Stack: string(debug.Stack())}
			if p := c.Parent(); p != nil {
				c.Engine().Send(p, msg)
				return
			}
			slog.Error("actor panicked", "actor", msg.ID, "panic", msg.Reason, "stack", msg.Stack)
		}()
		next(c)
	}
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

// after sends msg to pid after d, without a goroutine; the returned func cancels it.
func after(e *actor.Engine, pid *actor.PID, d time.Duration, msg any) func() bool {
	t := time.AfterFunc(d, func() { e.Send(pid, msg) })
	return t.Stop
}

// jitter spreads retries: d plus up to a fifth of it, never less than d (a retry_after is a minimum).
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return d + time.Duration(rand.Int64N(int64(d)/5+1))
}
