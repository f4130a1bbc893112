// Package testkit holds what actor tests need besides the fakes: a probe actor that records what
// it is sent, with expect-with-timeout helpers, and can stand in as the parent of an actor under
// test. The fake servers live in testkit/tgfake and testkit/kiefake.
package testkit

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/anthdm/hollywood/actor"
)

// Probe is an actor that records every message it receives. Tests send through it, spawn the
// actor under test as its child (so reports to the parent land in the probe), and wait for
// messages with a timeout. Never assert inside an actor: ship what you need to a probe.
type Probe struct {
	t      testing.TB
	engine *actor.Engine
	pid    *actor.PID
	got    chan any
}

// spawnChild asks the probe to spawn a child, from inside its own Receive.
type spawnChild struct {
	producer actor.Producer
	name     string
	opts     []actor.OptFunc
	reply    chan *actor.PID
}

// NewProbe spawns a probe on e. It is poisoned when the test ends.
func NewProbe(t testing.TB, e *actor.Engine, name string) *Probe {
	t.Helper()
	p := &Probe{t: t, engine: e, got: make(chan any, 1024)}
	p.pid = e.SpawnFunc(func(c *actor.Context) {
		switch m := c.Message().(type) {
		case actor.Initialized, actor.Started, actor.Stopped:
		case spawnChild:
			m.reply <- c.SpawnChild(m.producer, m.name, m.opts...)
		default:
			p.got <- m
		}
	}, "probe", actor.WithID(name), actor.WithInboxSize(64))
	t.Cleanup(func() {
		select {
		case <-e.Poison(p.pid).Done():
		case <-time.After(5 * time.Second):
			t.Errorf("probe %s did not stop within 5 s: a child of it is stuck", p.pid.ID)
		}
	})
	return p
}

// PID is the probe's address.
func (p *Probe) PID() *actor.PID { return p.pid }

// SpawnChild spawns an actor as the probe's child, so its messages to c.Parent() reach the probe.
func (p *Probe) SpawnChild(producer actor.Producer, name string, opts ...actor.OptFunc) *actor.PID {
	reply := make(chan *actor.PID, 1)
	p.engine.Send(p.pid, spawnChild{producer: producer, name: name, opts: opts, reply: reply})
	select {
	case pid := <-reply:
		return pid
	case <-time.After(5 * time.Second):
		p.t.Fatalf("probe %s: spawning %s timed out", p.pid.ID, name)
		return nil
	}
}

// Tell sends msg to target with the probe as the sender.
func (p *Probe) Tell(target *actor.PID, msg any) { p.engine.SendWithSender(target, msg, p.pid) }

// Expect returns the next message, failing the test if none arrives within timeout.
func (p *Probe) Expect(timeout time.Duration) any {
	p.t.Helper()
	select {
	case m := <-p.got:
		return m
	case <-time.After(timeout):
		p.t.Fatalf("probe %s: no message within %v", p.pid.ID, timeout)
		return nil
	}
}

// ExpectNone fails the test if a message arrives within d.
func (p *Probe) ExpectNone(d time.Duration) {
	p.t.Helper()
	select {
	case m := <-p.got:
		p.t.Fatalf("probe %s: unexpected %T %+v", p.pid.ID, m, m)
	case <-time.After(d):
	}
}

// ExpectMsg returns the next message, which must be a T.
func ExpectMsg[T any](p *Probe, timeout time.Duration) T {
	p.t.Helper()
	m := p.Expect(timeout)
	v, ok := m.(T)
	if !ok {
		var want T
		p.t.Fatalf("probe %s: got %T %+v, want %s", p.pid.ID, m, m, reflect.TypeOf(want))
	}
	return v
}

// FishFor skips messages until one is a T and satisfies pred, failing the test at the timeout.
// It returns the messages it skipped too, for assertions about what came before.
func FishFor[T any](p *Probe, timeout time.Duration, pred func(T) bool) (T, []any) {
	p.t.Helper()
	deadline := time.After(timeout)
	var skipped []any
	for {
		select {
		case m := <-p.got:
			if v, ok := m.(T); ok && (pred == nil || pred(v)) {
				return v, skipped
			}
			skipped = append(skipped, m)
		case <-deadline:
			var want T
			p.t.Fatalf("probe %s: no %s within %v; skipped %s", p.pid.ID, reflect.TypeOf(want), timeout, describe(skipped))
			var zero T
			return zero, skipped
		}
	}
}

func describe(msgs []any) string {
	s := ""
	for _, m := range msgs {
		s += fmt.Sprintf("\n  %T %+v", m, m)
	}
	return s
}
