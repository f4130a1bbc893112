package admin

import (
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// healthz is liveness only: the process answers HTTP.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
}

// readyz is 200 only when the bot can do its work: the data file takes a write, the poller has
// heard from Telegram recently, and the process is not shutting down. Otherwise 503 with the
// first reason why not.
func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if why := s.notReady(time.Now()); why != "" {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "not ready:", why)
		return
	}
	fmt.Fprintln(w, "ready")
}

// notReady is why the bot is not ready, or "".
func (s *Server) notReady(now time.Time) string {
	h := s.cfg.Health
	if h.Stopping == nil || h.Stopping() {
		return "shutting down"
	}
	if s.cfg.Store == nil {
		return "no store"
	}
	if err := s.cfg.Store.Probe(); err != nil {
		s.cfg.Logger.Error("admin: readiness: the data file takes no writes", "err", err)
		return "the data file takes no writes"
	}
	if h.LastPoll == nil {
		return "no update poller"
	}
	last := h.LastPoll()
	switch {
	case last.IsZero():
		return "the update poller has had no answer from Telegram yet"
	case now.Sub(last) > h.PollStale:
		return fmt.Sprintf("the update poller has had no answer from Telegram for %s", now.Sub(last).Round(time.Second))
	}
	return ""
}

// metrics serves the Prometheus registry. A collector that fails (the store unreadable) drops
// its own family and is reported in the log, not the whole scrape.
func (s *Server) metrics() http.Handler {
	var reg prometheus.Gatherer = prometheus.NewRegistry()
	if s.cfg.Metrics != nil {
		reg = s.cfg.Metrics.Registry
	}
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      errorLogger{s},
		ErrorHandling: promhttp.ContinueOnError,
	})
}

type errorLogger struct{ s *Server }

func (l errorLogger) Println(v ...any) {
	l.s.cfg.Logger.Error("admin: /metrics", "err", fmt.Sprint(v...))
}
