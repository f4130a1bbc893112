package e2e

import (
	"sync/atomic"
	"testing"

	"github.com/anthdm/hollywood/actor"

	"neurocards/actors"
	"neurocards/messages"
	"neurocards/testkit/harness"
	"neurocards/testkit/kiefake"
)

// TestPanicInEachActorKind: a panic inside Receive of each kind of actor is a message to its
// owner, never a crash of the process: the seller whose work it hit is told (an update is
// answered "something went wrong"; a job fails as ours, with its credits back and a retry
// button), and another seller's job in flight at that moment is delivered.
func TestPanicInEachActorKind(t *testing.T) {
	for _, tc := range []struct {
		kind  string
		fires func(msg any) bool
		// job: the victim orders a job (the panic hits it); otherwise the victim sends "/boom".
		job bool
	}{
		{kind: "router", fires: isBoom},
		{kind: "session", fires: isBoom},
		{kind: "job", fires: func(msg any) bool { _, ok := msg.(messages.PhotoUploaded); return ok }, job: true},
		{kind: "generate", fires: func(msg any) bool { _, ok := msg.(actor.Started); return ok }, job: true},
		{kind: "deliver", fires: func(msg any) bool { _, ok := msg.(actor.Started); return ok }, job: true},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			var armed atomic.Bool
			b := startWith(t, harness.Options{Hooks: actors.Hooks{OnReceive: func(kind string, msg any) {
				if kind == tc.kind && tc.fires(msg) && armed.CompareAndSwap(true, false) {
					panic("injected fault in a " + kind)
				}
			}}})
			// The other seller's task takes a while; the victim's is quick.
			b.KIE.Script(func(n int, _ string, _ map[string]any) kiefake.Script {
				if n == 1 {
					return kiefake.Script{Waiting: 30, Generating: 30}
				}
				return kiefake.Script{}
			})
			other, victim := startSeller(t, b, 701, "ru"), startSeller(t, b, 702, "ru")
			otherStatus := order(t, other, "video", "Чайник")
			waitForJob(t, b, 701, "the other seller's task", func(j messages.Job) bool { return j.Stage == messages.StageSubmitted })

			armed.Store(true)
			if tc.job {
				status := order(t, victim, "card", "Кружка")
				failedWith(t, victim, status.ID, "Простите")
				if got := b.ledger(702); got != "grant+20 hold(3) release(3)" {
					t.Errorf("ledger of the victim: %s", got)
				}
				if j := onlyJob(t, b, 702); j.Failure == nil || j.Failure.Class != messages.Internal {
					t.Errorf("victim's job: %+v", j.Failure)
				}
			} else {
				last := lastID(victim)
				victim.Send("/boom")
				victim.ExpectNew(t, wait, last, "the apology", contains("Что-то пошло не так"))
			}
			if armed.Load() {
				t.Fatal("the injected panic never fired")
			}

			other.ExpectNew(t, wait, otherStatus.ID, "the other seller's video", isFile("sendVideo"))
			statusSays(t, other, otherStatus.ID, "Готово")
			if got := b.ledger(701); got != "grant+20 hold(10) capture-10" {
				t.Errorf("ledger of the other seller: %s", got)
			}
			// The bot keeps serving the victim.
			victim.Send("/balance")
			victim.Expect(t, wait, "the balance after the panic", contains("Баланс:"))
		})
	}
}

func isBoom(msg any) bool {
	u, ok := msg.(messages.Update)
	return ok && u.Update.Message != nil && u.Update.Message.Text == "/boom"
}
