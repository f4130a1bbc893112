package tgfake

import (
	"context"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

func TestGetUpdatesHoldsUntilAnUpdate(t *testing.T) {
	s := newServer(t)
	ctx := testCtx(t)
	sl := s.Seller(42, "ru", "Анна")

	got := pollAsync(ctx, s, map[string]string{"offset": "1", "timeout": "30"})
	waitHeld(ctx, t, s, 1)
	id := sl.Send("привет")
	select {
	case r := <-got:
		if r.err != nil || len(r.updates) != 1 || r.updates[0].ID != id || r.updates[0].Message.Text != "привет" {
			t.Fatalf("updates = %+v, %v", r.updates, r.err)
		}
	case <-ctx.Done():
		t.Fatal("held getUpdates did not return after Send")
	}
}

func TestGetUpdatesTimeoutReturnsEmpty(t *testing.T) {
	s := newServer(t)
	ctx := testCtx(t)
	start := time.Now()
	if ups := poll(ctx, t, s, map[string]string{"timeout": "1"}); len(ups) != 0 {
		t.Fatalf("updates = %+v", ups)
	}
	if d := time.Since(start); d < time.Second {
		t.Fatalf("returned after %v, before the 1 s timeout", d)
	}
}

func TestOffsetConfirmsAndRedelivery(t *testing.T) {
	s := newServer(t)
	ctx := testCtx(t)
	sl := s.Seller(1, "en", "Bo")
	first, second := sl.Send("one"), sl.Send("two")
	if first != 1 || second != 2 {
		t.Fatalf("update ids %d, %d", first, second)
	}

	ups := poll(ctx, t, s, map[string]string{"offset": "0", "timeout": "0"})
	if !slices.Equal(updateIDs(ups), []int64{1, 2}) {
		t.Fatalf("first poll = %v", updateIDs(ups))
	}
	// A bot that crashed before confirming asks again with the old offset and gets them again.
	ups = poll(ctx, t, s, map[string]string{"offset": "1", "timeout": "0"})
	if !slices.Equal(updateIDs(ups), []int64{1, 2}) {
		t.Fatalf("re-delivery = %v", updateIDs(ups))
	}
	// offset 2 confirms update 1 for good.
	ups = poll(ctx, t, s, map[string]string{"offset": "2", "timeout": "0"})
	if !slices.Equal(updateIDs(ups), []int64{2}) {
		t.Fatalf("after offset 2 = %v", updateIDs(ups))
	}
	ups = poll(ctx, t, s, map[string]string{"offset": "1", "timeout": "0"})
	if !slices.Equal(updateIDs(ups), []int64{2}) {
		t.Fatalf("confirmed update came back: %v", updateIDs(ups))
	}
	if ups := poll(ctx, t, s, map[string]string{"offset": "3", "timeout": "0"}); len(ups) != 0 {
		t.Fatalf("after confirming all = %v", updateIDs(ups))
	}

	// Resend delivers a confirmed update again, with its id, once.
	sl.Resend(first)
	ups = poll(ctx, t, s, map[string]string{"offset": "3", "timeout": "0"})
	if len(ups) != 1 || ups[0].ID != first || ups[0].Message.Text != "one" {
		t.Fatalf("resent = %+v", ups)
	}
	if ups := poll(ctx, t, s, map[string]string{"offset": "2", "timeout": "0"}); len(ups) != 0 {
		t.Fatalf("resent update delivered twice: %v", updateIDs(ups))
	}
}

func TestAllowedUpdates(t *testing.T) {
	s := newServer(t)
	ctx := testCtx(t)
	sl := s.Seller(1, "en", "Bo")
	sl.Send("text")
	sl.PreCheckout("p", "XTR", 5)

	ups := poll(ctx, t, s, map[string]string{"timeout": "0", "allowed_updates": `["pre_checkout_query"]`})
	if len(ups) != 1 || ups[0].PreCheckoutQuery == nil {
		t.Fatalf("filtered = %+v", ups)
	}
	// Without allowed_updates the previous setting stays, as on Telegram.
	if ups := poll(ctx, t, s, map[string]string{"timeout": "0"}); len(ups) != 1 {
		t.Fatalf("kept filter = %v", updateIDs(ups))
	}
	if ups := poll(ctx, t, s, map[string]string{"timeout": "0", "allowed_updates": `[]`}); len(ups) != 2 {
		t.Fatalf("reset filter = %v", updateIDs(ups))
	}
}

func TestSecondPollerConflicts(t *testing.T) {
	s := newServer(t)
	ctx := testCtx(t)
	older := pollAsync(ctx, s, map[string]string{"timeout": "30"})
	waitHeld(ctx, t, s, 1)
	newer := pollAsync(ctx, s, map[string]string{"timeout": "30"})
	select {
	case r := <-older:
		if r.err == nil || !strings.Contains(r.err.Error(), "409 Conflict: terminated by other getUpdates request") {
			t.Fatalf("older poll: %v, want 409", r.err)
		}
	case <-ctx.Done():
		t.Fatal("older poll was not kicked")
	}
	waitHeld(ctx, t, s, 1)
	s.Seller(1, "en", "Bo").Send("hi")
	if r := <-newer; r.err != nil || len(r.updates) != 1 {
		t.Fatalf("newer poll: %+v, %v", r.updates, r.err)
	}
}

func TestCloseReleasesHeldPoll(t *testing.T) {
	s := New(testToken)
	t.Cleanup(s.Close)
	ctx := testCtx(t)
	s.Seller(1, "en", "Al")
	s.Fail("sendMessage", 0, 1, Reply{Delay: time.Hour})
	slow := make(chan error, 1)
	go func() {
		_, _, err := post(ctx, s, "sendMessage", map[string]string{"chat_id": "1", "text": "x"})
		slow <- err
	}()
	done := pollAsync(ctx, s, map[string]string{"timeout": "50"})
	waitHeld(ctx, t, s, 1)
	if err := await(ctx, s, func() int { return len(s.rules) }, func(n int) bool { return n == 0 }); err != nil {
		t.Fatalf("the delayed call never arrived: %v", err)
	}
	s.Close()
	// Close returns only after every handler has: none of ours may be left running.
	buf := make([]byte, 1<<20)
	if stacks := string(buf[:runtime.Stack(buf, true)]); strings.Contains(stacks, "tgfake.(*Server)") {
		t.Fatalf("server goroutines left after Close:\n%s", stacks)
	}
	if err := <-slow; err != nil {
		t.Fatalf("delayed call: %v", err)
	}
	select {
	case r := <-done:
		if r.err != nil || len(r.updates) != 0 {
			t.Fatalf("updates = %+v, %v", r.updates, r.err)
		}
	case <-ctx.Done():
		t.Fatal("Close did not release the held poll")
	}
}

// TestPollingBot runs the library's own poller and handlers against the fake.
func TestPollingBot(t *testing.T) {
	s := newServer(t)
	sl := s.Seller(42, "ru", "Анна")
	handler := func(ctx context.Context, b *bot.Bot, u *models.Update) {
		switch {
		case u.Message != nil && strings.HasPrefix(u.Message.Text, "/start"):
			_, _ = b.SendMessage(ctx, &bot.SendMessageParams{
				ChatID: u.Message.Chat.ID, Text: "Привет, " + u.Message.From.FirstName,
				ReplyMarkup: keyboard([]models.InlineKeyboardButton{cb("Начать", "go")}),
			})
		case u.CallbackQuery != nil:
			_, _ = b.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: u.CallbackQuery.ID})
			_, _ = b.EditMessageText(ctx, &bot.EditMessageTextParams{
				ChatID: u.CallbackQuery.Message.Message.Chat.ID, MessageID: u.CallbackQuery.Message.Message.ID, Text: "Пришлите фото товара",
			})
		}
	}
	b, err := bot.New(testToken, bot.WithServerURL(s.URL()), bot.WithSkipGetMe(),
		bot.WithHTTPClient(3*time.Second, &http.Client{}), bot.WithDefaultHandler(handler), bot.WithNotAsyncHandlers())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		b.Start(ctx)
		close(stopped)
	}()
	defer func() {
		cancel()
		<-stopped
	}()

	sl.Send("/start")
	menu := sl.Expect(t, 5*time.Second, "the greeting", func(m Message) bool { return m.Text == "Привет, Анна" })
	if _, err := sl.Tap("go"); err != nil {
		t.Fatal(err)
	}
	sl.Expect(t, 5*time.Second, "the edited menu", func(m Message) bool {
		return m.ID == menu.ID && m.Text == "Пришлите фото товара" && len(m.Edits) == 1 && m.Buttons == nil
	})
	if n := len(s.AnsweredCallbacks()); n != 1 {
		t.Fatalf("answered callbacks = %d", n)
	}
}
