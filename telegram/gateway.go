// Package telegram is the one way the bot talks to the Telegram Bot API: the outbound gateway over
// go-telegram/bot (rate limits, retry_after, a circuit breaker, per-chat ordering), the update
// poller, and the classifier of Telegram errors.
package telegram

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/sony/gobreaker/v2"
	"golang.org/x/time/rate"

	"neurocards/metrics"
)

// Config configures a Gateway.
type Config struct {
	Token   string
	APIURL  string
	HTTP    *http.Client  // nil: a client with no overall timeout; every call carries a ctx deadline
	PerSec  int           // messages per second to all chats (Telegram: about 30)
	PerChat time.Duration // minimum spacing of messages to one chat (Telegram: about 1 s)
	// CallTimeout bounds one ordinary call (a message, an edit); uploads take their own ctx.
	CallTimeout     time.Duration
	BreakerFailures int
	BreakerCooldown time.Duration
	Logger          *slog.Logger
	// Metrics counts every call by method and outcome, its latency, and 429s; nil counts nothing.
	Metrics *metrics.Metrics
}

// Button is an inline keyboard button with callback data (≤ 64 bytes) or a URL.
type Button struct {
	Text string
	Data string
	URL  string
}

// Keyboard is rows of inline buttons.
type Keyboard [][]Button

// Row is a convenience for one row of buttons.
func Row(b ...Button) []Button { return b }

// inlineKeyboard is our own wire form of an inline keyboard. The library's InlineKeyboardButton
// always sends "copy_text":{"text":""}, which Telegram may refuse (go-telegram/bot PR #167).
type inlineKeyboard struct {
	InlineKeyboard [][]inlineButton `json:"inline_keyboard"`
}

type inlineButton struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data,omitempty"`
	URL          string `json:"url,omitempty"`
}

func (k Keyboard) markup() models.ReplyMarkup {
	if k == nil {
		return nil
	}
	m := inlineKeyboard{InlineKeyboard: make([][]inlineButton, 0, len(k))}
	for _, row := range k {
		r := make([]inlineButton, 0, len(row))
		for _, b := range row {
			r = append(r, inlineButton{Text: b.Text, CallbackData: b.Data, URL: b.URL})
		}
		m.InlineKeyboard = append(m.InlineKeyboard, r)
	}
	return m
}

// Gateway sends everything the bot sends. It is safe for concurrent use.
type Gateway struct {
	bot     *bot.Bot
	http    *http.Client
	token   string
	apiURL  string
	cfg     Config
	log     *slog.Logger
	global  *rate.Limiter
	breaker *gobreaker.CircuitBreaker[any]
	redactor

	mu        sync.Mutex
	chats     map[int64]*chat
	onBlocked func(chatID int64)
	calls     int
	busy      int           // chats with calls queued or running
	idle      chan struct{} // closed when busy drops to 0; nil when nobody waits
	// line is the chats waiting for a slot of the global budget, by worth, and again the turns
	// under way waiting for another (schedule.go); turns counts those under way; pumping is armed
	// for the next slot while someone waits; seq numbers posted calls.
	line    [worths]line
	again   []*waiter
	turns   int
	pumping *time.Timer
	seq     uint64
}

// chat is the per-chat state: the blocked flag, the spacing and a 429's pause, and the queues of
// posted calls: new messages in the order posted, and status edits. Waiting costs a queue entry and a timer, not a goroutine: one runs only
// for the call that holds the chat's turn.
type chat struct {
	id        int64
	blocked   bool
	notBefore time.Time // a 429's pause
	next      time.Time // the per-chat spacing: nothing before this
	sends     []*posted
	edits     []*posted
	running   bool        // a call holds the chat's turn
	waiting   *waiter     // the chat's place in the line for the budget
	timer     *time.Timer // armed until its spacing or pause has passed
	lastUsed  time.Time
}

