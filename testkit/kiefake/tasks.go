package kiefake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// defaultModels are the models the fake knows, each with the name of its image input field.
var defaultModels = map[string]string{
	"kling-2.6/image-to-video":        "image_urls",
	"sora-2-image-to-video":           "image_urls",
	"bytedance/v1-pro-image-to-video": "image_url",
	"google/nano-banana-edit":         "image_urls",
	"seedream/4.5-edit":               "image_urls",
	"nano-banana-pro":                 "image_input",
}

// Outcome is how a task ends.
type Outcome struct {
	Fail     bool
	FailCode string // default "500"
	FailMsg  string // default "Internal Error, Please try again later."
	File     []byte // the result; default a small MP4 for models named "…video…", a PNG otherwise
	Ext      string // "mp4", "png"; default by model
}

// Script says how one createTask call goes.
type Script struct {
	// CreateReply answers the createTask call with this instead of creating a task.
	CreateReply *Reply
	// Waiting and Generating are how many recordInfo polls answer "waiting", then "generating",
	// before the outcome. 0 means 1; a negative number means none.
	Waiting, Generating int
	// Forever keeps the task "generating" however often it is polled (the caller's attempt timeout
	// has to end it); only Finish or EndAfter end it.
	Forever bool
	Outcome Outcome
	// Callback POSTs the market callback to the task's callBackUrl when the task ends.
	Callback bool
	// DuplicateCallback sends that callback twice.
	DuplicateCallback bool
	// CallbackDelay sends the callback this long after the task ended: a late callback.
	CallbackDelay time.Duration
	// LoseCallback loses the callback on its way: KIE sent it, it never arrived.
	LoseCallback bool
	// EndAfter ends the task on its own this long after creation, polled or not (so a callback
	// arrives without polling). 0: only polls (or Finish) end it.
	EndAfter time.Duration
	// AnswerDelay creates the task at once but answers createTask this much later, even if the
	// client has given up by then: KIE has billed a task the client may never hear of.
	AnswerDelay time.Duration
}

// Task is what the fake knows about one created task.
type Task struct {
	ID          string
	Model       string
	Input       map[string]any
	CallbackURL string
	Polls       int       // recordInfo calls for this task
	LastPolled  time.Time // the latest of them
	State       string
	CreatedAt   time.Time
	EndedAt     time.Time // when it reached success or fail; zero while it runs
	// SeenEnded is when a recordInfo call first reported it ended: the moment the bot could
	// know, whether a poll or a callback made it look.
	SeenEnded time.Time
}

type task struct {
	Task
	script     Script
	param      string // the createTask body, echoed as recordInfo's param
	outcome    Outcome
	ext        string
	credits    float64
	completeAt time.Time
}

func (t *task) ended() bool { return t.State == "success" || t.State == "fail" }

// Script sets the function that scripts every createTask call; n is the 1-based number of the
// call among all createTask requests. nil (the default) gives every task the default Script.
func (s *Server) Script(fn func(n int, model string, input map[string]any) Script) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = fn
}

// CreateCalls counts every createTask request, including refused and failed ones.
func (s *Server) CreateCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.createCalls
}

// Tasks returns the created tasks in creation order.
func (s *Server) Tasks() []Task {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Task, len(s.order))
	for i, t := range s.order {
		out[i] = t.Task
		out[i].Input = cloneMap(t.Input)
	}
	return out
}

// WaitTasks waits until at least n tasks have been created.
func (s *Server) WaitTasks(ctx context.Context, n int) error {
	for {
		s.mu.Lock()
		have, ch := len(s.order), s.changed
		s.mu.Unlock()
		if have >= n {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("kiefake: %d of %d tasks created: %w", have, n, ctx.Err())
		case <-s.closed:
			return errors.New("kiefake: server closed")
		}
	}
}

// Finish ends a task now with its scripted outcome (and sends its callback, if scripted), as if
// KIE had finished it. It is an error for an unknown task.
func (s *Server) Finish(taskID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tasks[taskID]
	if !ok {
		return fmt.Errorf("kiefake: no task %q", taskID)
	}
	s.end(t)
	return nil
}

