// Package public is the bot's listener that faces the internet: KIE's task callbacks and the
// Telegram webhook, and nothing else. Every request is authenticated by a secret the bot derived
// from the inbound key in its data file — the callback URL carries a per-job secret, the webhook
// a secret token header — and a request that fails gets a plain 4xx and changes nothing. What
// passes is only handed on: a callback to the job, which reads the task before trusting it; an
// update to the same dispatch the poller uses.
package public

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-telegram/bot/models"
	"golang.org/x/time/rate"

	"neurocards/messages"
	"neurocards/store"
)

// Config configures a Server.
type Config struct {
	Addr string // host:port to listen on
	// PublicURL is the base KIE reaches this listener at; "" serves no callback route.
	PublicURL string
	// WebhookURL is where Telegram posts updates; "" serves no webhook route.
	WebhookURL string
	// Key is the inbound key from the data file (store.InboundKey).
	Key []byte
	// KIEWebhookKey, when set, is KIE's webhookHmacKey: callbacks must carry its signature.
	KIEWebhookKey string
	Store         *store.Store
	// Trigger hands a callback to the actor tree without waiting; false means the bot is not
	// serving (starting or stopping), and the caller is asked to try again.
	Trigger func(messages.TaskCallback) bool
	// Dispatch hands an update on without waiting, exactly as the poller does; done is called
	// once its effect is persisted. False means the bot is not serving.
	Dispatch func(u models.Update, done func()) bool
	// WebhookWait is how long a webhook request waits for its update to be persisted before
	// answering non-200, so that Telegram delivers it again; default 10 s, well under the time
	// Telegram waits.
	WebhookWait time.Duration
	// CallbackRate and CallbackBurst limit callback requests, forged or not; default 10/s, 200.
	CallbackRate  rate.Limit
	CallbackBurst int
	// MaxSignatureAge is how far a signed callback's timestamp may be from now; default 5 min.
	MaxSignatureAge time.Duration
	Logger          *slog.Logger
}

// The bounds on what a request may send.
const (
	maxCallbackBody = 64 << 10 // a callback is a recordInfo record: a few KB
	maxUpdateBody   = 1 << 20  // an update with a long text and entities stays far below
)

// Server is the public listener. Its methods are safe for concurrent use.
type Server struct {
	cfg            Config
	ln             net.Listener
	srv            *http.Server
	log            *slog.Logger
	limit          *rate.Limiter
	callbackBase   string // PublicURL + callbackPath
	callbackPrefix string // the path callback requests arrive at, up to the job id
	webhookPath    string
	webhookSecret  string
	refusals       rate.Sometimes // forged requests are logged at most once a minute
	telegramSeen   atomic.Int64   // unix nanoseconds of the last authenticated webhook contact
}

// callbackPath is where, under PublicURL, the callback route lives: …/kie/callback/<job>/<secret>.
const callbackPath = "/kie/callback/"

// Listen binds cfg.Addr; Serve then serves on it.
func Listen(cfg Config) (*Server, error) {
	if len(cfg.Key) < 16 {
		return nil, errors.New("public: the inbound key is missing")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.WebhookWait <= 0 {
		cfg.WebhookWait = 10 * time.Second
	}
	if cfg.CallbackRate <= 0 {
		cfg.CallbackRate = 10
	}
	if cfg.CallbackBurst <= 0 {
		cfg.CallbackBurst = 200
	}
	if cfg.MaxSignatureAge <= 0 {
		cfg.MaxSignatureAge = 5 * time.Minute
	}
	s := &Server{
		cfg:           cfg,
		log:           cfg.Logger,
		limit:         rate.NewLimiter(cfg.CallbackRate, cfg.CallbackBurst),
		webhookSecret: webhookSecret(cfg.Key),
		refusals:      rate.Sometimes{First: 1, Interval: time.Minute},
	}
	if cfg.PublicURL != "" {
		u, err := url.Parse(cfg.PublicURL)
		if err != nil {
			return nil, fmt.Errorf("public: public URL: %w", err)
		}
		base := strings.TrimRight(u.Path, "/")
		s.callbackPrefix = base + callbackPath
		s.callbackBase = strings.TrimRight(cfg.PublicURL, "/") + callbackPath
	}
	if cfg.WebhookURL != "" {
		u, err := url.Parse(cfg.WebhookURL)
		if err != nil {
			return nil, fmt.Errorf("public: webhook URL: %w", err)
		}
		s.webhookPath = u.Path
		if s.webhookPath == "" {
			s.webhookPath = "/"
		}
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("public: listen on %s: %w", cfg.Addr, err)
	}
	s.ln = ln
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      cfg.WebhookWait + 20*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug),
	}
	return s, nil
}

// Addr is the address the listener is bound to.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve serves until Shutdown.
func (s *Server) Serve() error {
	err := s.srv.Serve(s.ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops taking requests and waits, until ctx ends, for those in progress: a webhook
// request still waiting for its update to persist gets its answer first.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	s.ln.Close() // Shutdown closes only a listener Serve was given
	if err != nil {
		s.srv.Close()
		return fmt.Errorf("public: shutdown: %w", err)
	}
	return nil
}

// ServeHTTP routes the two things this listener serves; anything else is 404.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case s.webhookPath != "" && r.URL.Path == s.webhookPath && r.Method == http.MethodPost:
		s.webhook(w, r)
	case s.callbackPrefix != "" && strings.HasPrefix(r.URL.Path, s.callbackPrefix) && r.Method == http.MethodPost:
		s.callback(w, r, r.URL.Path[len(s.callbackPrefix):])
	default:
		http.NotFound(w, r)
	}
}

// TelegramSeen is when Telegram last reached the webhook with the right secret token, or
// setWebhook last succeeded (NoteTelegram); zero when never. In webhook mode it stands where
// "the poller got an answer recently" stands in long polling.
func (s *Server) TelegramSeen() time.Time {
	n := s.telegramSeen.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// NoteTelegram records a successful contact with Telegram's update side (setWebhook).
func (s *Server) NoteTelegram() { s.telegramSeen.Store(time.Now().UnixNano()) }

// refused logs a refused request at most once a minute, without its URL or headers (they carry
// the secrets being guessed at).
func (s *Server) refused(route, why string, attrs ...any) {
	s.refusals.Do(func() {
		s.log.Warn("public: refused a request (logged at most once a minute)", append([]any{"route", route, "why", why}, attrs...)...)
	})
}