// New builds a Gateway. It makes no network call.
func New(cfg Config) (*Gateway, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.PerSec <= 0 {
		cfg.PerSec = 30
	}
	if cfg.PerChat <= 0 {
		cfg.PerChat = time.Second
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = 15 * time.Second
	}
	if cfg.BreakerFailures <= 0 {
		cfg.BreakerFailures = 5
	}
	if cfg.BreakerCooldown <= 0 {
		cfg.BreakerCooldown = 30 * time.Second
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			MaxIdleConns:        100,
			MaxIdleConnsPerHost: 32,
			// Telegram takes about 30 messages a second, so a few dozen connections carry every
			// call; beyond them, calls queue for one instead of each dialling its own.
			MaxConnsPerHost:       64,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
		}}
	}
	// Telegram counts arrivals, not departures, and uploads arrive late by varying amounts: keep a
	// tenth below the limit. Any one-second window then holds at most 0.9·PerSec messages: a small
	// burst, refilled at the rest.
	budget := max(1, cfg.PerSec*9/10)
	burst := max(1, budget/10)
	refill := rate.Limit(max(1, budget-burst))
	g := &Gateway{
		http:     cfg.HTTP,
		token:    cfg.Token,
		redactor: newRedactor(cfg.Token),
		apiURL:   strings.TrimRight(cfg.APIURL, "/"),
		cfg:      cfg,
		log:      cfg.Logger,
		global:   rate.NewLimiter(refill, burst),
		chats:    map[int64]*chat{},
	}
	b, err := bot.New(cfg.Token,
		bot.WithServerURL(cfg.APIURL),
		bot.WithHTTPClient(time.Minute, cfg.HTTP),
		bot.WithSkipGetMe(),
		bot.WithDefaultHandler(func(context.Context, *bot.Bot, *models.Update) {}),
		bot.WithErrorsHandler(g.libraryError),
	)
	if err != nil {
		return nil, fmt.Errorf("telegram: %w", g.redact(err))
	}
	g.bot = b
	g.breaker = gobreaker.NewCircuitBreaker[any](gobreaker.Settings{
		Name:    "telegram",
		Timeout: cfg.BreakerCooldown,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			return c.ConsecutiveFailures >= uint32(cfg.BreakerFailures)
		},
		IsSuccessful: func(err error) bool { return err == nil || !countsAgainstBreaker(err) },
		IsExcluded: func(err error) bool {
			var tmr *bot.TooManyRequestsError
			return errors.Is(err, context.Canceled) || errors.As(err, &tmr)
		},
		OnStateChange: func(name string, from, to gobreaker.State) {
			// Runs under the breaker's lock: log only, never ask the breaker anything here.
			cfg.Metrics.BreakerChanged(metrics.Telegram, to.String())
			if to == gobreaker.StateOpen {
				cfg.Logger.Warn("circuit breaker open", "breaker", name, "from", from.String())
			} else {
				cfg.Logger.Info("circuit breaker", "breaker", name, "state", to.String())
			}
		},
	})
	return g, nil
}

// BreakerState reports "closed", "half-open" or "open".
func (g *Gateway) BreakerState() string { return g.breaker.State().String() }

// GetMe checks the token and returns the bot's username.
func (g *Gateway) GetMe(ctx context.Context) (string, error) {
	var me *models.User
	err := g.do(ctx, "getMe", 0, false, func(ctx context.Context) error {
		var err error
		me, err = g.bot.GetMe(ctx)
		return err
	})
	if err != nil {
		return "", err
	}
	return me.Username, nil
}

// Send sends a text message and returns its message id.
func (g *Gateway) Send(ctx context.Context, chatID int64, text string, kb Keyboard) (int, error) {
	var msg *models.Message
	err := g.do(ctx, "sendMessage", chatID, true, func(ctx context.Context) error {
		var err error
		msg, err = g.bot.SendMessage(ctx, &bot.SendMessageParams{ChatID: chatID, Text: text, ReplyMarkup: kb.markup()})
		return err
	})
	if err != nil {
		return 0, err
	}
	return msg.ID, nil
}

// Edit replaces a message's text and keyboard. An edit to the same content counts as success.
func (g *Gateway) Edit(ctx context.Context, chatID int64, messageID int, text string, kb Keyboard) error {
	err := g.do(ctx, "editMessageText", chatID, true, func(ctx context.Context) error {
		_, err := g.bot.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: chatID, MessageID: messageID, Text: text, ReplyMarkup: kb.markup()})
		return err
	})
	if IsNotModified(err) {
		return nil
	}
	return err
}

// Answer answers a callback query so the seller's button stops spinning; text shows as a toast.
func (g *Gateway) Answer(ctx context.Context, callbackID, text string) error {
	return g.do(ctx, "answerCallbackQuery", 0, false, func(ctx context.Context) error {
		_, err := g.bot.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: callbackID, Text: text})
		return err
	})
}

// FileKind is how a file is sent.
type FileKind string

const (
	FileVideo    FileKind = "video"
	FilePhoto    FileKind = "photo"
	FileDocument FileKind = "document"
)

// method is the Bot API method that sends a file of this kind.
func (k FileKind) method() string {
	switch k {
	case FileVideo:
		return "sendVideo"
	case FilePhoto:
		return "sendPhoto"
	}
	return "sendDocument"
}

// Sent is what Telegram returned for a delivered file.
type Sent struct {
	MessageID int
	FileID    string
}

