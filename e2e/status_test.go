package e2e

import (
	"strconv"
	"testing"
	"time"

	"neurocards/config"
	"neurocards/testkit/kiefake"
)

// TestStatusEditsAreCoalesced: the status message follows the job (queued, generating with the
// elapsed time, sending, done) with at most one edit per interval and never the same text twice.
func TestStatusEditsAreCoalesced(t *testing.T) {
	const interval = 300 * time.Millisecond
	b := start(t, func(c *config.Config) {
		c.Timing.StatusInterval = interval
		c.Timing.StatusTick = 20 * time.Millisecond
		c.Timing.PollMin, c.Timing.PollMax = 20*time.Millisecond, 20*time.Millisecond
	})
	b.KIE.Script(func(int, string, map[string]any) kiefake.Script { return kiefake.Script{Waiting: 40, Generating: 40} })
	s := startSeller(t, b, 31, "ru")
	status := order(t, s, "video", "Лампа")
	s.ExpectNew(t, wait, status.ID, "the video", isFile("sendVideo"))
	statusSays(t, s, status.ID, "Готово")

	var edits []time.Time
	var texts []string
	for _, c := range b.Telegram.Calls("editMessageText") {
		if c.Fields["message_id"] == strconv.Itoa(status.ID) && c.Status == 200 {
			edits = append(edits, c.At)
			texts = append(texts, c.Fields["text"])
		}
	}
	if len(edits) < 3 {
		t.Fatalf("edits: %d (%q), want the generating time to tick and the end to show", len(edits), texts)
	}
	for i := 1; i < len(edits); i++ {
		if gap := edits[i].Sub(edits[i-1]); gap < interval-20*time.Millisecond {
			t.Errorf("edits %d and %d are %v apart, want ≥ %v", i-1, i, gap, interval)
		}
		if texts[i] == texts[i-1] {
			t.Errorf("edit %d repeats %q", i, texts[i])
		}
	}
	var sawElapsed bool
	for _, text := range texts {
		if contains("Генерирую… 0:0")(tgMessage(text)) {
			sawElapsed = true
		}
	}
	if !sawElapsed {
		t.Errorf("no edit showed the elapsed time: %q", texts)
	}
}
