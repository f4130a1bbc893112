package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"neurocards/messages"
	"neurocards/metrics"
)

// Poller long-polls getUpdates and confirms an update to Telegram only after its effect is
// persisted (go-telegram/bot's own poller confirms an update as soon as it is queued, so a crash
// could lose it). Telegram confirms by offset, everything below it at once, so one update still
// being handled must not hold the others back: the poller hands every update on as soon as it
// arrives, and while some are unfinished it keeps asking from the oldest of them — Telegram
// answers with those again, which it skips, and with whatever is new. The offset it saves is
// always below the oldest unfinished update, so a crash re-delivers and never drops.
type Poller struct {
	Gateway *Gateway
	Timeout time.Duration // long-poll timeout; Telegram holds the request open this long
	Allowed []string      // allowed_updates
	// LastHandled returns the id below which every update's effect is persisted; SaveHandled
	// records it.
	LastHandled func() (int64, error)
	SaveHandled func(id int64) error
	// Dispatch hands one update to the bot without waiting; done is called, once, from any
	// goroutine, when its effect is persisted.
	Dispatch func(u models.Update, done func())
	// MaxPending bounds the updates handed on and not yet done; default 512.
	MaxPending int
	Logger     *slog.Logger

	mu         sync.Mutex
	pending    map[int64]time.Time // handed on, not done, with when
	seen       int64               // the newest update handed on
	saved      int64
	acked      chan struct{} // signalled (never blocking) when an update is done
	lastAnswer time.Time     // when getUpdates last succeeded
}

// LastAnswer is when getUpdates last had a successful answer from Telegram (zero before the
// first). A healthy poller gets one at least every Timeout, even with no updates.
func (p *Poller) LastAnswer() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastAnswer
}

// recheck is how soon the poller asks again while updates are unfinished and nothing new came.
const recheck = 250 * time.Millisecond

// Run polls until ctx ends. Updates still being handled then are left unconfirmed, so the next
// start gets them again (sessions recognise what they already did); Settle records any that
// finish after Run returns.
func (p *Poller) Run(ctx context.Context) error {
	log := p.log()
	last, err := p.LastHandled()
	if err != nil {
		return fmt.Errorf("telegram: poller: %w", err)
	}
	p.mu.Lock()
	p.pending, p.seen, p.saved = map[int64]time.Time{}, last, last
	p.acked = make(chan struct{}, 1)
	p.mu.Unlock()
	maxPending := p.MaxPending
	if maxPending <= 0 {
		maxPending = 512
	}
	backoff, lastStuck := time.Duration(0), time.Time{}
	for ctx.Err() == nil {
		offset, pending, oldest := p.progress()
		if pending >= maxPending {
			p.waitAck(ctx, time.Minute)
			continue
		}
		if pending > 0 && time.Since(oldest) > time.Minute && time.Since(lastStuck) > time.Minute {
			lastStuck = time.Now()
			log.Error("an update has not been handled for over a minute; later ones go on", "update_id", offset, "for", time.Since(oldest).Round(time.Second))
		}
		timeout := p.Timeout
		if pending > 0 {
			timeout = 0 // Telegram has the unfinished ones: it answers at once
		}
		updates, err := p.Gateway.getUpdates(ctx, offset, timeout, p.Allowed)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			f := Classify(err)
			backoff = min(max(2*backoff, time.Second), 30*time.Second)
			wait := max(f.RetryAfter, backoff)
			lvl := slog.LevelWarn
			if f.Class == messages.Operator {
				lvl = slog.LevelError
			}
			log.Log(ctx, lvl, "getUpdates failed", "class", f.Class, "code", f.Code, "err", err, "retry_in", wait)
			if sleep(ctx, wait) != nil {
				break
			}
			continue
		}
		backoff = 0
		p.mu.Lock()
		p.lastAnswer = time.Now()
		p.mu.Unlock()
		if fresh := p.handOn(updates); fresh == 0 && pending > 0 {
			p.waitAck(ctx, recheck)
		}
	}
	p.Settle()
	return nil
}

// handOn dispatches the updates not handed on before and returns how many there were.
func (p *Poller) handOn(updates []models.Update) int {
	fresh := 0
	for _, u := range updates {
		p.mu.Lock()
		if u.ID <= p.seen {
			p.mu.Unlock()
			continue
		}
		p.seen = u.ID
		p.pending[u.ID] = time.Now()
		p.mu.Unlock()
		fresh++
		var once sync.Once
		id := u.ID
		p.Dispatch(u, func() { once.Do(func() { p.done(id) }) })
	}
	return fresh
}

func (p *Poller) done(id int64) {
	p.mu.Lock()
	delete(p.pending, id)
	p.mu.Unlock()
	select {
	case p.acked <- struct{}{}:
	default:
	}
}

