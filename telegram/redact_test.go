package telegram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot"

	"neurocards/messages"
	"neurocards/testkit"
)

// echoServer stands for a wrong NEUROCARDS_TELEGRAM_API_URL or a proxy in front of Telegram
// whose error pages quote the request path, and with it the bot token.
type echoServer struct {
	*httptest.Server
	mu    sync.Mutex
	calls map[string]int // by method
}

func newEchoServer(t *testing.T, answer func(w http.ResponseWriter, path string)) *echoServer {
	t.Helper()
	s := &echoServer{calls: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.calls[r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]]++
		s.mu.Unlock()
		answer(w, r.URL.Path)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *echoServer) count(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// every calls each Gateway method once and returns its error by method name.
func every(t *testing.T, g *Gateway) map[string]error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	file := filepath.Join(t.TempDir(), "result.png")
	if err := os.WriteFile(file, testkit.Photo(64, 64), 0o600); err != nil {
		t.Fatal(err)
	}
	errs := map[string]error{}
	_, errs["getMe"] = g.GetMe(ctx)
	errs["setMyCommands"] = g.SetCommands(ctx, "ru", []Command{{Name: "start", Description: "start"}})
	_, errs["sendMessage"] = g.Send(ctx, 1, "hi", Keyboard{Row(Button{Text: "a", Data: "a"})})
	errs["editMessageText"] = g.Edit(ctx, 1, 5, "hi", nil)
	errs["answerCallbackQuery"] = g.Answer(ctx, "q1", "ok")
	_, errs["sendPhoto"] = g.SendFile(ctx, 1, FilePhoto, file, "card", nil)
	_, errs["sendInvoice"] = g.SendInvoice(ctx, 1, Invoice{Title: "10", Description: "10 credits", Payload: "p", Label: "10", Stars: 50})
	errs["answerPreCheckoutQuery"] = g.AnswerPreCheckout(ctx, "pc1", "")
	errs["refundStarPayment"] = g.RefundStarPayment(ctx, 1, "charge")
	_, errs["getFile"] = g.Download(ctx, "file-1", &strings.Builder{}, 1<<20)
	_, errs["getUpdates"] = g.getUpdates(ctx, 0, 0, nil)
	return errs
}

// TestErrorsNeverShowTheToken: whatever a Bot API URL answers — an HTML error page, a JSON
// error or a 429 whose description quotes the path — no Gateway method's error and no log line
// shows the token or its secret half, and the errors still classify as before.
func TestErrorsNeverShowTheToken(t *testing.T) {
	cases := []struct {
		name   string
		answer func(w http.ResponseWriter, path string)
		is     error // what errors.Is must still see; nil for none
		class  messages.Class
	}{
		{"HTML page quoting the path", func(w http.ResponseWriter, path string) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, "<html><body><h1>404 Not Found</h1><p>%s was not found on this server.</p></body></html>", path)
		}, nil, messages.Transient},
		{"JSON error quoting the path", func(w http.ResponseWriter, path string) {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"ok":false,"error_code":400,"description":"Bad Request: no such method %s"}`, path)
		}, bot.ErrorBadRequest, messages.Transient},
		{"401 quoting the path", func(w http.ResponseWriter, path string) {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"ok":false,"error_code":401,"description":"Unauthorized: %s"}`, path)
		}, bot.ErrorUnauthorized, messages.Operator},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := newEchoServer(t, c.answer)
			logs := testkit.LogBuffer(t, testkit.Fakes)
			g, err := New(Config{Token: testkit.BotToken, APIURL: srv.URL, PerChat: time.Millisecond, BreakerFailures: 1000,
				Logger: slog.New(slog.NewTextHandler(logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			for method, err := range every(t, g) {
				if srv.count(method) == 0 {
					t.Errorf("%s: the call never reached the server", method)
				}
				if err == nil {
					t.Errorf("%s: no error from a server that only fails", method)
					continue
				}
				testkit.NoSecrets(t, method+" error", err.Error(), testkit.Fakes)
				if c.is != nil && !errors.Is(err, c.is) {
					t.Errorf("%s: %v is no longer %v", method, err, c.is)
				}
				if f := Classify(err); f.Class != c.class {
					t.Errorf("%s: classified %s, want %s (%v)", method, f.Class, c.class, err)
				}
				g.log.Warn("call failed", "method", method, "err", err) // as the bot logs it
			}
		})
	}
}

// TestTokenThatBreaksTheURL: a token with characters a URL cannot hold makes every call fail
// with a message that names the settings to check and quotes no part of the token.
func TestTokenThatBreaksTheURL(t *testing.T) {
	const token = "123456:broken%zz token/with-bad-characters"
	srv := newEchoServer(t, func(w http.ResponseWriter, path string) { w.WriteHeader(http.StatusNotFound) })
	g, err := New(Config{Token: token, APIURL: srv.URL, PerChat: time.Millisecond, BreakerFailures: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for method, err := range every(t, g) {
		if err == nil {
			t.Errorf("%s: succeeded with a broken token", method)
			continue
		}
		msg := err.Error()
		for _, part := range []string{token, "broken", "%zz", "bad-characters"} {
			if strings.Contains(msg, part) {
				t.Errorf("%s: error quotes %q: %s", method, part, msg)
			}
		}
		if !strings.Contains(msg, "NEUROCARDS_TELEGRAM_TOKEN") {
			t.Errorf("%s: error does not say what to check: %s", method, msg)
		}
	}
}

// The library's own error reports are logged with the token hidden too.
func TestLibraryErrorsAreRedacted(t *testing.T) {
	logs := testkit.LogBuffer(t, testkit.Fakes)
	g, err := New(Config{Token: testkit.BotToken, APIURL: "http://127.0.0.1:1", Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	g.libraryError(fmt.Errorf("error close pipe writer for method sendPhoto, read http://127.0.0.1:1/bot%s/sendPhoto: broken pipe", testkit.BotToken))
	if !strings.Contains(logs.String(), "/bot***/sendPhoto") {
		t.Errorf("the library's error was not logged as it was, minus the token:\n%s", logs.String())
	}
}