func (s *Server) handleCreateTask(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.createCalls++
	n := s.createCalls
	script := s.script
	s.mu.Unlock()

	if !s.authorized(w, r) {
		return
	}
	var req struct {
		Model       string         `json:"model"`
		CallBackURL string         `json:"callBackUrl"`
		Input       map[string]any `json:"input"`
	}
	raw, err := readBody(r, 1<<20)
	if err == nil {
		err = json.Unmarshal(raw, &req)
	}
	if err != nil {
		writeJSON(w, errorBody(422, "Invalid request body"))
		return
	}
	var sc Script
	if script != nil {
		sc = script(n, req.Model, cloneMap(req.Input))
	}
	if sc.CreateReply != nil {
		rep := *sc.CreateReply
		if !s.reply(w, r, rep) {
			return
		}
	}

	t, refusal := s.newTask(req.Model, req.CallBackURL, req.Input, string(raw), sc)
	if refusal != nil {
		writeJSON(w, refusal)
		return
	}
	if sc.AnswerDelay > 0 {
		select {
		case <-time.After(sc.AnswerDelay):
		case <-s.closed:
		}
	}
	writeJSON(w, map[string]any{"code": 200, "msg": "success", "data": map[string]any{"taskId": t.ID}})
	s.answered(w, t.ID)
}

// newTask creates the task a createTask call asks for, or returns the error body KIE answers
// when the request names an unknown model or lacks the prompt or the image.
func (s *Server) newTask(model, callbackURL string, input map[string]any, param string, sc Script) (*task, map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	field, known := s.models[model]
	if !known {
		return nil, errorBody(422, "The page does not exist or is not published")
	}
	if p, _ := input["prompt"].(string); strings.TrimSpace(p) == "" {
		return nil, errorBody(422, "prompt is required")
	}
	images, ok := imageURLs(input[field])
	if !ok {
		return nil, errorBody(422, field+" is required")
	}

	t := &task{
		Task: Task{
			ID:          randomHex(16),
			Model:       model,
			Input:       input,
			CallbackURL: callbackURL,
			State:       "waiting",
			CreatedAt:   time.Now(),
		},
		script:  sc,
		param:   param,
		outcome: sc.Outcome,
	}
	ext, file, credits := "png", samplePNG, 4.0
	if strings.Contains(model, "video") {
		ext, file, credits = "mp4", sampleMP4, 60
	}
	t.ext, t.credits = t.outcome.Ext, credits
	if t.ext == "" {
		t.ext = ext
	}
	if t.outcome.File == nil {
		t.outcome.File = file
	}
	if t.outcome.Fail {
		if t.outcome.FailCode == "" {
			t.outcome.FailCode = "500"
		}
		if t.outcome.FailMsg == "" {
			t.outcome.FailMsg = "Internal Error, Please try again later."
		}
	} else if !s.allUploaded(images) {
		// KIE fetches the input when it starts; a URL it cannot fetch fails the task.
		t.outcome = Outcome{Fail: true, FailCode: "422", FailMsg: "Your media file is unavailable, please replace it."}
	}
	s.tasks[t.ID] = t
	s.order = append(s.order, t)
	close(s.changed)
	s.changed = make(chan struct{})
	if sc.EndAfter > 0 && !s.shut {
		s.bg.Add(1)
		go s.endAfter(t, sc.EndAfter)
	}
	return t, nil
}

func (s *Server) endAfter(t *task, d time.Duration) {
	defer s.bg.Done()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		s.mu.Lock()
		s.end(t)
		s.mu.Unlock()
	case <-s.closed:
	}
}

// imageURLs reads the model's image input: a non-empty list of URLs or one URL.
func imageURLs(v any) ([]string, bool) {
	switch v := v.(type) {
	case string:
		return []string{v}, v != ""
	case []any:
		var out []string
		for _, e := range v {
			u, ok := e.(string)
			if !ok || u == "" {
				return nil, false
			}
			out = append(out, u)
		}
		return out, len(out) > 0
	}
	return nil, false
}

