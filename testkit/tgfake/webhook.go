package tgfake

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"time"

	"github.com/go-telegram/bot/models"

	"neurocards/testkit"
)

// WebhookInfo is the webhook as the bot's last setWebhook left it.
type WebhookInfo struct {
	URL            string
	SecretToken    string
	Allowed        []string
	MaxConnections int
}

// WebhookDelivery is one POST of an update to the webhook.
type WebhookDelivery struct {
	UpdateID int64
	ChatID   int64
	Attempt  int    // 1 for the first delivery of this copy of the update
	Status   int    // the bot's HTTP status; 0 when it gave none
	Err      string // why there was no status
	At       time.Time
}

// OK reports whether the bot accepted the update.
func (d WebhookDelivery) OK() bool { return d.Status >= 200 && d.Status <= 299 }

// webhooks is the webhook side of the Server: while a webhook is set, queued updates are POSTed
// to it as Telegram does — in order within a chat, chats in parallel up to max_connections —
// and an update leaves the queue only when the bot answers 2xx; otherwise it is delivered
// again after Retry. Guarded by Server.mu.
type webhooks struct {
	cur        *webhook
	deliveries []WebhookDelivery
	// Retry is how soon a refused update is delivered again (default 100 ms; Telegram waits
	// longer and longer).
	retry  time.Duration
	client *http.Client
}

// webhook is one setWebhook's delivery: replaced by the next setWebhook, ended by deleteWebhook.
type webhook struct {
	info      WebhookInfo
	stop      chan struct{}
	busy      map[lane]bool // a delivery is on its way
	active    int
	notBefore map[int64]time.Time // update id → when it may be delivered again
	attempts  map[int64]int
}

// SetWebhookRetry sets how soon an update the bot refused is delivered again.
func (s *Server) SetWebhookRetry(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks.retry = d
}

// Webhook returns the webhook as set, and whether one is set.
func (s *Server) Webhook() (WebhookInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hooks.cur == nil {
		return WebhookInfo{}, false
	}
	info := s.hooks.cur.info
	info.Allowed = slices.Clone(info.Allowed)
	return info, true
}

// WebhookDeliveries returns every POST to the webhook so far, in the order they were answered.
func (s *Server) WebhookDeliveries() []WebhookDelivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.hooks.deliveries)
}

// WaitWebhook waits until ok accepts the deliveries so far.
func (s *Server) WaitWebhook(ctx context.Context, ok func([]WebhookDelivery) bool) error {
	err := await(ctx, s, func() []WebhookDelivery { return slices.Clone(s.hooks.deliveries) }, ok)
	if err != nil {
		return fmt.Errorf("tgfake: wait for webhook deliveries: %w", err)
	}
	return nil
}

// secretToken is what Telegram accepts as secret_token.
var secretToken = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

// setWebhook starts delivering to url; call with s.mu held.
func (s *Server) setWebhook(f form) (any, *apiError) {
	target := f.str("url")
	if target == "" {
		return s.deleteWebhook(f)
	}
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, badRequest("bad webhook: invalid URL")
	}
	secret := f.str("secret_token")
	if secret != "" && !secretToken.MatchString(secret) {
		return nil, badRequest("secret token contains unallowed characters")
	}
	maxConn, e := f.int64Field("max_connections")
	if e != nil {
		return nil, e
	}
	if maxConn <= 0 {
		maxConn = 40
	}
	if raw := f.str("allowed_updates"); raw != "" {
		var allowed []string
		if err := json.Unmarshal([]byte(raw), &allowed); err != nil {
			return nil, badRequest("can't parse allowed updates JSON object")
		}
		s.allowed = allowed
	}
	if f.boolField("drop_pending_updates") {
		s.queue = nil
	}
	s.endWebhook()
	h := &webhook{
		info:      WebhookInfo{URL: target, SecretToken: secret, Allowed: slices.Clone(s.allowed), MaxConnections: int(maxConn)},
		stop:      make(chan struct{}),
		busy:      map[lane]bool{},
		notBefore: map[int64]time.Time{},
		attempts:  map[int64]int{},
	}
	s.hooks.cur, s.webhook = h, target
	if s.hooks.client == nil {
		s.hooks.client = &http.Client{Transport: &http.Transport{}}
	}
	go s.deliverLoop(h)
	return true, nil
}