// SendFile uploads the file at path, streamed from disk, as a video, photo or document. It does not
// retry a 429 itself: the caller's supervisor waits the retry_after and tries again.
func (g *Gateway) SendFile(ctx context.Context, chatID int64, kind FileKind, path, caption string, kb Keyboard) (Sent, error) {
	var sent Sent
	err := g.do(ctx, kind.method(), chatID, false, func(ctx context.Context) error {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("telegram: open result: %w", err)
		}
		defer f.Close()
		in := &models.InputFileUpload{Filename: filepath.Base(path), Data: f}
		var msg *models.Message
		switch kind {
		case FileVideo:
			msg, err = g.bot.SendVideo(ctx, &bot.SendVideoParams{ChatID: chatID, Video: in, Caption: caption, SupportsStreaming: true, ReplyMarkup: kb.markup()})
			if err == nil && msg.Video != nil {
				sent.FileID = msg.Video.FileID
			}
		case FilePhoto:
			msg, err = g.bot.SendPhoto(ctx, &bot.SendPhotoParams{ChatID: chatID, Photo: in, Caption: caption, ReplyMarkup: kb.markup()})
			if err == nil && len(msg.Photo) > 0 {
				sent.FileID = msg.Photo[len(msg.Photo)-1].FileID
			}
		default:
			msg, err = g.bot.SendDocument(ctx, &bot.SendDocumentParams{ChatID: chatID, Document: in, Caption: caption, ReplyMarkup: kb.markup()})
			if err == nil && msg.Document != nil {
				sent.FileID = msg.Document.FileID
			}
		}
		if err != nil {
			return err
		}
		sent.MessageID = msg.ID
		return nil
	})
	return sent, err
}

// ErrTooLarge means a file is larger than the caller allowed.
var ErrTooLarge = errors.New("file too large")

// Download fetches a file the seller sent (getFile, then the file URL) into w, refusing more than
// maxBytes. The file URL contains the bot token; do hides it in errors, as for every call.
func (g *Gateway) Download(ctx context.Context, fileID string, w io.Writer, maxBytes int64) (int64, error) {
	var f *models.File
	err := g.do(ctx, "getFile", 0, false, func(ctx context.Context) error {
		var err error
		f, err = g.bot.GetFile(ctx, &bot.GetFileParams{FileID: fileID})
		return err
	})
	if err != nil {
		return 0, err
	}
	if f.FileSize > 0 && maxBytes > 0 && f.FileSize > maxBytes {
		return 0, fmt.Errorf("telegram: download: %d bytes: %w", f.FileSize, ErrTooLarge)
	}
	var n int64
	err = g.do(ctx, "file", 0, false, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.bot.FileDownloadLink(f), nil)
		if err != nil {
			return fmt.Errorf("telegram: download: %w", err)
		}
		resp, err := g.http.Do(req)
		if err != nil {
			return fmt.Errorf("telegram: download: %w", err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return &HTTPError{Op: "download", Status: resp.StatusCode}
		}
		limit := maxBytes
		if limit <= 0 {
			limit = 1 << 40
		}
		n, err = io.Copy(w, io.LimitReader(resp.Body, limit+1))
		if err != nil {
			return fmt.Errorf("telegram: download: %w", err)
		}
		if n > limit {
			return fmt.Errorf("telegram: download: over %d bytes: %w", limit, ErrTooLarge)
		}
		return nil
	})
	return n, err
}

// HTTPError is a non-API HTTP failure (file downloads), which the library does not map.
type HTTPError struct {
	Op     string
	Status int
}

func (e *HTTPError) Error() string { return fmt.Sprintf("telegram: %s: HTTP %d", e.Op, e.Status) }

// libraryError logs what go-telegram/bot reports outside any call's result.
func (g *Gateway) libraryError(err error) {
	g.log.Warn("telegram client", "err", g.redact(err))
}

// do runs one call of a Bot API method through the rate limits (when it is a message to a chat)
// and the breaker, and counts it. A message to a chat runs in the chat's turn (schedule.go):
// inside a posted op it has it already; anywhere else it waits for one as an answer to the
// seller. A 429 pauses the chat for retry_after; ordinary messages then try again, up to three
// times within ctx, while uploads return the error for their supervisor to handle. Every method
// of the Gateway calls Telegram through do, so this is where the token leaves its errors.
func (g *Gateway) do(ctx context.Context, method string, chatID int64, retry429 bool, call func(context.Context) error) error {
	if chatID != 0 && turnOf(ctx, chatID) == nil {
		return g.redact(g.inTurn(ctx, chatID, reply, func(ctx context.Context) error {
			return g.try(ctx, method, chatID, retry429, call)
		}))
	}
	return g.redact(g.try(ctx, method, chatID, retry429, call))
}

