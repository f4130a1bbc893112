package chatpage

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"neurocards/testkit/tgfake"
)

// activity is one line of the panel's log: what the fakes did to the bot and what the person did
// to the world.
type activity struct {
	chat  int64  // 0: every seller sees it
	Time  string `json:"time"`
	Text  string `json:"text"`
	Error bool   `json:"error,omitempty"`
}

// toast is a callback answer with text, which Telegram shows over the chat for a moment.
type toast struct {
	ID    int    `json:"id"`
	Text  string `json:"text"`
	Alert bool   `json:"alert,omitempty"`
}

// chatAction is the bot's latest sendChatAction, shown under its name for five seconds or until
// it sends something, as Telegram does.
type chatAction struct {
	Action string `json:"action"`
	At     int64  `json:"at"` // Unix milliseconds
}

const (
	activityKept = 40
	toastsKept   = 5
)

// refresh is how often a stream re-reads the state even when the fake Telegram has not changed:
// the store tells nobody when a balance moves.
const refresh = time.Second

// events streams the seller's view as server-sent events, one whole view per change.
func (p *Page) events(w http.ResponseWriter, r *http.Request, s Seller) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		httpError(w, http.StatusInternalServerError, "streaming is not supported here")
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	tick := time.NewTicker(refresh)
	defer tick.Stop()
	var last []byte
	for {
		changed := p.changes()
		b, err := json.Marshal(p.view(s))
		if err != nil {
			p.log.Error("chat page: encoding a view failed", "err", err)
			return
		}
		if !bytes.Equal(b, last) {
			if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
				return
			}
			flusher.Flush()
			last = b
		}
		select {
		case <-changed:
		case <-tick.C:
		case <-r.Context().Done():
			return
		case <-p.done:
			return
		}
	}
}

// onEvent learns from the fake Telegram what the page cannot read from a transcript: errors it
// answered the bot with, callback answers, chat actions. It runs on the fake's goroutines, so it
// only records and wakes the streams.
func (p *Page) onEvent(ev tgfake.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev.Kind {
	case "bot.error":
		p.noteLocked(ev.ChatID, true, "Telegram answered the bot's %s", ev.Text)
	case "bot.callback_answer":
		if ev.Text != "" {
			p.toastSeq++
			ts := append(p.toasts[ev.ChatID], toast{ID: p.toastSeq, Text: ev.Text})
			p.toasts[ev.ChatID] = ts[max(0, len(ts)-toastsKept):]
		}
	case "bot.action":
		p.actions[ev.ChatID] = chatAction{Action: ev.Text, At: ev.At.UnixMilli()}
	case "bot.send", "bot.invoice":
		delete(p.actions, ev.ChatID)
	case "bot.refund":
		p.noteLocked(ev.ChatID, false, "Telegram %s", ev.Text)
	}
	p.notifyLocked()
}

// note adds a line to the activity log and wakes the streams.
func (p *Page) note(chat int64, isErr bool, format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.noteLocked(chat, isErr, format, args...)
	p.notifyLocked()
}

func (p *Page) noteLocked(chat int64, isErr bool, format string, args ...any) {
	text := strings.TrimSpace(fmt.Sprintf(format, args...))
	p.activity = append(p.activity, activity{chat: chat, Time: time.Now().Format("15:04:05"), Text: text, Error: isErr})
	if n := len(p.activity); n > activityKept {
		p.activity = p.activity[n-activityKept:]
	}
}