// progress saves how far every update is handled and returns the offset to ask from: the oldest
// unfinished update, or the one after the newest seen.
func (p *Poller) progress() (offset int64, pending int, oldest time.Time) {
	p.mu.Lock()
	offset = p.seen + 1
	for id, at := range p.pending {
		if id < offset {
			offset, oldest = id, at
		}
	}
	pending = len(p.pending)
	save := offset-1 > p.saved
	if save {
		p.saved = offset - 1
	}
	p.mu.Unlock()
	if save {
		if err := p.SaveHandled(offset - 1); err != nil {
			p.log().Error("saving the update offset failed; updates may be seen again after a restart", "err", err)
		}
	}
	return offset, pending, oldest
}

// Settle records the updates that finished since the poller last looked; call it once the bot
// has stopped handling updates, so fewer are re-delivered at the next start.
func (p *Poller) Settle() {
	p.mu.Lock()
	started := p.pending != nil
	p.mu.Unlock()
	if started {
		p.progress()
	}
}

func (p *Poller) waitAck(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.acked:
	case <-t.C:
	case <-ctx.Done():
	}
}

func (p *Poller) log() *slog.Logger {
	if p.Logger == nil {
		return slog.Default()
	}
	return p.Logger
}

// getUpdates asks Telegram for updates once and counts the call; a poll cut short by a stop is
// not counted. Its errors, like those of every other call, have the token hidden.
func (g *Gateway) getUpdates(ctx context.Context, offset int64, timeout time.Duration, allowed []string) ([]models.Update, error) {
	start := time.Now()
	updates, err := g.pollUpdates(ctx, offset, timeout, allowed)
	if ctx.Err() == nil {
		g.observe("getUpdates", err, time.Since(start))
		var tmr *bot.TooManyRequestsError
		if errors.As(err, &tmr) {
			g.cfg.Metrics.RateLimited(metrics.Telegram, "getUpdates", retryAfter(tmr))
		}
	}
	return updates, g.redact(err)
}

// pollUpdates calls the Bot API directly, in the same multipart form the library uses, and maps
// errors to the library's error types so Classify treats them alike.
func (g *Gateway) pollUpdates(ctx context.Context, offset int64, timeout time.Duration, allowed []string) ([]models.Update, error) {
	var body bytes.Buffer
	form := multipart.NewWriter(&body)
	_ = form.WriteField("offset", strconv.FormatInt(offset, 10))
	_ = form.WriteField("timeout", strconv.Itoa(int(timeout/time.Second)))
	if len(allowed) > 0 {
		raw, _ := json.Marshal(allowed)
		_ = form.WriteField("allowed_updates", string(raw))
	}
	if err := form.Close(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout+15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.apiURL+"/bot"+g.token+"/getUpdates", &body)
	if err != nil {
		return nil, fmt.Errorf("telegram: getUpdates: %w", err)
	}
	req.Header.Set("Content-Type", form.FormDataContentType())
	resp, err := g.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("telegram: getUpdates: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("telegram: getUpdates: %w", err)
	}
	return decodeUpdates(resp.StatusCode, raw)
}

// decodeUpdates reads a getUpdates answer: the updates, or the error it describes.
func decodeUpdates(status int, raw []byte) ([]models.Update, error) {
	var r struct {
		OK          bool            `json:"ok"`
		Result      []models.Update `json:"result"`
		ErrorCode   int             `json:"error_code"`
		Description string          `json:"description"`
		Parameters  struct {
			RetryAfter int `json:"retry_after"`
		} `json:"parameters"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, &HTTPError{Op: "getUpdates", Status: status}
	}
	if r.OK {
		return r.Result, nil
	}
	switch r.ErrorCode {
	case http.StatusTooManyRequests:
		return nil, &bot.TooManyRequestsError{Message: r.Description, RetryAfter: r.Parameters.RetryAfter}
	case http.StatusUnauthorized:
		return nil, fmt.Errorf("%w, %s", bot.ErrorUnauthorized, r.Description)
	case http.StatusConflict:
		return nil, fmt.Errorf("%w, %s", bot.ErrorConflict, r.Description)
	case http.StatusNotFound:
		return nil, fmt.Errorf("%w, %s", bot.ErrorNotFound, r.Description)
	case http.StatusBadRequest:
		return nil, fmt.Errorf("%w, %s", bot.ErrorBadRequest, r.Description)
	}
	return nil, errors.New("telegram: getUpdates: " + strconv.Itoa(r.ErrorCode) + " " + r.Description)
}

// Lighten drops what the bot never reads from an update as it arrives. A callback query carries
// the whole message its button was on — text, entities, keyboard, about 2 KB decoded — of which
// the bot reads which message it was, in which chat, and whether it is still accessible (its
// date). An actor keeps the last message it handled for as long as it lives (hollywood's
// context), so without this every seller with a job in flight kept their last tap's message.
func Lighten(u *models.Update) {
	cq := u.CallbackQuery
	if cq == nil || cq.Message.Message == nil {
		return
	}
	m := cq.Message.Message
	cq.Message.Message = &models.Message{ID: m.ID, Date: m.Date, Chat: m.Chat}
}
