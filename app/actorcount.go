package app

import (
	"strings"

	"github.com/anthdm/hollywood/actor"

	"neurocards/metrics"
)

// countActors keeps the metrics' count of actors alive by kind from the engine's own events,
// which hollywood broadcasts for every actor that starts or stops: the count needs nothing from
// the actors themselves. The returned func stops counting.
func countActors(e *actor.Engine, m *metrics.Metrics) (stop func()) {
	pid := e.SpawnFunc(func(c *actor.Context) {
		switch ev := c.Message().(type) {
		case actor.ActorStartedEvent:
			if ev.PID.ID != c.PID().ID {
				m.ActorStarted(actorKind(ev.PID))
			}
		case actor.ActorStoppedEvent:
			if ev.PID.ID != c.PID().ID {
				m.ActorStopped(actorKind(ev.PID))
			}
		}
	}, "actorcount", actor.WithInboxSize(1024))
	e.Subscribe(pid)
	return func() {
		e.Unsubscribe(pid)
		<-e.Poison(pid).Done()
	}
}

// actorKind is the kind an actor was spawned as: its id is "kind/id", a child's is its parent's
// id, "/", then its own — so the kind is the second to last part.
func actorKind(pid *actor.PID) string {
	parts := strings.Split(pid.ID, "/")
	if len(parts) < 2 {
		return pid.ID
	}
	return parts[len(parts)-2]
}
