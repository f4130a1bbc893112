package e2e

import (
	"regexp"
	"strconv"
	"testing"
	"time"

	"neurocards/config"
	"neurocards/messages"
	"neurocards/testkit/kiefake"
	"neurocards/testkit/tgfake"
)

// TestStatusEditsAreCoalesced: the status message follows the job (generating with the elapsed
// time, sending, done) with at most one edit per interval of the bot's clock and never the same
// text twice. The clock is the test's: the elapsed time each edit shows is when the bot made it.
func TestStatusEditsAreCoalesced(t *testing.T) {
	const interval = 3 * time.Second
	b := startClocked(t, func(c *config.Config) {
		c.Timing.StatusInterval = interval
		c.Timing.StatusTick = time.Second
		c.Timing.PollMin, c.Timing.PollMax = time.Second, time.Second
	})
	b.KIE.Script(func(int, string, map[string]any) kiefake.Script { return kiefake.Script{Waiting: 10, Generating: 10} })
	s := startSeller(t, b, 31, "ru")
	status := order(t, s, "video", "Лампа")
	waitForJob(t, b, 31, "the task created", func(j messages.Job) bool { return j.Stage == messages.StageSubmitted })
	advanceUntil(t, b, 500*time.Millisecond, "the video", saw(s, isFile("sendVideo")))
	advanceUntil(t, b, 500*time.Millisecond, "the status to say done", saw(s, func(m tgfake.Message) bool { return m.ID == status.ID && contains("Готово")(m) }))

	var texts []string
	for _, c := range b.Telegram.Calls("editMessageText") {
		if c.Fields["message_id"] == strconv.Itoa(status.ID) && c.Status == 200 {
			texts = append(texts, c.Fields["text"])
		}
	}
	elapsed := regexp.MustCompile(`Генерирую… (\d+):(\d\d)`)
	var shown []time.Duration
	for i, text := range texts {
		if i > 0 && text == texts[i-1] {
			t.Errorf("edit %d repeats %q", i, text)
		}
		if m := elapsed.FindStringSubmatch(text); m != nil {
			min, _ := strconv.Atoi(m[1])
			sec, _ := strconv.Atoi(m[2])
			shown = append(shown, time.Duration(min)*time.Minute+time.Duration(sec)*time.Second)
		}
	}
	if len(shown) < 3 {
		t.Fatalf("edits showing the elapsed time: %d (%q), want the generating time to tick", len(shown), texts)
	}
	for i := 1; i < len(shown); i++ {
		if gap := shown[i] - shown[i-1]; gap < interval {
			t.Errorf("edits %d and %d show %v and %v: %v apart on the bot's clock, want ≥ %v", i-1, i, shown[i-1], shown[i], gap, interval)
		}
	}
}
