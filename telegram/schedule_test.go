package telegram

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"neurocards/testkit"
	"neurocards/testkit/tgfake"
)

// spend uses up the gateway's global budget now, so what is posted next waits in line for it.
func spend(g *Gateway) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for g.global.Allow() {
	}
}

func flush(t *testing.T, g *Gateway) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := g.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// When the budget is short, the chats waiting with the seller's answers and results are served
// first, those with new status messages next and those with only status edits last, whatever
// the order they were posted in.
func TestWorthOrdersTheBudget(t *testing.T) {
	tg := tgfake.New(testkit.BotToken)
	defer tg.Close()
	g, err := New(Config{Token: testkit.BotToken, APIURL: tg.URL(), PerSec: 10, PerChat: time.Millisecond, CallTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	const each = 3 // chats with an edit (1–3), with a new status (4–6), with an answer (7–9)
	status := map[int64]int{}
	for chat := int64(1); chat <= each; chat++ {
		tg.Seller(chat, "ru", "S")
		id, err := g.Send(context.Background(), chat, "status 0:00", nil)
		if err != nil {
			t.Fatal(err)
		}
		status[chat] = id
	}
	for chat := int64(each + 1); chat <= 3*each; chat++ {
		tg.Seller(chat, "ru", "S")
	}
	spend(g)
	for i := range int64(each) {
		chat := 1 + i
		g.PostEdit(chat, status[chat], func(ctx context.Context, superseded bool) {
			if !superseded {
				g.Edit(ctx, chat, status[chat], "edit", nil)
			}
		})
	}
	for i := range int64(each) {
		chat := each + 1 + i
		g.PostStatus(chat, func(ctx context.Context) { g.Send(ctx, chat, "new status", nil) })
	}
	for i := range int64(each) {
		chat := 2*each + 1 + i
		g.Post(chat, func(ctx context.Context) { g.Send(ctx, chat, "answer", nil) })
	}
	flush(t, g)
	var order []string
	for _, c := range tg.Calls("") {
		switch {
		case c.Method == "editMessageText":
			order = append(order, fmt.Sprintf("edit@%d", c.ChatID))
		case c.Method == "sendMessage" && c.Fields["text"] != "status 0:00":
			order = append(order, fmt.Sprintf("%s@%d", c.Fields["text"], c.ChatID))
		}
	}
	want := "answer@7 answer@8 answer@9 new status@4 new status@5 new status@6 edit@1 edit@2 edit@3"
	if got := strings.Join(order, " "); got != want {
		t.Errorf("sent in the order\n  %s\nwant\n  %s", got, want)
	}
}

// Only the newest text of a status message is ever sent: an edit still waiting is replaced by a
// later one of the same message, and its op is told so.
func TestEditsOfOneMessageCoalesce(t *testing.T) {
	tg := tgfake.New(testkit.BotToken)
	defer tg.Close()
	s := tg.Seller(1, "ru", "S")
	g := newGateway(t, tg, time.Second)
	id, err := g.Send(context.Background(), 1, "0:00", nil)
	if err != nil {
		t.Fatal(err)
	}
	// The chat's spacing holds the edits back for a second: all but the last are replaced.
	var mu sync.Mutex
	var superseded, made []string
	for i := 1; i <= 5; i++ {
		text := fmt.Sprintf("0:%02d", i)
		g.PostEdit(1, id, func(ctx context.Context, skip bool) {
			mu.Lock()
			defer mu.Unlock()
			if skip {
				superseded = append(superseded, text)
				return
			}
			made = append(made, text)
			if err := g.Edit(ctx, 1, id, text, nil); err != nil {
				t.Errorf("edit %s: %v", text, err)
			}
		})
	}
	flush(t, g)
	if got := strings.Join(made, " "); got != "0:05" {
		t.Errorf("edits made: %q, want only the newest", got)
	}
	if got := strings.Join(superseded, " "); got != "0:01 0:02 0:03 0:04" {
		t.Errorf("edits replaced: %q", got)
	}
	if n := tg.CountCalls("editMessageText", 1); n != 1 {
		t.Errorf("Telegram got %d edits, want 1", n)
	}
	if m, _ := s.Last(); m.Text != "0:05" {
		t.Errorf("the status shows %q", m.Text)
	}
}

// In one chat, new messages go in the order they were posted whatever their worth — a result
// uploaded outside any posted op after the status message goes after it — while an edit posted
// before both waits behind them; and every message keeps the chat's spacing.
func TestNewMessagesKeepTheirOrderEditsWait(t *testing.T) {
	tg := tgfake.New(testkit.BotToken)
	defer tg.Close()
	tg.Seller(1, "ru", "S")
	g := newGateway(t, tg, 300*time.Millisecond)
	id, err := g.Send(context.Background(), 1, "0:00", nil)
	if err != nil {
		t.Fatal(err)
	}
	g.PostEdit(1, id, func(ctx context.Context, skip bool) {
		if !skip {
			g.Edit(ctx, 1, id, "0:03", nil)
		}
	})
	g.PostStatus(1, func(ctx context.Context) { g.Send(ctx, 1, "second job accepted", nil) })
	file := t.TempDir() + "/card.png"
	if err := os.WriteFile(file, testkit.Photo(64, 64), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := g.SendFile(context.Background(), 1, FilePhoto, file, "your card", nil); err != nil {
		t.Fatal(err)
	}
	flush(t, g)
	calls := tg.Calls("")
	var order []string
	for _, c := range calls {
		if c.ChatID == 1 && c.Status == 200 {
			order = append(order, c.Method)
		}
	}
	if got := strings.Join(order, " "); got != "sendMessage sendMessage sendPhoto editMessageText" {
		t.Errorf("order: %s", got)
	}
	for i := 1; i < len(calls); i++ {
		if gap := calls[i].At.Sub(calls[i-1].At); gap < 280*time.Millisecond {
			t.Errorf("%s came %v after %s: the chat's spacing is 300ms", calls[i].Method, gap, calls[i-1].Method)
		}
	}
}

// A call given up on while it waits for its turn is never made, and the chat goes on.
func TestCallGivenUpWhileWaitingIsNotMade(t *testing.T) {
	tg := tgfake.New(testkit.BotToken)
	defer tg.Close()
	s := tg.Seller(1, "ru", "S")
	g := newGateway(t, tg, 500*time.Millisecond)
	if _, err := g.Send(context.Background(), 1, "first", nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := g.Send(ctx, 1, "too late", nil); err == nil {
		t.Fatal("a send that waited past its deadline succeeded")
	}
	if _, err := g.Send(context.Background(), 1, "third", nil); err != nil {
		t.Fatal(err)
	}
	flush(t, g)
	var texts []string
	for _, m := range s.BotMessages() {
		texts = append(texts, m.Text)
	}
	if got := strings.Join(texts, ", "); got != "first, third" {
		t.Errorf("the seller got: %s", got)
	}
}

// However much the budget allows, at most maxTurns calls are under way at once; the rest wait
// in their chats' queues and all of them run in the end.
func TestCallsUnderWayAreBounded(t *testing.T) {
	tg := tgfake.New(testkit.BotToken)
	defer tg.Close()
	g := newGateway(t, tg, time.Millisecond)
	const chats = 3 * maxTurns
	var mu sync.Mutex
	under, most, ran := 0, 0, 0
	release, full := make(chan struct{}), make(chan struct{})
	var once sync.Once
	for i := range chats {
		g.Post(int64(i+1), func(context.Context) {
			mu.Lock()
			under++
			most = max(most, under)
			if under == maxTurns {
				once.Do(func() { close(full) })
			}
			mu.Unlock()
			<-release
			mu.Lock()
			under--
			ran++
			mu.Unlock()
		})
	}
	select {
	case <-full:
	case <-time.After(10 * time.Second):
		t.Fatal("fewer than maxTurns calls ever got under way")
	}
	close(release)
	flush(t, g)
	if most != maxTurns || ran != chats {
		t.Errorf("at most %d calls under way (want %d), %d of %d ran", most, maxTurns, ran, chats)
	}
}
