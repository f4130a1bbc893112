// Package chatpage is the sandbox as a chat page: a person plays a seller in a browser against
// the real bot running on the fakes (testkit/harness). The page is a thin view over
// testkit/tgfake — each chat as the fake Telegram recorded it, pushed to the browser as
// server-sent events — and every seller action goes through the fake's public API, the same calls
// the tests make. A side panel uses the fakes' fault controls and shows the seller's balance and
// ledger, read from the running bot's store. Everything the browser loads is embedded.
package chatpage

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"neurocards/config"
	"neurocards/testkit/harness"
	"neurocards/testkit/tgfake"
)

// Seller is one of the people the page lets the person be.
type Seller struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Lang string `json:"lang"` // the Telegram client's language_code
}

// DefaultSellers are the sellers the sandbox page offers: two Russian, one English.
var DefaultSellers = []Seller{
	{ID: 101, Name: "Анна", Lang: "ru"},
	{ID: 102, Name: "Ben", Lang: "en"},
	{ID: 103, Name: "Олег", Lang: "ru"},
}

// Configure paces the bot for a person watching: a job takes a few seconds, so the status
// message can be seen changing in place, and a failure is retried slowly enough to follow.
// Apply it after harness.FastTiming (harness.Options.Configure runs after it).
func Configure(c *config.Config) {
	t := &c.Timing
	t.PollMin, t.PollMax = 300*time.Millisecond, 600*time.Millisecond
	t.StatusInterval, t.StatusTick = time.Second, time.Second
	t.RetryBase, t.RetryMax = 300*time.Millisecond, 3*time.Second
	t.BreakerCooldown = 5 * time.Second
	t.JobTimeout = 3 * time.Minute
	t.KIEAttemptTimeout = time.Minute
	c.Limits.TelegramPerChat = 50 * time.Millisecond
}

//go:embed web
var webFiles embed.FS

// Page serves the chat page for one running sandbox.
type Page struct {
	env     *harness.Env
	sellers []Seller
	log     *slog.Logger
	done    chan struct{} // closed by Close: streams end, so the HTTP server can shut down
	once    sync.Once
	bg      sync.WaitGroup // a restart in progress

	mu         sync.Mutex
	changed    chan struct{} // closed and replaced on every change the page learns of
	kieFails   []kieFailure  // outcomes for the next KIE tasks, oldest first
	kieDown    bool
	blocked    map[int64]bool
	restarting bool
	botErr     string
	activity   []activity // newest last, at most activityKept
	toasts     map[int64][]toast
	toastSeq   int
	actions    map[int64]chatAction
	admin      adminProbe
}

// New makes the page for env, whose bot must be running, with sellers to choose from (nil for
// DefaultSellers). It creates their chats in the fake Telegram and takes over env.KIE's script.
func New(env *harness.Env, sellers []Seller, log *slog.Logger) *Page {
	if sellers == nil {
		sellers = DefaultSellers
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Page{
		env: env, sellers: sellers, log: log,
		done:    make(chan struct{}),
		changed: make(chan struct{}),
		blocked: map[int64]bool{},
		toasts:  map[int64][]toast{},
		actions: map[int64]chatAction{},
	}
	for _, s := range sellers {
		env.Telegram.Seller(s.ID, s.Lang, s.Name)
	}
	env.Telegram.OnEvent(p.onEvent)
	env.KIE.Script(p.kieScript)
	return p
}

// Close ends the page's event streams and waits for a restart in progress.
func (p *Page) Close() {
	p.once.Do(func() { close(p.done) })
	p.bg.Wait()
}

// Handler routes the page and its API.
func (p *Page) Handler() http.Handler {
	static, err := fs.Sub(webFiles, "web")
	if err != nil {
		panic("chatpage: " + err.Error())
	}
	mux := http.NewServeMux()
	mux.Handle("GET /", http.FileServerFS(static))
	mux.HandleFunc("GET /api/sellers", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, p.sellers) })
	mux.HandleFunc("GET /api/chats/{chat}/events", p.withSeller(p.events))
	mux.HandleFunc("GET /api/chats/{chat}/messages/{msg}/file", p.withSeller(p.file))
	mux.HandleFunc("POST /api/chats/{chat}/text", p.withSeller(p.sendText))
	mux.HandleFunc("POST /api/chats/{chat}/photo", p.withSeller(p.sendFile))
	mux.HandleFunc("POST /api/chats/{chat}/sample-photo", p.withSeller(p.sendSamplePhoto))
	mux.HandleFunc("POST /api/chats/{chat}/tap", p.withSeller(p.tap))
	mux.HandleFunc("POST /api/chats/{chat}/pay", p.withSeller(p.pay))
	mux.HandleFunc("POST /api/chats/{chat}/faults/{fault}", p.withSeller(p.fault))
	return loopbackOnly(mux)
}

// withSeller resolves {chat} to one of the page's sellers.
func (p *Page) withSeller(h func(http.ResponseWriter, *http.Request, Seller)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(r.PathValue("chat"), 10, 64)
		for _, s := range p.sellers {
			if err == nil && s.ID == id {
				h(w, r, s)
				return
			}
		}
		httpError(w, http.StatusNotFound, "no such seller on this page")
	}
}

// loopbackOnly refuses requests that name another host (DNS rebinding) and changes asked for
// by another site's page: the page has no login, and it can restart the bot.
func loopbackOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isLoopbackHost(r.Host) {
			httpError(w, http.StatusForbidden, "the sandbox page answers only on a loopback address")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if o := r.Header.Get("Origin"); o != "" {
				if u, err := url.Parse(o); err != nil || u.Host != r.Host {
					httpError(w, http.StatusForbidden, "changes come only from the sandbox page itself")
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

func isLoopbackHost(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CheckAddr refuses an address that is not on loopback: whoever reaches the page drives the bot.
func CheckAddr(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("chatpage: address %q: %w", addr, err)
	}
	if !isLoopbackHost(host) {
		return errors.New("chatpage: the page has no login and controls the bot, so it listens only on loopback (127.0.0.1, ::1, localhost)")
	}
	return nil
}

// changes returns a channel closed at the next change; take it before reading the state.
func (p *Page) changes() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.changed
}

// notifyLocked wakes every stream; call with p.mu held.
func (p *Page) notifyLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// httpError answers {"error": msg}: the page shows msg to the person as it is.
func httpError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// tgSeller is the seller's side of the chat in the fake Telegram.
func (p *Page) tgSeller(s Seller) *tgfake.Seller { return p.env.Telegram.Seller(s.ID, s.Lang, s.Name) }
