package chatpage

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"neurocards/keyboard"
	"neurocards/testkit/harness"
	"neurocards/testkit/tgfake"
)

// These tests drive the page's API the way its buttons do and watch what the seller and the
// panel would see: the fake Telegram's transcript and the views the page streams.

const wait = 30 * time.Second

// TestRestartFromThePanelResumesTheJob: a restart while KIE works on the seller's video stops
// the bot and starts it on the same data; the job polls the same task and the video arrives,
// paid once.
func TestRestartFromThePanelResumesTheJob(t *testing.T) {
	c := newClient(t)
	sl := c.seller(101)
	c.order(sl, "video")
	c.waitTasks(1)
	c.post("/api/chats/101/faults/restart", nil, http.StatusNoContent)

	sl.Expect(t, wait, "the video after the restart", isFile("sendVideo"))
	c.waitView(101, "the panel to say the bot is back", func(v chatView) bool {
		return v.Bot.State == "running" && hasActivity(v, "The bot is back")
	})
	if n := len(c.env.KIE.Tasks()); n != 1 {
		t.Errorf("KIE tasks: %d, want 1: the resumed job polls the task it saved", n)
	}
	c.waitLedger(101, "grant hold capture")
}

// TestKIEDownFromThePanel: while KIE is down the breaker opens and the seller is told once that
// the job waits and the credits are safe; when KIE is back the card arrives.
func TestKIEDownFromThePanel(t *testing.T) {
	c := newClient(t)
	sl := c.seller(102)
	c.post("/api/chats/102/faults/kie-down", nil, http.StatusNoContent)
	status := c.order(sl, "card")
	sl.ExpectNew(t, wait, status.ID, "the delay notice", func(m tgfake.Message) bool { return strings.HasPrefix(m.Text, "⏸") })
	c.waitView(102, "the KIE breaker to open", func(v chatView) bool { return v.Faults.KIEDown && v.Bot.KIEBreaker != "closed" })

	c.post("/api/chats/102/faults/kie-up", nil, http.StatusNoContent)
	sl.ExpectNew(t, wait, status.ID, "the card once KIE is back", isFile("sendPhoto"))
	notices := 0
	for _, m := range sl.BotMessages() {
		if strings.HasPrefix(m.Text, "⏸") {
			notices++
		}
	}
	if notices != 1 {
		t.Errorf("delay notices: %d, want 1", notices)
	}
	c.waitLedger(102, "grant hold capture")
}

// TestSellerBlocksTheBotFromThePanel: a seller who blocks the bot while their job runs is marked
// blocked and gets their credits back; writing to the bot again unblocks it.
func TestSellerBlocksTheBotFromThePanel(t *testing.T) {
	c := newClient(t)
	sl := c.seller(103)
	c.order(sl, "video")
	c.waitTasks(1)
	c.post("/api/chats/103/faults/block", nil, http.StatusNoContent)

	c.waitView(103, "the bot to mark the seller blocked", func(v chatView) bool {
		return v.Faults.Blocked && v.Account != nil && v.Account.Blocked && hasActivity(v, "403")
	})
	c.waitLedger(103, "grant hold release")

	last := lastID(sl)
	c.post("/api/chats/103/text", map[string]string{"text": "/start"}, http.StatusNoContent)
	sl.ExpectNew(t, wait, last, "the menu after writing again", withButton(keyboard.Kind.Data("video")))
	c.waitView(103, "the block to be gone", func(v chatView) bool { return !v.Faults.Blocked && hasActivity(v, "unblocked the bot") })
}

// TestTelegram429FromThePanel: Telegram tells the bot to wait; the answer still arrives.
func TestTelegram429FromThePanel(t *testing.T) {
	c := newClient(t)
	sl := c.seller(101)
	c.post("/api/chats/101/text", map[string]string{"text": "/start"}, http.StatusNoContent)
	menu := sl.Expect(t, wait, "the menu", withButton(keyboard.Kind.Data("video")))

	c.post("/api/chats/101/faults/telegram-429", nil, http.StatusNoContent)
	c.post("/api/chats/101/text", map[string]string{"text": "/balance"}, http.StatusNoContent)
	sl.ExpectNew(t, wait, menu.ID, "the balance despite the 429s", func(m tgfake.Message) bool { return strings.Contains(m.Text, "Баланс: 20") })
	if n := c.env.Telegram.Count429(); n == 0 {
		t.Error("Telegram answered no 429")
	}
	c.waitView(101, "the 429 in the panel", func(v chatView) bool { return hasActivity(v, "429") })
}

