package tgfake

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Reply is a scripted answer that replaces a call's normal handling.
//
// Status 0 with neither CloseConn nor HTML means "slow but working": the call waits Delay, even
// if the client gives up meanwhile, and then is handled normally, like a Telegram that accepted a
// message whose answer never arrived.
type Reply struct {
	Status      int    // HTTP status and error_code; 0 means 500 (502 with HTML)
	Description string // defaults to Telegram's wording for the status
	RetryAfter  int    // parameters.retry_after; a 429 gets at least 1
	Delay       time.Duration
	CloseConn   bool // hijack and close the connection: a network error for the client
	HTML        bool // a text/html body, as from a proxy in front of Telegram
}

type failRule struct {
	method string // lower case; "" for any
	chatID int64  // 0 for any
	left   int
	reply  Reply
}

// Fail makes the next n calls of method (case-insensitive; "" for any; "file" for downloads) to
// chatID (0 for any) answer r instead of working. Rules apply in the order they were added. A failed call leaves
// the transcript unchanged.
func (s *Server) Fail(method string, chatID int64, n int, r Reply) {
	if n <= 0 {
		return
	}
	s.mu.Lock()
	s.rules = append(s.rules, &failRule{method: strings.ToLower(method), chatID: chatID, left: n, reply: r})
	s.mu.Unlock()
}

// takeRule consumes one use of the first rule matching the call; call with s.mu held.
// Consuming a rule is a change: tests wait for a scripted call to be in flight.
func (s *Server) takeRule(method string, chatID int64) *Reply {
	for i, fr := range s.rules {
		if (fr.method == "" || fr.method == strings.ToLower(method)) && (fr.chatID == 0 || fr.chatID == chatID) {
			fr.left--
			if fr.left == 0 {
				s.rules = append(s.rules[:i:i], s.rules[i+1:]...)
			}
			r := fr.reply
			s.broadcast()
			return &r
		}
	}
	return nil
}

// scripted answers a call per its Reply. It reports true when the call should go on to normal
// handling (a pure delay).
func (s *Server) scripted(w http.ResponseWriter, r *http.Request, rp Reply, c Call) bool {
	passThrough := rp.Status == 0 && !rp.CloseConn && !rp.HTML
	if rp.Delay > 0 {
		t := time.NewTimer(rp.Delay)
		defer t.Stop()
		var gone <-chan struct{}
		if !passThrough {
			gone = r.Context().Done()
		}
		select {
		case <-t.C:
		case <-gone:
		case <-s.done:
			writeError(w, &apiError{status: http.StatusServiceUnavailable, desc: "Service Unavailable"})
			return false
		}
	}
	if passThrough {
		return true
	}

	if rp.CloseConn {
		c.Status = 0
		s.change(func() { s.record(c) })
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return false
			}
		}
		// Without a hijackable connection, this is how net/http drops one without logging.
		panic(http.ErrAbortHandler)
	}

	status := rp.Status
	if status == 0 {
		status = http.StatusInternalServerError
		if rp.HTML {
			status = http.StatusBadGateway
		}
	}
	retry := rp.RetryAfter
	if status == http.StatusTooManyRequests && retry <= 0 {
		retry = 1
	}
	c.Status, c.RetryAfter = status, retry
	s.change(func() { s.record(c) })

	if rp.HTML {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, fmt.Sprintf("<html>\r\n<head><title>%[1]d %[2]s</title></head>\r\n<body>\r\n<center><h1>%[1]d %[2]s</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n", status, http.StatusText(status)))
		return false
	}
	desc := rp.Description
	if desc == "" {
		desc = defaultDescription(status, retry)
	}
	writeError(w, &apiError{status: status, desc: desc, retryAfter: retry})
	return false
}

func defaultDescription(status, retry int) string {
	switch status {
	case http.StatusTooManyRequests:
		return fmt.Sprintf("Too Many Requests: retry after %d", retry)
	case http.StatusBadRequest:
		return "Bad Request"
	case http.StatusForbidden:
		return "Forbidden"
	case http.StatusConflict:
		return "Conflict"
	}
	return http.StatusText(status)
}

// Block makes every send*/edit* call to the user's chat answer 403 "Forbidden: bot was blocked
// by the user", as after the user blocked the bot. The seller can still send updates.
func (s *Server) Block(userID int64) {
	s.mu.Lock()
	s.blocked[userID] = true
	s.mu.Unlock()
}

// Unblock undoes Block, as when the user restarts the bot.
func (s *Server) Unblock(userID int64) {
	s.mu.Lock()
	delete(s.blocked, userID)
	s.mu.Unlock()
}

func blockable(method string) bool {
	return strings.HasPrefix(method, "send") || strings.HasPrefix(method, "edit")
}

// Limits are sliding-window flood limits over message sends and edits (send* except
// sendChatAction, and edit*). A count with a zero window uses one second.
type Limits struct {
	PerChat       int
	PerChatWindow time.Duration
	Global        int
	GlobalWindow  time.Duration
	RetryAfter    int // seconds to announce; 0 computes the time until the window frees a slot
}

// EnforceLimits sets the flood limits and clears their windows. Calls beyond a limit are
// answered 429 "Too Many Requests: retry after N" with parameters.retry_after, and recorded
// with Call.Status 429. The zero Limits disables them.
func (s *Server) EnforceLimits(l Limits) {
	if l.PerChat > 0 && l.PerChatWindow <= 0 {
		l.PerChatWindow = time.Second
	}
	if l.Global > 0 && l.GlobalWindow <= 0 {
		l.GlobalWindow = time.Second
	}
	s.mu.Lock()
	s.limits = l
	s.perChat = map[int64][]time.Time{}
	s.global = nil
	s.mu.Unlock()
}

func rateLimited(method string) bool {
	return (strings.HasPrefix(method, "send") && method != "sendChatAction") || strings.HasPrefix(method, "edit")
}

// rateLimit admits a call into the windows or refuses it; call with s.mu held. Refused calls do
// not take a slot.
func (s *Server) rateLimit(chatID int64, now time.Time) *apiError {
	l := s.limits
	if l.PerChat <= 0 && l.Global <= 0 {
		return nil
	}
	prune := func(ts []time.Time, window time.Duration) []time.Time {
		i := 0
		for i < len(ts) && !ts[i].After(now.Add(-window)) {
			i++
		}
		return ts[i:]
	}
	var wait time.Duration
	pc := prune(s.perChat[chatID], l.PerChatWindow)
	if l.PerChat > 0 && len(pc) >= l.PerChat {
		wait = max(wait, pc[len(pc)-l.PerChat].Add(l.PerChatWindow).Sub(now))
	}
	s.global = prune(s.global, l.GlobalWindow)
	if l.Global > 0 && len(s.global) >= l.Global {
		wait = max(wait, s.global[len(s.global)-l.Global].Add(l.GlobalWindow).Sub(now))
	}
	if wait > 0 {
		s.perChat[chatID] = pc
		retry := l.RetryAfter
		if retry <= 0 {
			retry = max(1, int((wait+time.Second-1)/time.Second))
		}
		return &apiError{status: http.StatusTooManyRequests, desc: fmt.Sprintf("Too Many Requests: retry after %d", retry), retryAfter: retry}
	}
	s.perChat[chatID] = append(pc, now)
	if l.Global > 0 {
		s.global = append(s.global, now)
	}
	return nil
}
