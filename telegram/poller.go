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
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"neurocards/messages"
)

// Poller long-polls getUpdates and confirms an update to Telegram only after its effect is
// persisted. go-telegram/bot's own poller confirms an update as soon as it is queued, so a crash
// could lose it; this one asks for the next batch only when Dispatch has returned.
type Poller struct {
	Gateway *Gateway
	Timeout time.Duration // long-poll timeout; Telegram holds the request open this long
	Allowed []string      // allowed_updates
	// LastHandled returns the id of the last update whose effect is persisted; SaveHandled records it.
	LastHandled func() (int64, error)
	SaveHandled func(id int64) error
	// Dispatch hands a batch to the bot and returns when every update in it is handled.
	Dispatch func(batch []models.Update)
	Logger   *slog.Logger
}

// Run polls until ctx ends. A batch being dispatched when ctx ends is finished first.
func (p *Poller) Run(ctx context.Context) error {
	log := p.Logger
	if log == nil {
		log = slog.Default()
	}
	last, err := p.LastHandled()
	if err != nil {
		return fmt.Errorf("telegram: poller: %w", err)
	}
	backoff := time.Duration(0)
	for ctx.Err() == nil {
		updates, err := p.Gateway.getUpdates(ctx, last+1, p.Timeout, p.Allowed)
		if err != nil {
			if ctx.Err() != nil {
				return nil
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
				return nil
			}
			continue
		}
		backoff = 0
		batch := updates[:0]
		for _, u := range updates {
			if u.ID > last {
				batch = append(batch, u)
			}
		}
		if len(batch) == 0 {
			continue
		}
		p.Dispatch(batch)
		last = batch[len(batch)-1].ID
		if err := p.SaveHandled(last); err != nil {
			log.Error("saving the update offset failed; updates may be seen again after a restart", "err", err)
		}
	}
	return nil
}

// getUpdates calls the Bot API directly, in the same multipart form the library uses, and maps
// errors to the library's error types so Classify treats them alike.
func (g *Gateway) getUpdates(ctx context.Context, offset int64, timeout time.Duration, allowed []string) ([]models.Update, error) {
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
		return nil, g.redact(err)
	}
	req.Header.Set("Content-Type", form.FormDataContentType())
	resp, err := g.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("telegram: getUpdates: %w", g.redact(err))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("telegram: getUpdates: %w", g.redact(err))
	}
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
		return nil, &HTTPError{Op: "getUpdates", Status: resp.StatusCode}
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