// TestBadInputGetsAClearAnswer: what the page refuses, it refuses with words a person reads,
// and nothing reaches the chat.
func TestBadInputGetsAClearAnswer(t *testing.T) {
	c := newClient(t)
	sl := c.seller(101)
	cases := []struct {
		name, path string
		body       any
		status     int
		says       string
	}{
		{"empty text", "/api/chats/101/text", map[string]string{"text": "  "}, http.StatusBadRequest, "Type a message"},
		{"text too long", "/api/chats/101/text", map[string]string{"text": strings.Repeat("я", 4097)}, http.StatusBadRequest, "4096"},
		{"not JSON", "/api/chats/101/text", "hello", http.StatusBadRequest, "not the JSON"},
		{"unknown seller", "/api/chats/999/text", map[string]string{"text": "hi"}, http.StatusNotFound, "no such seller"},
		{"a button that is not there", "/api/chats/101/tap", map[string]any{"message_id": 1, "data": keyboard.Kind.Data("video")}, http.StatusNotFound, "no longer there"},
		{"an invoice that is not there", "/api/chats/101/pay", map[string]any{"message_id": 7}, http.StatusNotFound, "no longer there"},
		{"an unknown fault", "/api/chats/101/faults/meteor", nil, http.StatusNotFound, "no fault"},
	}
	for _, tc := range cases {
		if got := c.post(tc.path, tc.body, tc.status); !strings.Contains(got, tc.says) {
			t.Errorf("%s: answer %q does not say %q", tc.name, got, tc.says)
		}
	}
	if msgs := sl.Messages(); len(msgs) != 0 {
		t.Errorf("refused requests reached the chat: %+v", msgs)
	}

	req, _ := http.NewRequest(http.MethodPost, c.url+"/api/chats/101/faults/restart", nil)
	req.Header.Set("Origin", "http://evil.example")
	if resp := c.do(req); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a change from another site: %s, want 403", resp.Status)
	}
	req, _ = http.NewRequest(http.MethodGet, c.url+"/api/sellers", nil)
	req.Host = "sandbox.evil.example"
	if resp := c.do(req); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a request for another host name: %s, want 403", resp.Status)
	}

	// A file that is not an image goes as a document, and the bot answers it.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	part, _ := mw.CreateFormFile("file", "price-list.pdf")
	part.Write([]byte("%PDF-1.4 not a photo"))
	mw.Close()
	req, _ = http.NewRequest(http.MethodPost, c.url+"/api/chats/101/photo", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if resp := c.do(req); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("sending a PDF: %s", resp.Status)
	}
	sl.Expect(t, wait, "the bot's answer to a PDF", func(m tgfake.Message) bool { return m.Text != "" })
	if msgs := sl.Messages(); msgs[0].File == nil || msgs[0].File.Field != "document" || msgs[0].File.Name != "price-list.pdf" {
		t.Errorf("the PDF in the chat: %+v", msgs[0])
	}
}

// client talks to a page serving a fresh bot.
type client struct {
	t   *testing.T
	env *harness.Env
	url string
}

func newClient(t *testing.T) *client {
	env, url := startPage(t)
	return &client{t: t, env: env, url: strings.TrimSuffix(url, "/")}
}

func (c *client) seller(id int64) *tgfake.Seller {
	for _, s := range DefaultSellers {
		if s.ID == id {
			return c.env.Telegram.Seller(s.ID, s.Lang, s.Name)
		}
	}
	c.t.Fatalf("no seller %d", id)
	return nil
}