func (g *Gateway) try(ctx context.Context, method string, chatID int64, retry429 bool, call func(context.Context) error) error {
	t := turnOf(ctx, chatID)
	for attempt := 0; ; attempt++ {
		if t != nil {
			if g.isBlocked(t.chat) {
				return ErrBlocked
			}
			if err := g.wait(ctx, t); err != nil {
				return err
			}
		}
		start := time.Now()
		_, err := g.breaker.Execute(func() (any, error) { return nil, call(ctx) })
		g.observe(method, err, time.Since(start))
		if t != nil && errors.Is(err, bot.ErrorForbidden) {
			g.block(t.chat)
		}
		var tmr *bot.TooManyRequestsError
		if errors.As(err, &tmr) {
			after := retryAfter(tmr)
			g.cfg.Metrics.RateLimited(metrics.Telegram, method, after)
			if t != nil {
				g.pause(t.chat, after)
			}
			g.log.Warn("telegram rate limit", "chat_id", chatID, "retry_after", after)
			if retry429 && attempt < 3 {
				if t == nil {
					if err := sleep(ctx, after); err != nil {
						return err
					}
				}
				continue
			}
		}
		return err
	}
}

// observe counts one call: its outcome by the classifier, or the breaker's refusal.
func (g *Gateway) observe(method string, err error, took time.Duration) {
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		g.cfg.Metrics.Rejected(metrics.Telegram, method)
		return
	}
	g.cfg.Metrics.Call(metrics.Telegram, method, metrics.Outcome(err, Classify), took)
}

// wait takes a slot for one message in turn t — the turn's own for its first message, a new one
// after the chat's spacing and any 429 pause for the next — and starts the chat's spacing.
func (g *Gateway) wait(ctx context.Context, t *turn) error {
	if t.slot {
		t.slot = false
	} else if err := g.slot(ctx, t); err != nil {
		return err
	}
	g.mu.Lock()
	t.chat.next = time.Now().Add(g.cfg.PerChat * 21 / 20)
	g.mu.Unlock()
	return nil
}

// ErrBlocked is returned, without calling Telegram, for a chat whose seller blocked the bot.
var ErrBlocked = fmt.Errorf("%w, the seller blocked the bot (remembered)", bot.ErrorForbidden)

// isBlocked, block and pause act on the chat of the turn a call runs in: the one in g.chats
// while the turn holds it.
func (g *Gateway) isBlocked(c *chat) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return c.blocked
}

func (g *Gateway) block(c *chat) {
	chatID := c.id
	g.mu.Lock()
	first := !c.blocked
	c.blocked = true
	onBlocked := g.onBlocked
	g.mu.Unlock()
	if first {
		g.log.Info("seller blocked the bot", "chat_id", chatID)
		if onBlocked != nil {
			onBlocked(chatID)
		}
	}
}

// OnBlocked sets who is told, once, when a chat answers 403: the seller blocked the bot. Nothing
// more is sent to that chat until Unblock (the seller wrote to the bot again).
func (g *Gateway) OnBlocked(f func(chatID int64)) {
	g.mu.Lock()
	g.onBlocked = f
	g.mu.Unlock()
}

// Unblock forgets that a chat blocked the bot: its seller has written to the bot again.
func (g *Gateway) Unblock(chatID int64) {
	g.mu.Lock()
	if c, ok := g.chats[chatID]; ok {
		c.blocked = false
	}
	g.mu.Unlock()
}

func (g *Gateway) pause(c *chat, d time.Duration) {
	g.mu.Lock()
	if t := time.Now().Add(d); t.After(c.notBefore) {
		c.notBefore = t
	}
	g.mu.Unlock()
}

// chatLocked returns the chat's state, creating it, and now and then forgets chats that went
// quiet so memory does not grow with the number of sellers ever seen. Needs g.mu.
func (g *Gateway) chatLocked(chatID int64) *chat {
	now := time.Now()
	g.calls++
	if g.calls%512 == 0 {
		for id, c := range g.chats {
			idle := now.Sub(c.lastUsed)
			if !c.running && c.pending() == 0 && c.waiting == nil && c.timer == nil && idle > 2*time.Minute &&
				now.After(c.notBefore) && (!c.blocked || idle > time.Hour) {
				delete(g.chats, id)
			}
		}
	}
	c, ok := g.chats[chatID]
	if !ok {
		c = &chat{id: chatID}
		g.chats[chatID] = c
	}
	c.lastUsed = now
	return c
}

// Flush waits until every posted call has run, or ctx ends.
func (g *Gateway) Flush(ctx context.Context) error {
	g.mu.Lock()
	if g.busy == 0 {
		g.mu.Unlock()
		return nil
	}
	if g.idle == nil {
		g.idle = make(chan struct{})
	}
	idle := g.idle
	g.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// CallContext returns a context for one ordinary call.
func (g *Gateway) CallContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), g.cfg.CallTimeout)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
