package public

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/go-telegram/bot/models"
)

// HeaderSecretToken is where Telegram puts the webhook's secret_token.
const HeaderSecretToken = "X-Telegram-Bot-Api-Secret-Token"

// WebhookSecret is the secret_token to give setWebhook; Telegram sends it back with every update.
func (s *Server) WebhookSecret() string { return s.webhookSecret }

// webhook takes one update from Telegram and answers only once its effect is persisted — the
// same moment the poller would confirm it. An update not persisted within WebhookWait gets a
// non-200 answer and Telegram delivers it again; the seller's session recognises an update it
// already handled, so the second delivery has no second effect.
func (s *Server) webhook(w http.ResponseWriter, r *http.Request) {
	if !sameSecret(r.Header.Get(HeaderSecretToken), s.webhookSecret) {
		s.refused("telegram webhook", "wrong secret token")
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxUpdateBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return
	}
	var u models.Update
	if err := json.Unmarshal(body, &u); err != nil || u.ID <= 0 {
		s.log.Warn("public: telegram webhook: not an update", "err", err)
		http.Error(w, "not an update", http.StatusBadRequest)
		return
	}
	s.telegramSeen.Store(time.Now().UnixNano())
	handled := make(chan struct{})
	var once sync.Once
	if !s.cfg.Dispatch(u, func() { once.Do(func() { close(handled) }) }) {
		http.Error(w, "starting or stopping; deliver again", http.StatusServiceUnavailable)
		return
	}
	wait := time.NewTimer(s.cfg.WebhookWait)
	defer wait.Stop()
	select {
	case <-handled:
		w.WriteHeader(http.StatusOK)
	case <-wait.C:
		s.log.Warn("public: telegram webhook: update not handled in time; Telegram will deliver it again", "update_id", u.ID, "waited", s.cfg.WebhookWait)
		http.Error(w, "not handled yet; deliver again", http.StatusServiceUnavailable)
	case <-r.Context().Done():
		// Telegram went away; it delivers the update again, and the session knows it.
	}
}
