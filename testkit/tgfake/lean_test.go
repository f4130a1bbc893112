package tgfake

import (
	"fmt"
	"testing"

	"github.com/go-telegram/bot"
)

// A lean server counts calls instead of keeping them, keeps no edit history and only a chat's
// latest messages — and still serves the bot and the seller as before.
func TestLeanKeepsCountsAndTheLatestMessages(t *testing.T) {
	s := newServer(t)
	s.Lean()
	sl := s.Seller(7, "ru", "Lean")
	b := newBot(t, s)
	ctx := testCtx(t)
	var last int
	for i := range 20 {
		m, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 7, Text: fmt.Sprintf("message %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		last = m.ID
	}
	for i := range 3 {
		if _, err := b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: 7, MessageID: last, Text: fmt.Sprintf("edited %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.CountCalls("sendMessage", 0); n != 20 {
		t.Errorf("sendMessage counted %d, want 20", n)
	}
	if err := s.WaitCalls(ctx, "editMessageText", 3); err != nil {
		t.Error(err)
	}
	if calls := s.Calls(""); len(calls) != 0 {
		t.Errorf("a lean server kept %d calls", len(calls))
	}
	msgs := sl.BotMessages()
	if len(msgs) != leanKeep || msgs[0].Text != fmt.Sprintf("message %d", 20-leanKeep) {
		t.Fatalf("kept %d messages from %q, want the latest %d", len(msgs), msgs[0].Text, leanKeep)
	}
	if m, _ := sl.Last(); m.Text != "edited 2" || len(m.Edits) != 0 {
		t.Errorf("the last message: %q with %d earlier texts kept", m.Text, len(m.Edits))
	}
}
