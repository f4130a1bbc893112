package telegram

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"

	"neurocards/testkit"
	"neurocards/testkit/tgfake"
)

func newGateway(t *testing.T, tg *tgfake.Server, perChat time.Duration) *Gateway {
	t.Helper()
	g, err := New(Config{Token: testkit.BotToken, APIURL: tg.URL(), PerSec: 1000, PerChat: perChat, CallTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// Posted calls reach a chat in the order they were posted, whatever their size.
func TestPostKeepsPerChatOrder(t *testing.T) {
	tg := tgfake.New(testkit.BotToken)
	defer tg.Close()
	s := tg.Seller(1, "ru", "A")
	g := newGateway(t, tg, time.Millisecond)
	for i := range 20 {
		text := strings.Repeat("x", 1+(19-i)*100) + " #" + string(rune('a'+i))
		g.Post(1, func(ctx context.Context) { g.Send(ctx, 1, text, nil) })
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := g.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	msgs := s.BotMessages()
	if len(msgs) != 20 {
		t.Fatalf("messages: %d", len(msgs))
	}
	for i, m := range msgs {
		if !strings.HasSuffix(m.Text, " #"+string(rune('a'+i))) {
			t.Fatalf("message %d is %q", i, m.Text[len(m.Text)-3:])
		}
	}
}

// Messages to one chat keep the per-chat spacing, measured where Telegram measures: on arrival.
func TestPerChatSpacing(t *testing.T) {
	tg := tgfake.New(testkit.BotToken)
	defer tg.Close()
	tg.Seller(1, "ru", "A")
	g := newGateway(t, tg, 100*time.Millisecond)
	for range 4 {
		if _, err := g.Send(context.Background(), 1, "hi", nil); err != nil {
			t.Fatal(err)
		}
	}
	calls := tg.Calls("sendMessage")
	if len(calls) != 4 {
		t.Fatalf("Telegram got %d messages, want 4", len(calls))
	}
	// One late arrival can bring the next one closer to it, so the spacing is judged over the
	// whole run: four messages span at least three intervals, give or take a scheduler's delay.
	if span := calls[3].At.Sub(calls[0].At); span < 270*time.Millisecond {
		t.Errorf("four messages arrived within %v, want about 3 × 100ms", span)
	}
}

func TestSendWaitsOutA429(t *testing.T) {
	tg := tgfake.New(testkit.BotToken)
	defer tg.Close()
	s := tg.Seller(1, "ru", "A")
	tg.Fail("sendMessage", 1, 1, tgfake.Reply{Status: 429, Description: "Too Many Requests: retry after 1", RetryAfter: 1})
	g := newGateway(t, tg, time.Millisecond)
	if _, err := g.Send(context.Background(), 1, "after the wait", nil); err != nil {
		t.Fatal(err)
	}
	calls := tg.Calls("sendMessage")
	if len(calls) != 2 || calls[1].At.Sub(calls[0].At) < time.Second {
		t.Fatalf("calls: %+v", calls)
	}
	if m, _ := s.Last(); m.Text != "after the wait" {
		t.Errorf("delivered %q", m.Text)
	}
}

// A 429 whose retry_after is absurd (a broken proxy, a lying server) pauses the chat for
// MaxRetryAfter, neither for days nor — overflowing — not at all.
func TestHugeRetryAfterIsCapped(t *testing.T) {
	tg := tgfake.New(testkit.BotToken)
	defer tg.Close()
	tg.Seller(1, "ru", "A")
	g := newGateway(t, tg, time.Millisecond)
	file := filepath.Join(t.TempDir(), "card.png")
	if err := os.WriteFile(file, testkit.Photo(64, 64), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, after := range []int{86400, 9223372037} {
		tg.Fail("sendPhoto", 1, 1, tgfake.Reply{Status: 429, RetryAfter: after})
		before := time.Now()
		_, err := g.SendFile(context.Background(), 1, FilePhoto, file, "", nil)
		if f := Classify(err); f.RetryAfter != MaxRetryAfter {
			t.Errorf("retry_after %d: the job is told to wait %v, want %v", after, f.RetryAfter, MaxRetryAfter)
		}
		g.mu.Lock()
		c := g.chatLocked(1)
		pause := c.notBefore.Sub(before)
		c.notBefore = time.Time{}
		g.mu.Unlock()
		if pause <= 0 || pause > MaxRetryAfter+time.Second {
			t.Errorf("retry_after %d: the chat is paused for %v, want at most %v", after, pause, MaxRetryAfter)
		}
	}
}

func TestBlockedChatIsNotWrittenToAgain(t *testing.T) {
	tg := tgfake.New(testkit.BotToken)
	defer tg.Close()
	tg.Seller(1, "ru", "A")
	tg.Block(1)
	var told atomic.Int32
	g, _ := New(Config{Token: testkit.BotToken, APIURL: tg.URL(), PerChat: time.Millisecond})
	g.OnBlocked(func(int64) { told.Add(1) })
	for range 3 {
		if _, err := g.Send(context.Background(), 1, "hello?", nil); err == nil {
			t.Fatal("sent to a blocked chat")
		}
	}
	if n := tg.CountCalls("sendMessage", 1); n != 1 || told.Load() != 1 {
		t.Errorf("sendMessage calls %d, OnBlocked %d; want 1 and 1", n, told.Load())
	}
	tg.Unblock(1)
	g.Unblock(1)
	if _, err := g.Send(context.Background(), 1, "welcome back", nil); err != nil {
		t.Errorf("after unblocking: %v", err)
	}
}

// A failed file download never shows the token, which is in the file URL.
func TestDownloadErrorsHideTheToken(t *testing.T) {
	tg := tgfake.New(testkit.BotToken)
	s := tg.Seller(1, "ru", "A")
	g := newGateway(t, tg, time.Millisecond)
	var buf bytes.Buffer
	if _, err := g.Download(context.Background(), "no-such-file", &buf, 1<<20); err == nil || strings.Contains(err.Error(), testkit.BotToken) {
		t.Errorf("unknown file: %v", err)
	}
	id := s.SendPhoto(testkit.Photo(320, 320), 320, 320, "")
	u, _ := tg.Update(id)
	fileID := u.Message.Photo[len(u.Message.Photo)-1].FileID
	if _, err := g.Download(context.Background(), fileID, &buf, 100); err == nil || !strings.Contains(err.Error(), "too large") {
		t.Errorf("over the limit: %v", err)
	}
	tg.Close()
	if _, err := g.Download(context.Background(), fileID, &buf, 1<<20); err == nil || strings.Contains(err.Error(), testkit.BotToken) {
		t.Errorf("server gone: %v", err)
	}
}

// The poller confirms an update to Telegram only once it is done, yet an update still being
// handled does not hold back the ones after it; a restart gets the unfinished one again.
func TestPollerConfirmsOnlyHandledUpdates(t *testing.T) {
	tg := tgfake.New(testkit.BotToken)
	defer tg.Close()
	slow, quick := tg.Seller(1, "ru", "A"), tg.Seller(2, "ru", "B")
	g := newGateway(t, tg, time.Millisecond)
	var (
		mu      sync.Mutex
		saved   int64
		handled []int64
		release func()
	)
	poller := func(holdFirst bool) *Poller {
		return &Poller{
			Gateway: g, Timeout: 2 * time.Second,
			LastHandled: func() (int64, error) { mu.Lock(); defer mu.Unlock(); return saved, nil },
			SaveHandled: func(id int64) error { mu.Lock(); defer mu.Unlock(); saved = id; return nil },
			Dispatch: func(u models.Update, done func()) {
				mu.Lock()
				defer mu.Unlock()
				handled = append(handled, u.ID)
				if holdFirst && len(handled) == 1 {
					release = done // still being handled
					return
				}
				done()
			},
		}
	}
	first := slow.Send("/start")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { poller(true).Run(ctx); close(done) }()
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(handled) == 1 })
	second := quick.Send("/start")
	third := quick.Send("/help")
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(handled) == 3 })

	// Two later updates were handled while the first was not: nothing is confirmed past it.
	mu.Lock()
	if saved >= first {
		t.Errorf("saved %d while update %d is unfinished", saved, first)
	}
	mu.Unlock()
	for _, c := range tg.Calls("getUpdates") {
		if off, _ := strconv.ParseInt(c.Fields["offset"], 10, 64); off > first {
			t.Errorf("getUpdates confirmed offset %d while update %d is unfinished", off, first)
		}
	}
	// A restart now gets the unfinished update again, and the others too (sessions skip them).
	cancel()
	<-done
	mu.Lock()
	handled = nil
	mu.Unlock()
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	go poller(false).Run(ctx2)
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return saved == third })
	mu.Lock()
	defer mu.Unlock()
	if len(handled) != 3 || handled[0] != first || handled[1] != second || handled[2] != third {
		t.Errorf("after the restart: handled %v, want %d %d %d", handled, first, second, third)
	}
	release()
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatal("condition not met within 10s")
		}
	}
}