// deleteWebhook stops delivering; call with s.mu held.
func (s *Server) deleteWebhook(f form) (any, *apiError) {
	s.endWebhook()
	s.webhook = ""
	if f.boolField("drop_pending_updates") {
		s.queue = nil
	}
	return true, nil
}

func (s *Server) getWebhookInfo(form) (any, *apiError) {
	return models.WebhookInfo{URL: s.webhook, PendingUpdateCount: len(s.queue)}, nil
}

// endWebhook stops the current delivery loop; deliveries on their way still finish. Needs s.mu.
func (s *Server) endWebhook() {
	if s.hooks.cur != nil {
		close(s.hooks.cur.stop)
		s.hooks.cur = nil
	}
}

// deliverLoop starts a delivery for the oldest queued update of every chat that has none on its
// way, whenever anything changes, until the webhook is replaced or the server closes.
func (s *Server) deliverLoop(h *webhook) {
	for {
		s.mu.Lock()
		if s.hooks.cur != h {
			s.mu.Unlock()
			return
		}
		now := time.Now()
		var wake time.Time
		seen := map[lane]bool{}
		for _, q := range s.queue {
			if !s.allows(updateKind(q.u)) {
				continue
			}
			l := laneOf(q.u)
			if seen[l] {
				continue // a chat's updates go one at a time, oldest first
			}
			seen[l] = true
			if h.busy[l] || h.active >= h.info.MaxConnections {
				continue
			}
			if at := h.notBefore[q.u.ID]; at.After(now) {
				if wake.IsZero() || at.Before(wake) {
					wake = at
				}
				continue
			}
			h.busy[l] = true
			h.active++
			h.attempts[q.u.ID]++
			go s.post(h, q.u, l, h.attempts[q.u.ID])
		}
		changed := s.changed
		s.mu.Unlock()
		var timer *time.Timer
		var fire <-chan time.Time
		if !wake.IsZero() {
			timer = time.NewTimer(time.Until(wake))
			fire = timer.C
		}
		select {
		case <-changed:
		case <-fire:
		case <-h.stop:
		case <-s.done:
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// post delivers one update and records the answer: 2xx takes the update off the queue, anything
// else schedules it again.
func (s *Server) post(h *webhook, u models.Update, l lane, attempt int) {
	status, why := s.postUpdate(h.info, u)
	s.change(func() {
		h.busy[l] = false
		h.active--
		d := WebhookDelivery{UpdateID: u.ID, ChatID: l.chat, Attempt: attempt, Status: status, Err: why, At: time.Now()}
		s.hooks.deliveries = append(s.hooks.deliveries, d)
		if !d.OK() {
			retry := s.hooks.retry
			if retry <= 0 {
				retry = 100 * time.Millisecond
			}
			h.notBefore[u.ID] = time.Now().Add(retry)
			return
		}
		delete(h.notBefore, u.ID)
		delete(h.attempts, u.ID)
		if i := slices.IndexFunc(s.queue, func(q queued) bool { return q.u.ID == u.ID }); i >= 0 {
			s.queue = slices.Delete(s.queue, i, i+1)
		}
	})
}

func (s *Server) postUpdate(info WebhookInfo, u models.Update) (int, string) {
	if !testkit.Loopback(info.URL) {
		return 0, "not a loopback URL: not sent"
	}
	body, err := json.Marshal(u)
	if err != nil {
		return 0, err.Error()
	}
	// Telegram gives a webhook about a minute; the fake gives up when it closes.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	go func() {
		select {
		case <-s.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, info.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	if info.SecretToken != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", info.SecretToken)
	}
	s.mu.Lock()
	client := s.hooks.client
	s.mu.Unlock()
	resp, err := client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode, ""
}

// lane is what an update's deliveries queue behind: its chat, or, for an update of no chat, the
// update itself.
type lane struct{ chat, update int64 }

func laneOf(u models.Update) lane {
	switch {
	case u.Message != nil:
		return lane{chat: u.Message.Chat.ID}
	case u.EditedMessage != nil:
		return lane{chat: u.EditedMessage.Chat.ID}
	case u.CallbackQuery != nil:
		if m := u.CallbackQuery.Message.Message; m != nil {
			return lane{chat: m.Chat.ID}
		}
		return lane{chat: u.CallbackQuery.From.ID}
	case u.PreCheckoutQuery != nil:
		return lane{chat: u.PreCheckoutQuery.From.ID}
	case u.MyChatMember != nil:
		return lane{chat: u.MyChatMember.Chat.ID}
	}
	return lane{update: u.ID}
}