func (c *client) do(req *http.Request) *http.Response {
	c.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// post sends body as JSON (a string as it is) and checks the status; it returns the answer.
func (c *client) post(path string, body any, status int) string {
	c.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	resp, err := http.Post(c.url+path, "application/json", r)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		c.t.Fatalf("POST %s: %s %s, want %d", path, resp.Status, answer, status)
	}
	return string(answer)
}

func (c *client) tap(id int64, m tgfake.Message, prefix string) {
	c.t.Helper()
	c.post(fmt.Sprintf("/api/chats/%d/tap", id), map[string]any{"message_id": m.ID, "data": m.Button(prefix)}, http.StatusNoContent)
}

// order goes through the page from /start to the confirmed job and returns the status message.
func (c *client) order(sl *tgfake.Seller, kind string) tgfake.Message {
	c.t.Helper()
	id := sl.ID()
	last := lastID(sl)
	c.post(fmt.Sprintf("/api/chats/%d/text", id), map[string]string{"text": "/start"}, http.StatusNoContent)
	menu := sl.ExpectNew(c.t, wait, last, "the menu", withButton(keyboard.Kind.Data(kind)))
	c.tap(id, menu, keyboard.Kind.Data(kind))
	sl.ExpectNew(c.t, wait, menu.ID, "the photo request", func(m tgfake.Message) bool { return m.ID > menu.ID })
	c.post(fmt.Sprintf("/api/chats/%d/sample-photo", id), nil, http.StatusNoContent)
	ask := sl.ExpectNew(c.t, wait, menu.ID, "the description request", withButton(keyboard.Skip.Prefix()))
	c.tap(id, ask, keyboard.Skip.Prefix())
	confirm := sl.ExpectNew(c.t, wait, ask.ID, "the confirmation", withButton(keyboard.Generate.Prefix()))
	c.tap(id, confirm, keyboard.Generate.Prefix())
	return sl.ExpectNew(c.t, wait, confirm.ID, "the status message", func(m tgfake.Message) bool { return m.ID > confirm.ID })
}

func (c *client) waitTasks(n int) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := c.env.KIE.WaitTasks(ctx, n); err != nil {
		c.t.Fatal(err)
	}
}

// waitView reads the seller's stream of views, as the page does, until one satisfies ok.
func (c *client) waitView(id int64, what string, ok func(chatView) bool) chatView {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/api/chats/%d/events", c.url, id), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var last chatView
	lines := bufio.NewScanner(resp.Body)
	lines.Buffer(nil, 16<<20)
	for lines.Scan() {
		data, found := strings.CutPrefix(lines.Text(), "data: ")
		if !found {
			continue
		}
		last = chatView{}
		if err := json.Unmarshal([]byte(data), &last); err != nil {
			c.t.Fatalf("a view that is not JSON: %v", err)
		}
		if ok(last) {
			return last
		}
	}
	c.t.Fatalf("waiting for %s: %v; the last view: %+v", what, ctx.Err(), last)
	return last
}

// waitLedger waits until the panel shows the seller's ledger rows, oldest first.
func (c *client) waitLedger(id int64, want string) {
	c.t.Helper()
	c.waitView(id, "the ledger "+want, func(v chatView) bool {
		if v.Account == nil {
			return false
		}
		var types []string
		for i := len(v.Account.Ledger) - 1; i >= 0; i-- {
			types = append(types, v.Account.Ledger[i].Type)
		}
		return strings.Join(types, " ") == want
	})
}

func hasActivity(v chatView, s string) bool {
	for _, a := range v.Activity {
		if strings.Contains(a.Text, s) {
			return true
		}
	}
	return false
}

func withButton(prefix string) func(tgfake.Message) bool {
	return func(m tgfake.Message) bool { return m.Button(prefix) != "" }
}

func isFile(method string) func(tgfake.Message) bool {
	return func(m tgfake.Message) bool { return m.Method == method && m.File != nil }
}

func lastID(sl *tgfake.Seller) int {
	msgs := sl.Messages()
	if len(msgs) == 0 {
		return 0
	}
	return msgs[len(msgs)-1].ID
}
