// Package admin is the operator's HTTP surface of a running bot: /healthz for probes and /backup
// for a hot copy of the data file. bbolt lets one process open the file, so a backup taken while
// the bot runs has to come from the bot itself; `neurocards backup` asks for it here. Everything
// but /healthz needs the admin token (Authorization: Bearer …); with no token configured only
// /healthz answers.
package admin

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"neurocards/store"
)

// DataFileHeader names the data file a /backup comes from, so `neurocards backup` can refuse a
// copy of another bot's data.
const DataFileHeader = "X-Neurocards-Data-File"

// Config is what the admin server needs.
type Config struct {
	Addr   string // host:port to listen on; port 0 picks a free one
	Token  string // the admin token; empty disables everything but /healthz
	Store  *store.Store
	Logger *slog.Logger
}

// Server is the admin HTTP server, bound but not yet serving until Serve.
type Server struct {
	cfg  Config
	ln   net.Listener
	http *http.Server
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
	s := &Server{cfg: cfg, ln: ln}
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
	mux.HandleFunc("GET /backup", s.backup)
	profiles(mux)
	return s.authorize(mux)
}

// authorize lets /healthz through and asks everything else for the token.
func (s *Server) authorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			next.ServeHTTP(w, r)
			return
		}
		if s.cfg.Token == "" {
			http.Error(w, "the admin token is not set (NEUROCARDS_ADMIN_TOKEN): only /healthz is served", http.StatusForbidden)
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.cfg.Token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="neurocards admin"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
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