// allUploaded reports whether every URL points at a file uploaded to this fake. Needs s.mu.
func (s *Server) allUploaded(urls []string) bool {
	prefix := s.srv.URL + "/uploads/"
	for _, u := range urls {
		rest, ok := strings.CutPrefix(u, prefix)
		if !ok {
			return false
		}
		if _, ok := s.files[unescapePath(rest)]; !ok {
			return false
		}
	}
	return true
}

func (s *Server) handleRecordInfo(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tasks[r.URL.Query().Get("taskId")]
	if !ok {
		writeJSON(w, errorBody(422, "recordInfo is null"))
		return
	}
	t.Polls++
	t.LastPolled = time.Now()
	if !t.ended() {
		s.advance(t)
	}
	if t.ended() && t.SeenEnded.IsZero() {
		t.SeenEnded = time.Now()
	}
	writeJSON(w, map[string]any{"code": 200, "msg": "success", "data": s.record(t)})
}

// advance moves a task along its script after a poll. Needs s.mu.
func (s *Server) advance(t *task) {
	waiting, generating := polls(t.script.Waiting), polls(t.script.Generating)
	switch {
	case t.Polls <= waiting:
		t.State = "waiting"
	case t.Polls <= waiting+generating || t.script.Forever:
		t.State = "generating"
	default:
		s.end(t)
	}
}

func polls(n int) int {
	switch {
	case n == 0:
		return 1
	case n < 0:
		return 0
	}
	return n
}

// end moves a task to its outcome, once, and sends its callback. Needs s.mu.
func (s *Server) end(t *task) {
	if t.ended() {
		return
	}
	t.completeAt = time.Now()
	t.EndedAt = t.completeAt
	if t.outcome.Fail {
		t.State = "fail"
	} else {
		t.State = "success"
		s.credit -= t.credits
	}
	s.callBack(t)
}

// record renders a task as recordInfo's data. Optional fields alternate between the encodings
// KIE has been seen to use, so clients must decode them leniently. Needs s.mu.
func (s *Server) record(t *task) map[string]any {
	s.alt++
	flip := s.alt%2 == 0
	empty := func() any {
		if flip {
			return nil
		}
		return ""
	}
	rec := map[string]any{
		"taskId":     t.ID,
		"model":      t.Model,
		"state":      t.State,
		"param":      t.param,
		"resultJson": empty(),
		"failCode":   empty(),
		"failMsg":    empty(),
		"createTime": t.CreatedAt.UnixMilli(),
		"updateTime": time.Now().UnixMilli(),
	}
	if !t.ended() {
		rec["creditsConsumed"] = nil
		return rec
	}
	rec["completeTime"] = t.completeAt.UnixMilli()
	rec["costTime"] = int64(t.completeAt.Sub(t.CreatedAt) / time.Second)
	if t.State == "fail" {
		rec["failCode"] = t.outcome.FailCode
		if c, err := strconv.Atoi(t.outcome.FailCode); err == nil && flip {
			rec["failCode"] = c
		}
		rec["failMsg"] = t.outcome.FailMsg
		rec["creditsConsumed"] = 0
		return rec
	}
	res, _ := json.Marshal(map[string]any{"resultUrls": []string{s.resultURL(t)}})
	rec["resultJson"] = string(res)
	rec["creditsConsumed"] = t.credits
	return rec
}

func (s *Server) resultURL(t *task) string { return s.srv.URL + "/files/" + t.ID + "." + t.ext }

func (s *Server) handleResultFile(w http.ResponseWriter, r *http.Request) {
	if s.outageReply(w, r) {
		return
	}
	s.mu.Lock()
	status, failed := s.failFiles.take()
	id, ext, _ := strings.Cut(r.PathValue("name"), ".")
	t, ok := s.tasks[id]
	var data []byte
	if ok && t.State == "success" && t.ext == ext {
		data = t.outcome.File
	}
	s.mu.Unlock()
	if failed {
		http.Error(w, http.StatusText(status), status)
		return
	}
	if data == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", contentType(ext))
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Write(data)
}

func (s *Server) handleCredit(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	s.mu.Lock()
	c := s.credit
	s.mu.Unlock()
	writeJSON(w, map[string]any{"code": 200, "msg": "success", "data": c})
}

func cloneMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	b, _ := json.Marshal(m)
	var out map[string]any
	json.Unmarshal(b, &out)
	return out
}
