package tgfake

import (
	"net/http"
	"strings"
)

// leanKeep is how many of a chat's latest messages a lean server keeps.
const leanKeep = 16

// lean is what a lean server keeps instead of its records.
type lean struct {
	on      bool
	calls   map[string]int // answered calls by method
	limited int            // calls answered 429
}

// Lean makes the server keep only what a load driver with thousands of sellers needs, so the
// run measures the bot and not the fake: calls are counted by method instead of recorded
// (Calls returns nothing; CountCalls, WaitCalls and Count429 still work, for every chat at once),
// uploaded files keep their size but not their bytes, edits keep no history, a photo's thumbnail
// is a prefix of it rather than a rendered image, issued updates are not kept for Resend, and a
// chat keeps its latest 16 messages. Call it before the bot starts.
func (s *Server) Lean() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lean = lean{on: true, calls: map[string]int{}}
	for _, c := range s.chats {
		c.lean = true
	}
}

// count records a call of a lean server; call with s.mu held.
func (l *lean) count(c Call) {
	l.calls[c.Method]++
	if c.Status == http.StatusTooManyRequests {
		l.limited++
	}
}

// counted is how many calls of method ("" for any) a lean server answered.
func (l *lean) counted(method string) int {
	n := 0
	for m, k := range l.calls {
		if method == "" || strings.EqualFold(m, method) {
			n += k
		}
	}
	return n
}

// trim drops a lean chat's oldest messages beyond leanKeep.
func (c *chat) trim() {
	if over := len(c.msgs) - leanKeep; over > 0 {
		clear(c.msgs[:over])
		c.msgs = append(c.msgs[:0], c.msgs[over:]...)
	}
}
