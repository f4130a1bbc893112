// Package admin is the operator's HTTP surface of a running bot: /healthz and /readyz for
// probes, /metrics for Prometheus, the dashboard (overview, sellers, jobs, and actions on a
// seller's money), and /backup for a hot copy of the data file — bbolt lets one process open the
// file, so a backup taken while the bot runs has to come from the bot itself. The probes and
// /metrics need no token; everything else needs the admin token, as a session cookie from the
// login form or as Authorization: Bearer …; with no token configured only they answer.
package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/time/rate"

	"neurocards/messages"
	"neurocards/metrics"
	"neurocards/store"
)

// DataFileHeader names the data file a /backup comes from, so `neurocards backup` can refuse a
// copy of another bot's data.
const DataFileHeader = "X-Neurocards-Data-File"

// Config is what the admin server needs.
type Config struct {
	Addr   string // host:port to listen on; port 0 picks a free one
	Token  string // the admin token; empty disables everything but the probes and /metrics
	Store  *store.Store
	Logger *slog.Logger
	// Metrics is served on /metrics; nil serves only what an empty registry has.
	Metrics *metrics.Metrics
	// Operate carries out an operator's action from the dashboard, through the same code path as
	// the operator commands in Telegram.
	Operate func(ctx context.Context, cmd messages.OperatorCommand) (messages.OperatorResult, error)
	// Kinds are the kinds of job offered, for the jobs filter.
	Kinds  []string
	Health Health
}

// Health is what /readyz and the overview learn from the running bot. A nil func reads as
// "not known", which /readyz counts as not ready.
type Health struct {
	LastPoll  func() time.Time // the update poller's last answer from Telegram
	PollStale time.Duration    // how old that answer may be; a long poll answers within its timeout
	Stopping  func() bool      // the process is shutting down
	// Breakers are the circuit breakers' states by upstream: closed, half-open or open.
	Breakers func() map[string]string
}

// Server is the admin HTTP server, bound but not yet serving until Serve.
type Server struct {
	cfg    Config
	ln     net.Listener
	http   *http.Server
	pages  pages
	logins *rate.Limiter // failed logins allowed, so the token cannot be guessed at speed
}

// Listen binds the admin address, so a start fails at once when the address is taken.
func Listen(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("admin: listen on %s (NEUROCARDS_ADMIN_ADDR): %w", cfg.Addr, err)
	}
	// Snapshots a bot killed in the middle of a backup left behind.
	if cfg.Store != nil {
		left, _ := filepath.Glob(filepath.Join(filepath.Dir(cfg.Store.Path()), ".backup-*.db"))
		for _, f := range left {
			os.Remove(f)
		}
	}
	s := &Server{cfg: cfg, ln: ln, pages: parsePages(), logins: rate.NewLimiter(rate.Every(time.Second), 10)}
	s.http = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve answers requests until Shutdown.
func (s *Server) Serve() error {
	err := s.http.Serve(s.ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops taking requests and waits, as long as ctx allows, for those in progress
// (a backup being streamed) to finish; then it closes what is left.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	if err != nil {
		s.http.Close()
	}
	s.ln.Close() // in case Serve never ran
	return err
}

// Handler routes the admin endpoints behind the token check.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", s.metrics())
	mux.Handle("GET /static/", http.FileServerFS(assets))
	mux.HandleFunc("GET /login", s.loginForm)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.logout)
	mux.HandleFunc("GET /backup", s.backup)
	mux.HandleFunc("GET /{$}", s.overview)
	mux.HandleFunc("GET /sellers", s.sellers)
	mux.HandleFunc("GET /sellers/{id}", s.seller)
	mux.HandleFunc("POST /sellers/{id}/{op}", s.act)
	mux.HandleFunc("GET /jobs", s.jobs)
	mux.HandleFunc("GET /jobs/{id}", s.job)
	profiles(mux)
	return s.authorize(mux)
}

// backup sends a consistent copy of the data file. The snapshot is first written to a temporary
// file next to the data file, in one short read transaction, and only then streamed to the
// client: a slow or stalled client must not hold a read transaction open, since bbolt cannot grow
// its memory map, and so cannot commit, while one is open. Content-Length is exact, so a cut
// transfer is detectable.
func (s *Server) backup(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	log := s.cfg.Logger.With("remote", r.RemoteAddr)
	path, err := filepath.Abs(s.cfg.Store.Path())
	if err != nil {
		path = s.cfg.Store.Path()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".backup-*.db")
	if err != nil {
		log.Error("admin: backup failed", "err", err)
		http.Error(w, "backup failed", http.StatusInternalServerError)
		return
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	size, err := s.cfg.Store.Backup(tmp)
	if err == nil {
		_, err = tmp.Seek(0, io.SeekStart)
	}
	if err != nil {
		log.Error("admin: backup failed", "err", err)
		http.Error(w, "backup failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="neurocards-%s.db"`, start.UTC().Format("20060102T150405Z")))
	w.Header().Set(DataFileHeader, path)
	n, err := io.Copy(w, tmp)
	log = log.With("bytes", n, "took", time.Since(start).Round(time.Millisecond))
	if err != nil {
		log.Warn("admin: sending a backup failed", "err", err)
		return
	}
	log.Info("admin: backup sent")
}
