package admin

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"neurocards/store"
)

// serveHealth starts an admin server over st with the given health.
func serveHealth(t *testing.T, st *store.Store, h Health) *Server {
	t.Helper()
	srv, err := Listen(Config{Addr: "127.0.0.1:0", Token: token, Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Health: h})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return srv
}

// TestReadyzInEachState: 200 only with a writable store, a recent answer to the poller and no
// shutdown under way; otherwise 503 with the reason, and /healthz stays 200 throughout.
func TestReadyzInEachState(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	healthy := Health{
		LastPoll:  func() time.Time { return now },
		PollStale: time.Minute,
		Stopping:  func() bool { return false },
	}
	check := func(t *testing.T, srv *Server, want int, reason string) {
		t.Helper()
		resp := get(t, srv, "/readyz", "")
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want || !strings.Contains(string(body), reason) {
			t.Errorf("/readyz: %s %q, want %d %q", resp.Status, body, want, reason)
		}
		if resp := get(t, srv, "/healthz", ""); resp.StatusCode != http.StatusOK {
			t.Errorf("/healthz: %s", resp.Status)
		}
	}

	t.Run("ready", func(t *testing.T) {
		check(t, serveHealth(t, st, healthy), http.StatusOK, "ready")
	})
	t.Run("shutting down", func(t *testing.T) {
		h := healthy
		h.Stopping = func() bool { return true }
		check(t, serveHealth(t, st, h), http.StatusServiceUnavailable, "not ready: shutting down")
	})
	t.Run("poller never answered", func(t *testing.T) {
		h := healthy
		h.LastPoll = func() time.Time { return time.Time{} }
		check(t, serveHealth(t, st, h), http.StatusServiceUnavailable, "no answer from Telegram yet")
	})
	t.Run("poller stalled", func(t *testing.T) {
		h := healthy
		h.LastPoll = func() time.Time { return now.Add(-3 * time.Minute) }
		check(t, serveHealth(t, st, h), http.StatusServiceUnavailable, "no answer from Telegram for 3m")
	})
	t.Run("store takes no writes", func(t *testing.T) {
		st.Close()
		ro, err := store.Open(dir, store.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer ro.Close()
		check(t, serveHealth(t, ro, healthy), http.StatusServiceUnavailable, "the data file takes no writes")
	})
}

// TestMetricsNeedNoToken: /metrics answers without the token, in the Prometheus text format.
func TestMetricsNeedNoToken(t *testing.T) {
	srv, _ := serve(t, token)
	resp := get(t, srv, "/metrics", "")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
}
