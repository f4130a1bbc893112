package kiefake

import (
	"net/http"
	"sync"
	"time"
)

// Answered is one createTask call the fake answered with a task: from this moment KIE has billed
// the task and the client may know its id.
type Answered struct {
	N      int       // createTask answers carrying a task so far, this one included (1-based)
	TaskID string    // the task's id
	At     time.Time // when the answer was flushed to the client
}

// answers counts createTask answers and tells the watcher of each.
type answers struct {
	mu    sync.Mutex
	n     int
	watch func(Answered)
}

// OnCreateAnswered calls fn for every createTask answer that carries a task, right after the
// answer was flushed to the client and before the fake does anything else on that request — the
// moment a crash test kills the bot, or a benchmark starts the clock. fn runs on the request's
// goroutine, one answer at a time, in the order of N, and must not call OnCreateAnswered; nil
// stops the calls.
func (s *Server) OnCreateAnswered(fn func(Answered)) {
	s.answers.mu.Lock()
	defer s.answers.mu.Unlock()
	s.answers.watch = fn
}

// CreateAnswers counts the createTask answers that carried a task.
func (s *Server) CreateAnswers() int {
	s.answers.mu.Lock()
	defer s.answers.mu.Unlock()
	return s.answers.n
}

// answered flushes a createTask answer carrying taskID, counts it and tells the watcher.
func (s *Server) answered(w http.ResponseWriter, taskID string) {
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	s.answers.mu.Lock()
	defer s.answers.mu.Unlock()
	s.answers.n++
	if s.answers.watch != nil {
		s.answers.watch(Answered{N: s.answers.n, TaskID: taskID, At: time.Now()})
	}
}
