package telegram

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"neurocards/messages"
	"neurocards/testkit"
)

// errorBodies are answers seen from Telegram and from what stands in front of it; {path} is
// replaced by the request path, which holds the token.
var errorBodies = []string{
	`{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 5","parameters":{"retry_after":5}}`,
	`{"ok":false,"error_code":429,"description":"Too Many Requests","parameters":{"retry_after":9223372037}}`,
	`{"ok":false,"error_code":429,"parameters":{"retry_after":-3}}`,
	`{"ok":false,"error_code":400,"description":"Bad Request: chat not found","parameters":{"migrate_to_chat_id":-100}}`,
	`{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}`,
	`{"ok":false,"error_code":401,"description":"Unauthorized {path}"}`,
	`<html><body>404 Not Found: {path}</body></html>`,
	`{"ok":true,"result":[{"update_id":7,"message":{"message_id":1,"chat":{"id":1,"type":"private"},"text":"hi"}}]}`,
	`{"ok":true,"result":null}`,
	``,
}

// checkFailure asserts what any failed call's error must be: free of the token, and classified
// with a wait no longer than MaxRetryAfter and never negative.
func checkFailure(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if leaks := testkit.Fakes.Leaks(err.Error()); len(leaks) > 0 {
		t.Fatalf("%s: %v: %v", what, leaks, err)
	}
	f := Classify(err)
	if f.Class == "" || f.RetryAfter < 0 || f.RetryAfter > MaxRetryAfter {
		t.Fatalf("%s: %v classified %+v", what, err, f)
	}
	if f.Class == messages.Transient && f.Code == "429" && f.RetryAfter < time.Second {
		t.Fatalf("%s: a 429 that does not wait: %+v", what, f)
	}
}

// FuzzUpdatesAnswer: whatever getUpdates is answered, the poller gets updates or an error it
// can classify and wait on within bounds.
func FuzzUpdatesAnswer(f *testing.F) {
	for _, b := range errorBodies {
		f.Add(200, []byte(b))
		f.Add(429, []byte(b))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		updates, err := decodeUpdates(status, body)
		if err != nil && updates != nil {
			t.Fatalf("updates and an error: %v", err)
		}
		checkFailure(t, "getUpdates", err)
	})
}

// FuzzBotAPIAnswer: whatever a Bot API URL answers a call with — Telegram's errors, a proxy's
// page, anything that quotes the token — the Gateway's error hides the token and classifies
// with a bounded wait. The answer goes through the real library over loopback.
func FuzzBotAPIAnswer(f *testing.F) {
	for _, b := range errorBodies {
		f.Add(400, []byte(b))
		f.Add(502, []byte(b))
	}
	var (
		mu     sync.Mutex
		status int
		body   []byte
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		st, b := status, bytes.ReplaceAll(body, []byte("{path}"), []byte(r.URL.Path))
		mu.Unlock()
		w.WriteHeader(st)
		w.Write(b)
	}))
	defer srv.Close()
	g, err := New(Config{Token: testkit.BotToken, APIURL: srv.URL, HTTP: srv.Client(), BreakerFailures: 1 << 30, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, st int, b []byte) {
		mu.Lock()
		status, body = 200+(st%400+400)%400, b // net/http refuses to write other codes
		mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := g.GetMe(ctx)
		checkFailure(t, "getMe", err)
		_, err = g.getUpdates(ctx, 0, 0, nil)
		checkFailure(t, "getUpdates", err)
	})
}
