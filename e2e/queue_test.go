package e2e

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"neurocards/config"
	"neurocards/keyboard"
	"neurocards/testkit/harness"
	"neurocards/testkit/tgfake"
)

// TestQueueShowsPlace: KIE takes 2 createTask calls per 10 s and 10 sellers confirm at once. Each
// seller waiting in the line sees a place that only goes down and an estimate, in their language,
// until the job starts; every job is delivered.
func TestQueueShowsPlace(t *testing.T) {
	b := startClocked(t, func(c *config.Config) {
		c.Limits.KIECreatePer10s = 2
		c.Timing.StatusInterval, c.Timing.StatusTick = time.Second, time.Second
	})
	sellers, statuses := confirmTen(t, b)
	for i, s := range sellers {
		advanceUntil(t, b, time.Second, fmt.Sprintf("seller %d's card", i), saw(s, isFile("sendPhoto")))
	}
	place := regexp.MustCompile(`(?:#|: )(\d+)(?:-й|,)`)
	for i, s := range sellers {
		lang := map[bool]string{true: "In line", false: "В очереди"}[i%2 == 1]
		m, _ := s.Message(statuses[i].ID)
		var places []int
		estimate := false
		for _, text := range append(append([]string{}, m.Edits...), m.Text) {
			if !strings.Contains(text, "In line") && !strings.Contains(text, "В очереди") {
				continue
			}
			if !strings.Contains(text, lang) {
				t.Errorf("seller %d saw the queue in the other language: %q", i, text)
			}
			if p := place.FindStringSubmatch(text); p != nil {
				n, _ := strconv.Atoi(p[1])
				places = append(places, n)
				estimate = estimate || strings.Contains(text, "через") || strings.Contains(text, "starting in")
			}
		}
		for j := 1; j < len(places); j++ {
			if places[j] > places[j-1] {
				t.Errorf("seller %d's place went up: %v", i, places)
			}
		}
		if i >= 1 && (len(places) == 0 || !estimate) {
			t.Errorf("seller %d never saw a place with an estimate: %q", i, append(m.Edits, m.Text))
		}
	}
	if n := len(b.KIE.Tasks()); n != 10 {
		t.Errorf("KIE tasks: %d, want 10", n)
	}
}

// TestQueueTooLongIsRefusedBeforeHolding: with ten jobs in the line, an eleventh seller, whose
// wait would leave the job too little time before its deadline, is told the bot is busy and when
// to try, and keeps their credits; the confirmation already showed the wait.
func TestQueueTooLongIsRefusedBeforeHolding(t *testing.T) {
	b := startClocked(t, func(c *config.Config) {
		c.Limits.KIECreatePer10s = 2
		// The line lets one createTask out at once and then one per 10 s, so the tenth seller waits
		// 90 s and the eleventh would wait 100 s; a card takes about a minute, and a job may wait
		// 95 s for its turn and still finish by its deadline.
		c.Timing.JobTimeout = time.Minute + 95*time.Second
		for i := range c.Kinds {
			c.Kinds[i].ExpectedSeconds = 60
		}
	})
	confirmTen(t, b)
	eleventh := startSeller(t, b, 911, "en")
	last := lastID(eleventh)
	tap(t, eleventh, keyboard.Kind.Data("card"))
	ask := eleventh.ExpectNew(t, wait, last, "the photo request", contains("📸"))
	eleventh.SendPhoto(harness.Photo(800, 1000), 800, 1000, "")
	askText := eleventh.ExpectNew(t, wait, ask.ID, "the description request", hasButton(keyboard.Skip.Prefix()))
	tap(t, eleventh, buttonData(askText, keyboard.Skip.Prefix()))
	confirm := eleventh.ExpectNew(t, wait, askText.ID, "the confirmation", hasButton(keyboard.Generate.Prefix()))
	if !strings.Contains(confirm.Text, "queue now: starting in about 2 min") {
		t.Errorf("the confirmation does not show the wait: %q", confirm.Text)
	}
	tap(t, eleventh, buttonData(confirm, keyboard.Generate.Prefix()))
	eleventh.ExpectNew(t, wait, confirm.ID, "the refusal", contains("Too many orders right now"))
	if got := b.ledger(911); got != "grant+20" {
		t.Errorf("ledger of the eleventh seller: %s", got)
	}
	if n := len(b.jobs(911)); n != 0 {
		t.Errorf("jobs of the eleventh seller: %d", n)
	}
}

// confirmTen has ten sellers, half Russian and half English, confirm a card each.
func confirmTen(t *testing.T, b *bot) ([]*tgfake.Seller, []tgfake.Message) {
	t.Helper()
	var sellers []*tgfake.Seller
	var statuses []tgfake.Message
	for i := range 10 {
		lang := "ru"
		if i%2 == 1 {
			lang = "en"
		}
		s := b.seller(int64(900+i), lang)
		s.Send("/start")
		s.Expect(t, wait, "the greeting", hasButton(keyboard.Kind.Data("card")))
		sellers = append(sellers, s)
		statuses = append(statuses, order(t, s, "card", "Кружка"))
	}
	return sellers, statuses
}
