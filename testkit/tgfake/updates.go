package tgfake

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/go-telegram/bot/models"
)

// queued is an update waiting to be confirmed by a getUpdates offset.
type queued struct {
	u models.Update
	// redelivery marks a Resend copy. It survives confirmation until it has been delivered
	// once: its id is below any offset the bot already sent, and it must still reach the bot.
	redelivery bool
}

// enqueue gives u the next update_id and queues it; call with s.mu held.
func (s *Server) enqueue(u models.Update) int64 {
	s.lastUpdate++
	u.ID = s.lastUpdate
	if !s.lean.on {
		s.history[u.ID] = u
	}
	s.queue = append(s.queue, queued{u: u})
	return u.ID
}

// enqueueMessage queues an update carrying a copy of the message as it is now.
func (s *Server) enqueueMessage(en *entry) int64 {
	m := en.model
	return s.enqueue(models.Update{Message: &m})
}

// confirm drops what offset confirms, for good, as Telegram does.
func (s *Server) confirm(offset int64) {
	switch {
	case offset > 0:
		s.queue = slices.DeleteFunc(s.queue, func(q queued) bool { return q.u.ID < offset && !q.redelivery })
	case offset < 0:
		if keep := int(-offset); keep < len(s.queue) {
			s.queue = slices.Clone(s.queue[len(s.queue)-keep:])
		}
	}
}

// batch picks up to limit deliverable updates, returning their queue indexes in id order.
func (s *Server) batch(limit int) []int {
	var idx []int
	for i, q := range s.queue {
		if s.allows(updateKind(q.u)) {
			idx = append(idx, i)
			if len(idx) == limit {
				break
			}
		}
	}
	// A bot records the last id it got as its next offset, so a redelivered old id must not
	// come after newer ones in one batch.
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(s.queue[a].u.ID, s.queue[b].u.ID) })
	return idx
}

// allows applies allowed_updates; an empty list means Telegram's default, everything but
// chat_member and the reaction updates.
func (s *Server) allows(kind string) bool {
	if len(s.allowed) == 0 {
		return kind != models.AllowedUpdateChatMember && kind != models.AllowedUpdateMessageReaction &&
			kind != models.AllowedUpdateMessageReactionCount
	}
	return slices.Contains(s.allowed, kind)
}

func updateKind(u models.Update) string {
	switch {
	case u.Message != nil:
		return models.AllowedUpdateMessage
	case u.EditedMessage != nil:
		return models.AllowedUpdateEditedMessage
	case u.CallbackQuery != nil:
		return models.AllowedUpdateCallbackQuery
	case u.PreCheckoutQuery != nil:
		return models.AllowedUpdatePreCheckoutQuery
	case u.MyChatMember != nil:
		return models.AllowedUpdateMyChatMember
	case u.ChatMember != nil:
		return models.AllowedUpdateChatMember
	}
	return ""
}

// getUpdates confirms by offset, then answers what is queued, holding the request until an
// update arrives, the timeout passes, the client goes away, the server closes, or a newer
// getUpdates takes over (which gets the older one a 409, as on Telegram).
func (s *Server) getUpdates(w http.ResponseWriter, r *http.Request, f form, c Call) {
	offset, e := f.int64Field("offset")
	var timeout, limit int64
	if e == nil {
		timeout, e = f.int64Field("timeout")
	}
	if e == nil {
		limit, e = f.int64Field("limit")
	}
	var allowed []string
	setAllowed := f.str("allowed_updates") != ""
	if e == nil && setAllowed {
		if err := json.Unmarshal([]byte(f.str("allowed_updates")), &allowed); err != nil {
			e = badRequest("can't parse allowed updates JSON object")
		}
	}
	if limit <= 0 || limit > 100 {
		limit = 100
	}

	var timer <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(time.Duration(timeout) * time.Second)
		defer t.Stop()
		timer = t.C
	}

	s.mu.Lock()
	if e == nil && s.webhook != "" {
		e = &apiError{status: http.StatusConflict, desc: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"}
	}
	var idx []int
	if e == nil {
		s.confirm(offset)
		if setAllowed {
			s.allowed = allowed
		}
		if s.poller != nil {
			close(s.poller)
		}
		kick := make(chan struct{})
		s.poller = kick
		idx = s.batch(int(limit))
		for len(idx) == 0 && timer != nil && e == nil {
			s.held++
			s.broadcast()
			changed := s.changed
			s.mu.Unlock()
			stop := false
			select {
			case <-changed:
			case <-timer:
				stop = true
			case <-r.Context().Done():
				stop = true
			case <-s.done:
				stop = true
			case <-kick:
				e = &apiError{status: http.StatusConflict, desc: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"}
			}
			s.mu.Lock()
			s.held--
			if stop {
				break
			}
			idx = s.batch(int(limit))
		}
		if s.poller == kick {
			s.poller = nil
		}
	}

	var result json.RawMessage
	if e == nil {
		updates := make([]models.Update, 0, len(idx))
		for _, i := range idx {
			updates = append(updates, s.queue[i].u)
			s.queue[i].redelivery = false
		}
		result, _ = json.Marshal(updates)
		c.Status = http.StatusOK
	} else {
		c.Status, c.RetryAfter = e.status, e.retryAfter
	}
	s.record(c)
	s.broadcast()
	s.mu.Unlock()
	s.flush()

	if e != nil {
		writeError(w, e)
		return
	}
	writeResult(w, result)
}

// Update returns an update the server issued, as the bot receives it: for actor tests that feed
// an update to an actor directly instead of through getUpdates.
func (s *Server) Update(id int64) (models.Update, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.history[id]
	return u, ok
}
