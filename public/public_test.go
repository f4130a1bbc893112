package public

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
	"golang.org/x/time/rate"

	"neurocards/messages"
	"neurocards/store"
)

// serve starts a Server on loopback over a real data file; configure adjusts its Config.
func serve(t *testing.T, configure func(*Config)) *Server {
	t.Helper()
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key, err := st.InboundKey()
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Addr:       "127.0.0.1:0",
		PublicURL:  "http://127.0.0.1/base/",
		WebhookURL: "http://127.0.0.1/hook",
		Key:        key,
		Store:      st,
		Trigger:    func(messages.TaskCallback) bool { return true },
		Dispatch:   func(_ models.Update, done func()) bool { done(); return true },
	}
	if configure != nil {
		configure(&cfg)
	}
	s, err := Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return s
}

func post(t *testing.T, s *Server, path string, body []byte, headers map[string]string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+s.Addr()+path, bytes.NewReader(body))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func update(id int64) []byte {
	b, _ := json.Marshal(models.Update{ID: id, Message: &models.Message{ID: 1, Chat: models.Chat{ID: 7}, Text: "hi"}})
	return b
}

func TestCallbackURLKeepsThePublicPath(t *testing.T) {
	s := serve(t, nil)
	u := s.CallbackURL(42)
	if !strings.HasPrefix(u, "http://127.0.0.1/base/kie/callback/42/") || len(u)-len("http://127.0.0.1/base/kie/callback/42/") != 22 {
		t.Errorf("callback URL %q", u)
	}
	if secretOf(u) == secretOf(s.CallbackURL(43)) {
		t.Error("two jobs share a secret")
	}
	if none := serve(t, func(c *Config) { c.PublicURL = "" }); none.CallbackURL(42) != "" {
		t.Error("a callback URL without a public URL")
	}
}

func secretOf(u string) string { return u[strings.LastIndex(u, "/")+1:] }

// The webhook answers only once the update is handed on and persisted; not in time, or while
// the bot is not serving, it answers non-200 so that Telegram delivers the update again.
func TestWebhookAnswersWhenTheUpdateIsPersisted(t *testing.T) {
	var handedOn atomic.Int32
	var serving atomic.Bool
	serving.Store(true)
	var persist atomic.Bool
	s := serve(t, func(c *Config) {
		c.WebhookWait = 100 * time.Millisecond
		c.Dispatch = func(_ models.Update, done func()) bool {
			if !serving.Load() {
				return false
			}
			handedOn.Add(1)
			if persist.Load() {
				go done()
			}
			return true
		}
	})
	token := map[string]string{HeaderSecretToken: s.WebhookSecret()}
	if got := post(t, s, "/hook", update(1), token); got != http.StatusServiceUnavailable {
		t.Errorf("an update not persisted in time: HTTP %d, want 503", got)
	}
	persist.Store(true)
	if got := post(t, s, "/hook", update(1), token); got != http.StatusOK {
		t.Errorf("a persisted update: HTTP %d, want 200", got)
	}
	serving.Store(false)
	if got := post(t, s, "/hook", update(2), token); got != http.StatusServiceUnavailable {
		t.Errorf("while not serving: HTTP %d, want 503", got)
	}
	if n := handedOn.Load(); n != 2 {
		t.Errorf("handed on %d times, want 2", n)
	}
	if s.TelegramSeen().IsZero() {
		t.Error("no contact noted")
	}
}

func TestWebhookRefusals(t *testing.T) {
	var handedOn atomic.Int32
	s := serve(t, func(c *Config) {
		c.Dispatch = func(_ models.Update, done func()) bool { handedOn.Add(1); done(); return true }
	})
	token := map[string]string{HeaderSecretToken: s.WebhookSecret()}
	for _, tc := range []struct {
		name    string
		path    string
		body    []byte
		headers map[string]string
		want    int
	}{
		{"no token", "/hook", update(1), nil, http.StatusForbidden},
		{"a wrong token", "/hook", update(1), map[string]string{HeaderSecretToken: "x" + s.WebhookSecret()[1:]}, http.StatusForbidden},
		{"not an update", "/hook", []byte(`{"update_id":"x"}`), token, http.StatusBadRequest},
		{"too large", "/hook", bytes.Repeat([]byte(" "), maxUpdateBody+1), token, http.StatusRequestEntityTooLarge},
		{"another path", "/hook/x", update(1), token, http.StatusNotFound},
	} {
		if got := post(t, s, tc.path, tc.body, tc.headers); got != tc.want {
			t.Errorf("%s: HTTP %d, want %d", tc.name, got, tc.want)
		}
	}
	resp, err := http.Get("http://" + s.Addr() + "/hook")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET: HTTP %d", resp.StatusCode)
	}
	if n := handedOn.Load(); n != 0 {
		t.Errorf("handed on %d updates", n)
	}
	if s.WebhookSecret() != webhookSecret(s.cfg.Key) || len(s.WebhookSecret()) != 43 {
		t.Errorf("secret token %q", s.WebhookSecret())
	}
}

// Callback requests beyond the rate are refused before anything is read.
func TestCallbackRateLimit(t *testing.T) {
	s := serve(t, func(c *Config) { c.CallbackRate, c.CallbackBurst = rate.Every(time.Hour), 2 })
	path := strings.TrimPrefix(s.CallbackURL(1), "http://127.0.0.1")
	var got []int
	for range 3 {
		got = append(got, post(t, s, path, []byte(`{}`), nil))
	}
	if got[0] == http.StatusTooManyRequests || got[1] == http.StatusTooManyRequests || got[2] != http.StatusTooManyRequests {
		t.Errorf("statuses %v: the third should be 429", got)
	}
}

func TestListenRefusesABusyAddress(t *testing.T) {
	s := serve(t, nil)
	st, _ := store.Open(t.TempDir(), store.Options{})
	defer st.Close()
	key, _ := st.InboundKey()
	if _, err := Listen(Config{Addr: s.Addr(), Key: key, Store: st}); err == nil {
		t.Error("listened on a busy address")
	}
}
