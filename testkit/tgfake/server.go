// Package tgfake is a fake Telegram Bot API server on loopback. End-to-end tests run the real
// go-telegram/bot client against it, script a seller in a private chat, assert on the transcript
// and the recorded calls, and inject the failures Telegram produces (400, 403, 429, 5xx, slow
// answers, dropped connections).
package tgfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-telegram/bot/models"
)

// The bot account getMe returns.
const (
	BotID       = 1000
	BotUsername = "neurocards_test_bot"
)

func botUser() models.User {
	return models.User{ID: BotID, IsBot: true, FirstName: "NeuroCards", Username: BotUsername, CanJoinGroups: true}
}

// Server is a fake Bot API server. All methods are safe for concurrent use.
type Server struct {
	token  string
	srv    *httptest.Server
	outage *Reply        // every call but getUpdates answers this (SetOutage); guarded by mu
	done   chan struct{} // closed by Close, so held requests return
	once   sync.Once

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every change, to wake waiters

	chats map[int64]*chat

	queue      []queued
	history    map[int64]models.Update
	lastUpdate int64
	allowed    []string
	poller     chan struct{} // closed to kick the running getUpdates with a 409
	held       int           // getUpdates requests waiting right now
	webhook    string
	hooks      webhooks // delivery to the webhook, while one is set

	files    map[string]*storedFile // by file_id
	paths    map[string]*storedFile // by file_path
	lastFile int

	calls        []Call
	commands     map[string][]models.BotCommand
	callbacks    map[string]*callbackQuery
	preCheckouts map[string]*preCheckout
	charges      map[string]*charge
	cbAnswers    []CallbackAnswer
	pcAnswers    []PreCheckoutAnswer
	refunds      []StarRefund
	lastQuery    int

	rules   []*failRule
	blocked map[int64]bool
	limits  Limits
	lean    lean
	perChat map[int64][]time.Time
	global  []time.Time

	handlers []func(Event)
	pending  []Event
	draining bool
}

// New starts a fake server for token on 127.0.0.1. Point the bot at it with
// bot.WithServerURL(s.URL()) and call Close when done.
func New(token string) *Server {
	s := &Server{
		token:        token,
		done:         make(chan struct{}),
		changed:      make(chan struct{}),
		chats:        map[int64]*chat{},
		history:      map[int64]models.Update{},
		files:        map[string]*storedFile{},
		paths:        map[string]*storedFile{},
		commands:     map[string][]models.BotCommand{},
		callbacks:    map[string]*callbackQuery{},
		preCheckouts: map[string]*preCheckout{},
		charges:      map[string]*charge{},
		blocked:      map[int64]bool{},
		perChat:      map[int64][]time.Time{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	return s
}

// URL is the base URL, e.g. http://127.0.0.1:41234.
func (s *Server) URL() string { return s.srv.URL }

// Close releases held requests and waits until every request has been answered.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.done)
		s.srv.Close()
	})
}

// OnEvent registers f to be told about every later change in any chat. Events are delivered
// one at a time, in the order the changes happened, outside the server's locks, so f may call
// back into the Server (a scripted seller may Tap from inside it). The goroutine that made a
// change delivers its event before returning, unless another one is already delivering: then
// that one delivers it, still in order.
func (s *Server) OnEvent(f func(Event)) {
	s.mu.Lock()
	s.handlers = append(s.handlers, f)
	s.mu.Unlock()
}

// broadcast wakes every waiter; call with s.mu held.
func (s *Server) broadcast() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// emit queues an event; call with s.mu held, then flush after unlocking.
func (s *Server) emit(chatID int64, kind string, m *Message, text string) {
	if len(s.handlers) == 0 {
		return
	}
	ev := Event{At: time.Now(), ChatID: chatID, Kind: kind, Text: text}
	if m != nil {
		ev.Message = m.clone()
	}
	s.pending = append(s.pending, ev)
}

