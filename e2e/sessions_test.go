package e2e

import (
	"testing"
	"time"

	"neurocards/config"
	"neurocards/keyboard"
	"neurocards/testkit/harness"
	"neurocards/testkit/tgfake"
)

// TestIdleSessionsAreRetiredAndRebuilt: a seller's session leaves memory when nothing is in
// flight and is rebuilt from the store on their next update, mid-order included; updates that
// arrive while it is stopping are not lost.
func TestIdleSessionsAreRetiredAndRebuilt(t *testing.T) {
	b := start(t, func(c *config.Config) { c.Timing.SessionIdle = 30 * time.Millisecond })
	s := b.seller(701, "ru")
	retired := func(n float64) func() bool {
		return func() bool { return b.App.Metrics.Value("neurocards_sessions_retired_total") >= n }
	}
	s.Send("/start")
	menu := s.Expect(t, wait, "the greeting", hasButton(keyboard.Kind.Data("card")))
	eventually(t, "the session to retire", retired(1))

	tap(t, s, keyboard.Kind.Data("card"))
	ask := s.ExpectNew(t, wait, menu.ID, "the photo request", contains("📸"))
	eventually(t, "the session to retire again", retired(2))
	s.SendPhoto(harness.Photo(640, 640), 640, 640, "")
	askText := s.ExpectNew(t, wait, ask.ID, "the description request, from a rebuilt session", hasButton(keyboard.Skip.Prefix()))

	// A burst across the retirement boundary: every update is answered, in order.
	eventually(t, "the session to retire a third time", retired(3))
	for range 5 {
		s.Send("/balance")
	}
	s.ExpectUntil(t, wait, "five balances", func(msgs []tgfake.Message) bool {
		n := 0
		for _, m := range msgs {
			if m.ID > askText.ID && contains("Баланс: 20 кредитов")(m) {
				n++
			}
		}
		return n == 5
	})
	tap(t, s, buttonData(askText, keyboard.Skip.Prefix()))
	confirm := s.Expect(t, wait, "the confirmation", hasButton(keyboard.Generate.Prefix()))
	tap(t, s, buttonData(confirm, keyboard.Generate.Prefix()))
	status := s.ExpectNew(t, wait, confirm.ID, "the status", contains("Принял"))
	s.ExpectNew(t, wait, status.ID, "the card", isFile("sendPhoto"))
	statusSays(t, s, status.ID, "Готово")
	if got := b.ledger(701); got != "grant+20 hold(3) capture-3" {
		t.Errorf("ledger: %s", got)
	}
}
