package kiefake

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"

	"neurocards/testkit"
)

// Callback is one delivery attempt of a task's callback.
type Callback struct {
	TaskID  string
	URL     string
	Attempt int    // 1-based
	Status  int    // the receiver's HTTP status; 0 when there was none
	Err     string // why there was no status
}

// Callbacks returns every callback delivery attempt in order.
func (s *Server) Callbacks() []Callback {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Callback, len(s.callbacks))
	copy(out, s.callbacks)
	return out
}

// callbackAttempts is the first try plus KIE's three retries (kie-api.md §5).
const callbackAttempts = 4

// callbackBody is the market callback: recordInfo's record inside a 200 or 501 envelope. Needs s.mu.
func (s *Server) callbackBody(t *task) []byte {
	env := map[string]any{"code": 200, "msg": "Playground task completed successfully.", "data": s.record(t)}
	if t.State == "fail" {
		env["code"], env["msg"] = 501, "Playground task failed."
	}
	b, _ := json.Marshal(env)
	return b
}

// callBack sends an ended task's callbacks as its script says: once or twice, on time or late,
// or lost on the way. Needs s.mu.
func (s *Server) callBack(t *task) {
	if !t.script.Callback || t.CallbackURL == "" || s.shut {
		return
	}
	if t.script.LoseCallback {
		s.callbacks = append(s.callbacks, Callback{TaskID: t.ID, URL: t.CallbackURL, Attempt: 1, Err: ErrLost})
		return
	}
	body := s.callbackBody(t)
	times := 1
	if t.script.DuplicateCallback {
		times = 2
	}
	for range times {
		s.bg.Add(1)
		go s.sendCallback(t.ID, t.CallbackURL, body, t.script.CallbackDelay)
	}
}

// ErrLost is the Err of a callback the script lost on its way.
const ErrLost = "lost on the way"

// sendCallback POSTs body to target after delay, retrying on a non-2xx answer or no answer. It
// only talks to loopback addresses: the fake never calls out of the machine.
func (s *Server) sendCallback(taskID, target string, body []byte, delay time.Duration) {
	defer s.bg.Done()
	note := func(attempt, status int, err string) {
		s.mu.Lock()
		s.callbacks = append(s.callbacks, Callback{TaskID: taskID, URL: target, Attempt: attempt, Status: status, Err: err})
		s.mu.Unlock()
	}
	if !testkit.Loopback(target) {
		note(1, 0, "not a loopback URL: not sent")
		return
	}
	if delay > 0 {
		wait := time.NewTimer(delay)
		select {
		case <-wait.C:
		case <-s.closed:
			wait.Stop()
			return
		}
	}
	for attempt := 1; attempt <= callbackAttempts; attempt++ {
		status, err := s.postCallback(taskID, target, body)
		note(attempt, status, err)
		if status >= 200 && status <= 299 {
			return
		}
		wait := time.NewTimer(time.Duration(attempt) * 50 * time.Millisecond)
		select {
		case <-wait.C:
		case <-s.closed:
			wait.Stop()
			return
		}
	}
}

func (s *Server) postCallback(taskID, target string, body []byte) (int, string) {
	// KIE waits 15 s for an answer.
	ctx, cancel := context.WithTimeout(s.stopCtx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	s.mu.Lock()
	key := s.hmacKey
	s.mu.Unlock()
	if key != "" {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req.Header.Set("X-Webhook-Timestamp", ts)
		req.Header.Set("X-Webhook-Signature", Sign(key, taskID, ts))
	}
	resp, err := s.cbClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode, ""
}

// Sign is KIE's webhook signature: base64(HMAC-SHA256(taskId + "." + timestamp, key)).
func Sign(key, taskID, timestamp string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(taskID + "." + timestamp))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
