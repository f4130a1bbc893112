package tgfake

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot"
)

func TestScriptedFailures(t *testing.T) {
	s := newServer(t)
	b := newBot(t, s)
	sl := s.Seller(1, "en", "Sam")
	other := s.Seller(2, "en", "Oli")
	send := func(ctx context.Context, chat int64) error {
		_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: chat, Text: "hello"})
		return err
	}

	t.Run("429 with retry_after", func(t *testing.T) {
		s.Fail("SENDMESSAGE", 1, 1, Reply{Status: 429, RetryAfter: 7})
		err := send(testCtx(t), 1)
		var tmr *bot.TooManyRequestsError
		if !errors.As(err, &tmr) || tmr.RetryAfter != 7 {
			t.Fatalf("err = %v, want TooManyRequestsError with RetryAfter 7", err)
		}
	})
	t.Run("403 and 500", func(t *testing.T) {
		s.Fail("sendMessage", 0, 1, Reply{Status: 403, Description: "Forbidden: user is deactivated"})
		s.Fail("sendMessage", 0, 1, Reply{Status: 500})
		if err := send(testCtx(t), 1); !errors.Is(err, bot.ErrorForbidden) || !strings.Contains(err.Error(), "deactivated") {
			t.Fatalf("first: %v", err)
		}
		err := send(testCtx(t), 1)
		if err == nil || errors.Is(err, bot.ErrorBadRequest) || !strings.Contains(err.Error(), "500") {
			t.Fatalf("second: %v", err)
		}
	})
	t.Run("only the scripted chat fails", func(t *testing.T) {
		s.Fail("sendMessage", 1, 1, Reply{Status: 400})
		if err := send(testCtx(t), 2); err != nil {
			t.Fatalf("other chat: %v", err)
		}
		if err := send(testCtx(t), 1); !errors.Is(err, bot.ErrorBadRequest) {
			t.Fatalf("scripted chat: %v", err)
		}
	})
	t.Run("HTML 502", func(t *testing.T) {
		s.Fail("sendMessage", 0, 1, Reply{HTML: true})
		err := send(testCtx(t), 1)
		if err == nil || !strings.Contains(err.Error(), "error decode response body") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("closed connection", func(t *testing.T) {
		s.Fail("sendMessage", 0, 1, Reply{CloseConn: true})
		err := send(testCtx(t), 1)
		var ue *url.Error
		if !errors.As(err, &ue) {
			t.Fatalf("err = %v, want a *url.Error", err)
		}
	})
	t.Run("slow error", func(t *testing.T) {
		s.Fail("sendMessage", 0, 1, Reply{Status: 500, Delay: time.Minute})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		errc := make(chan error, 1)
		go func() { errc <- send(ctx, 1) }()
		// Give up only once the server holds the call, however slow the machine is.
		if err := s.WaitFailsTaken(testCtx(t)); err != nil {
			t.Fatal(err)
		}
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want canceled", err)
		}
	})

	if n := len(sl.Messages()); n != 0 {
		t.Fatalf("failed calls left %d messages:\n%s", n, sl.Transcript())
	}
	if n := len(other.Messages()); n != 1 {
		t.Fatalf("other chat has %d messages", n)
	}
	if n := s.Count429(); n != 1 {
		t.Fatalf("Count429 = %d", n)
	}
	if err := s.WaitCalls(testCtx(t), "sendMessage", 8); err != nil {
		t.Fatal(err)
	}
	var statuses []int
	for _, c := range s.Calls("sendMessage") {
		statuses = append(statuses, c.Status)
	}
	want := []int{429, 403, 500, 200, 400, 502, 0, 500}
	if len(statuses) < len(want) {
		t.Fatalf("statuses = %v", statuses)
	}
	for i, w := range want {
		if statuses[i] != w {
			t.Fatalf("statuses = %v, want prefix %v", statuses, want)
		}
	}
}

func TestSlowButAcceptedCall(t *testing.T) {
	s := newServer(t)
	b := newBot(t, s)
	sl := s.Seller(1, "en", "Sam")
	// The client gives up, but Telegram still delivers: the duplicate risk of retrying sends.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	s.Fail("sendMessage", 0, 1, Reply{Delay: 300 * time.Millisecond})
	if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 1, Text: "late"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	sl.Expect(t, 5*time.Second, "the late message", func(m Message) bool { return m.Text == "late" })
}

func TestBlock(t *testing.T) {
	s := newServer(t)
	b := newBot(t, s)
	ctx := testCtx(t)
	sl := s.Seller(5, "ru", "Max")
	m, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 5, Text: "before"})
	if err != nil {
		t.Fatal(err)
	}
	s.Block(5)
	if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 5, Text: "after"}); !errors.Is(err, bot.ErrorForbidden) ||
		!strings.Contains(err.Error(), "bot was blocked by the user") {
		t.Fatalf("send to a blocked user: %v", err)
	}
	if _, err := b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: 5, MessageID: m.ID, Text: "edit"}); !errors.Is(err, bot.ErrorForbidden) {
		t.Fatalf("edit for a blocked user: %v", err)
	}
	s.Unblock(5)
	if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 5, Text: "again"}); err != nil {
		t.Fatalf("after Unblock: %v", err)
	}
	if msgs := sl.BotMessages(); len(msgs) != 2 || msgs[0].Text != "before" || len(msgs[0].Edits) != 0 {
		t.Fatalf("messages = %+v", msgs)
	}
}

func TestEnforceLimits(t *testing.T) {
	s := newServer(t)
	b := newBot(t, s)
	ctx := testCtx(t)
	a, c := s.Seller(1, "en", "A"), s.Seller(2, "en", "C")
	s.EnforceLimits(Limits{PerChat: 2, PerChatWindow: time.Minute, Global: 3, GlobalWindow: time.Minute})

	send := func(chat int64) error {
		_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: chat, Text: "x"})
		return err
	}
	for range 2 {
		if err := send(1); err != nil {
			t.Fatal(err)
		}
	}
	var tmr *bot.TooManyRequestsError
	if err := send(1); !errors.As(err, &tmr) || tmr.RetryAfter < 59 || tmr.RetryAfter > 60 {
		t.Fatalf("third send to one chat: %v", err)
	}
	// Chat actions are not messages and are not limited.
	if _, err := b.SendChatAction(ctx, &bot.SendChatActionParams{ChatID: 1, Action: "typing"}); err != nil {
		t.Fatalf("SendChatAction: %v", err)
	}
	if err := send(2); err != nil {
		t.Fatalf("first send to another chat: %v", err)
	}
	if err := send(2); !errors.As(err, &tmr) {
		t.Fatalf("send beyond the global limit: %v", err)
	}
	if n := s.Count429(); n != 2 {
		t.Fatalf("Count429 = %d", n)
	}
	if len(a.Messages()) != 2 || len(c.Messages()) != 1 {
		t.Fatalf("limited calls created messages: %d, %d", len(a.Messages()), len(c.Messages()))
	}
	calls := s.Calls("sendMessage")
	if last := calls[len(calls)-1]; last.Status != http.StatusTooManyRequests || last.RetryAfter == 0 {
		t.Fatalf("last call = %+v", last)
	}

	s.EnforceLimits(Limits{})
	if err := send(1); err != nil {
		t.Fatalf("after disabling limits: %v", err)
	}
}