// flush delivers queued events. Whoever finds no delivery running becomes the deliverer, so a
// handler that causes more events does not deadlock: its events are delivered after it returns.
func (s *Server) flush() {
	s.mu.Lock()
	if s.draining {
		s.mu.Unlock()
		return
	}
	s.draining = true
	// A panicking handler must not leave delivery marked as running forever.
	defer func() {
		s.draining = false
		s.mu.Unlock()
	}()
	for len(s.pending) > 0 {
		evs := s.pending
		s.pending = nil
		s.deliver(evs, slices.Clone(s.handlers))
	}
}

// deliver calls the handlers outside the lock; call with s.mu held.
func (s *Server) deliver(evs []Event, hs []func(Event)) {
	s.mu.Unlock()
	defer s.mu.Lock()
	for _, ev := range evs {
		for _, h := range hs {
			h(ev)
		}
	}
}

// change runs f under the lock, wakes waiters and delivers the events f emitted.
func (s *Server) change(f func()) {
	s.mu.Lock()
	f()
	s.broadcast()
	s.mu.Unlock()
	s.flush()
}

func (s *Server) leanMode() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lean.on
}

// record appends a call; call with s.mu held.
func (s *Server) record(c Call) {
	if s.lean.on {
		s.lean.count(c)
	} else {
		s.calls = append(s.calls, c)
	}
	if c.Status >= 400 || c.Status == 0 {
		s.emit(c.ChatID, "bot.error", nil, fmt.Sprintf("%s: %s", c.Method, describeStatus(c)))
	}
}

func describeStatus(c Call) string {
	if c.Status == 0 {
		return "connection closed"
	}
	if c.RetryAfter > 0 {
		return fmt.Sprintf("%d retry after %d", c.Status, c.RetryAfter)
	}
	return fmt.Sprintf("%d %s", c.Status, http.StatusText(c.Status))
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/file/bot"); ok {
		s.serveFile(w, r, rest)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	if !ok {
		writeError(w, &apiError{status: http.StatusNotFound, desc: "Not Found"})
		return
	}
	token, method, ok := strings.Cut(rest, "/")
	if !ok {
		writeError(w, &apiError{status: http.StatusNotFound, desc: "Not Found"})
		return
	}
	s.serveMethod(w, r, token, method)
}

func (s *Server) serveMethod(w http.ResponseWriter, r *http.Request, token, method string) {
	c := Call{Method: method, At: time.Now()}
	fail := func(e *apiError) {
		c.Status, c.RetryAfter = e.status, e.retryAfter
		s.change(func() { s.record(c) })
		writeError(w, e)
	}
	if token != s.token {
		fail(&apiError{status: http.StatusUnauthorized, desc: "Unauthorized"})
		return
	}
	name, ok := methodNames[strings.ToLower(method)]
	if !ok {
		fail(&apiError{status: http.StatusNotFound, desc: "Not Found"})
		return
	}
	c.Method = name
	f, err := readForm(r)
	if s.leanMode() {
		for i := range f.files {
			f.files[i].Data = nil
		}
	}
	c.Fields, c.Files = f.fields, f.files
	if err != nil {
		fail(badRequest("%v", err))
		return
	}

	s.mu.Lock()
	c.ChatID = s.chatOf(name, f)
	rule := s.takeRule(name, c.ChatID)
	if rule == nil && s.outage != nil && name != "getUpdates" {
		rule = s.outage
	}
	s.mu.Unlock()
	if rule != nil && !s.scripted(w, r, *rule, c) {
		return
	}

	if name == "getUpdates" {
		s.getUpdates(w, r, f, c)
		return
	}

	var (
		result json.RawMessage
		aerr   *apiError
	)
	s.change(func() {
		result, aerr = s.handle(name, f, c.ChatID)
		c.Status = http.StatusOK
		if aerr != nil {
			c.Status, c.RetryAfter = aerr.status, aerr.retryAfter
		}
		s.record(c)
	})
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	writeResult(w, result)
}

