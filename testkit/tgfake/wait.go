package tgfake

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// ErrClosed is returned by the waits when the server closes first.
var ErrClosed = errors.New("tgfake: server closed")

// await re-reads state after every change until ok accepts it. snap runs under the lock; ok runs
// outside it, so predicates may call back into the Server.
func await[T any](ctx context.Context, s *Server, snap func() T, ok func(T) bool) error {
	for {
		s.mu.Lock()
		v := snap()
		changed := s.changed
		s.mu.Unlock()
		if ok(v) {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.done:
			return ErrClosed
		}
	}
}

// Wait returns the first bot message, in transcript order and including those already there,
// that satisfies pred, waiting for one as long as ctx allows.
func (sl *Seller) Wait(ctx context.Context, pred func(Message) bool) (Message, error) {
	return sl.WaitNew(ctx, 0, pred)
}

// WaitNew is Wait restricted to bot messages with an ID above after.
func (sl *Seller) WaitNew(ctx context.Context, after int, pred func(Message) bool) (Message, error) {
	var found Message
	err := await(ctx, sl.s, func() []Message { return sl.chat().snapshot(true) }, func(msgs []Message) bool {
		for _, m := range msgs {
			if m.ID > after && pred(m) {
				found = m
				return true
			}
		}
		return false
	})
	if err != nil {
		return Message{}, fmt.Errorf("tgfake: chat %d: wait for a bot message: %w", sl.id, err)
	}
	return found, nil
}

// WaitUntil waits until cond holds for the whole transcript (seller's and bot's messages).
func (sl *Seller) WaitUntil(ctx context.Context, cond func(msgs []Message) bool) error {
	err := await(ctx, sl.s, func() []Message { return sl.chat().snapshot(false) }, cond)
	if err != nil {
		return fmt.Errorf("tgfake: chat %d: wait for the transcript: %w", sl.id, err)
	}
	return nil
}

// WaitCalls waits until at least n calls of method ("" for any) have been answered.
func (s *Server) WaitCalls(ctx context.Context, method string, n int) error {
	err := await(ctx, s, func() int { return s.countCalls(method, 0) }, func(got int) bool { return got >= n })
	if err != nil {
		return fmt.Errorf("tgfake: wait for %d %s calls (have %d): %w", n, method, s.CountCalls(method, 0), err)
	}
	return nil
}

// Expect is Wait with a timeout that fails the test with the transcript.
func (sl *Seller) Expect(t testing.TB, timeout time.Duration, what string, pred func(Message) bool) Message {
	t.Helper()
	return sl.ExpectNew(t, timeout, 0, what, pred)
}

// ExpectNew is WaitNew with a timeout that fails the test with the transcript.
func (sl *Seller) ExpectNew(t testing.TB, timeout time.Duration, after int, what string, pred func(Message) bool) Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	m, err := sl.WaitNew(ctx, after, pred)
	if err != nil {
		t.Fatalf("expected %s within %v: %v\n%s", what, timeout, err, sl.Transcript())
	}
	return m
}

// ExpectUntil is WaitUntil with a timeout that fails the test with the transcript.
func (sl *Seller) ExpectUntil(t testing.TB, timeout time.Duration, what string, cond func([]Message) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := sl.WaitUntil(ctx, cond); err != nil {
		t.Fatalf("expected %s within %v: %v\n%s", what, timeout, err, sl.Transcript())
	}
}

// Transcript renders the chat for failure messages.
func (sl *Seller) Transcript() string {
	sl.s.mu.Lock()
	c := sl.chat()
	user := c.user
	msgs := c.snapshot(false)
	sl.s.mu.Unlock()

	var b strings.Builder
	fmt.Fprintf(&b, "chat %d (%s, %s), %d messages:\n", user.ID, user.FirstName, user.LanguageCode, len(msgs))
	for _, m := range msgs {
		b.WriteString(formatMessage(m))
	}
	return b.String()
}

func formatMessage(m Message) string {
	var b strings.Builder
	who := m.Method
	if m.FromBot {
		who = "bot " + m.Method
	}
	if m.Deleted {
		who += " [deleted]"
	}
	fmt.Fprintf(&b, "  #%d %s %s:", m.ID, m.SentAt.Format("15:04:05.000"), who)
	if m.Text != "" {
		fmt.Fprintf(&b, " %q", m.Text)
	}
	if m.File != nil {
		fmt.Fprintf(&b, " [%s", m.File.Field)
		if m.File.Name != "" {
			fmt.Fprintf(&b, " %s", m.File.Name)
		}
		if m.File.FileID != "" {
			fmt.Fprintf(&b, " id %s", m.File.FileID)
		}
		fmt.Fprintf(&b, ", %d bytes]", m.File.Size)
	}
	if m.Caption != "" {
		fmt.Fprintf(&b, " caption %q", m.Caption)
	}
	if i := m.Invoice; i != nil {
		fmt.Fprintf(&b, " [invoice %q %d %s payload %s]", i.Title, i.Amount, i.Currency, i.Payload)
	}
	if p := m.Payment; p != nil {
		verb := "paid"
		if p.Refunded {
			verb = "refunded"
		}
		fmt.Fprintf(&b, " [%s %d %s payload %s charge %s]", verb, p.Amount, p.Currency, p.Payload, p.ChargeID)
	}
	b.WriteString("\n")
	for _, row := range m.Buttons {
		b.WriteString("      ")
		for _, btn := range row {
			target := btn.Data
			if btn.URL != "" {
				target = btn.URL
			}
			fmt.Fprintf(&b, "[%s → %s] ", btn.Text, target)
		}
		b.WriteString("\n")
	}
	if len(m.Edits) > 0 {
		fmt.Fprintf(&b, "      edited %d×, earlier: %q\n", len(m.Edits), m.Edits)
	}
	return b.String()
}

// WaitFailsTaken waits until every Fail rule has been used up: the scripted calls are in flight
// (or done). A test that kills the bot "while Telegram holds a call" waits for this first.
func (s *Server) WaitFailsTaken(ctx context.Context) error {
	left := func() int { // called with s.mu held
		n := 0
		for _, r := range s.rules {
			n += r.left
		}
		return n
	}
	if err := await(ctx, s, left, func(n int) bool { return n == 0 }); err != nil {
		return fmt.Errorf("tgfake: wait for scripted failures to be used: %w", err)
	}
	return nil
}