// handle runs one method against the state; call with s.mu held. A failed call changes nothing
// but the rate-limit windows.
func (s *Server) handle(name string, f form, chatID int64) (json.RawMessage, *apiError) {
	if rateLimited(name) {
		if e := s.rateLimit(chatID, time.Now()); e != nil {
			return nil, e
		}
	}
	if blockable(name) && s.blocked[chatID] {
		return nil, &apiError{status: http.StatusForbidden, desc: "Forbidden: bot was blocked by the user"}
	}
	v, e := methodHandlers[name](s, f)
	if e != nil {
		return nil, e
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, &apiError{status: http.StatusInternalServerError, desc: "Internal Server Error: " + err.Error()}
	}
	return raw, nil
}

// apiError is an unsuccessful Bot API answer.
type apiError struct {
	status     int
	desc       string
	retryAfter int
}

func badRequest(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, desc: "Bad Request: " + fmt.Sprintf(format, args...)}
}

type apiResponse struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result,omitempty"`
	ErrorCode   int             `json:"error_code,omitempty"`
	Description string          `json:"description,omitempty"`
	Parameters  *apiParameters  `json:"parameters,omitempty"`
}

type apiParameters struct {
	RetryAfter int `json:"retry_after,omitempty"`
}

func writeResult(w http.ResponseWriter, result json.RawMessage) {
	writeJSON(w, http.StatusOK, apiResponse{OK: true, Result: result})
}

// writeError answers with the HTTP status equal to error_code, as Telegram does.
func writeError(w http.ResponseWriter, e *apiError) {
	resp := apiResponse{ErrorCode: e.status, Description: e.desc}
	if e.retryAfter > 0 {
		resp.Parameters = &apiParameters{RetryAfter: e.retryAfter}
	}
	writeJSON(w, e.status, resp)
}

func writeJSON(w http.ResponseWriter, status int, v apiResponse) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// Calls returns the recorded calls of method ("" for all, case-insensitive) in the order they
// were answered.
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if method == "" || strings.EqualFold(c.Method, method) {
			out = append(out, c.clone())
		}
	}
	return out
}

// CountCalls counts recorded calls of method ("" for all) to chatID (0 for any chat).
func (s *Server) CountCalls(method string, chatID int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.countCalls(method, chatID)
}

func (s *Server) countCalls(method string, chatID int64) int {
	if s.lean.on {
		return s.lean.counted(method)
	}
	n := 0
	for _, c := range s.calls {
		if (method == "" || strings.EqualFold(c.Method, method)) && (chatID == 0 || c.ChatID == chatID) {
			n++
		}
	}
	return n
}

// Count429 counts the calls answered with 429, scripted or from EnforceLimits.
func (s *Server) Count429() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lean.on {
		return s.lean.limited
	}
	n := 0
	for _, c := range s.calls {
		if c.Status == http.StatusTooManyRequests {
			n++
		}
	}
	return n
}

// Commands returns the command lists set by setMyCommands, keyed by language_code ("" is the
// default list). The scope is ignored.
func (s *Server) Commands() map[string][]models.BotCommand {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string][]models.BotCommand, len(s.commands))
	for k, v := range s.commands {
		out[k] = slices.Clone(v)
	}
	return out
}

// AnsweredCallbacks returns the successful answerCallbackQuery calls, oldest first.
func (s *Server) AnsweredCallbacks() []CallbackAnswer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.cbAnswers)
}

// PreCheckoutAnswers returns the successful answerPreCheckoutQuery calls, oldest first.
func (s *Server) PreCheckoutAnswers() []PreCheckoutAnswer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.pcAnswers)
}

// StarRefunds returns the successful refundStarPayment calls, oldest first.
func (s *Server) StarRefunds() []StarRefund {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.refunds)
}
