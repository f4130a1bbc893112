package kiefake_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"neurocards/testkit/kiefake"
)

// A late callback arrives after its task ended and was read; a lost one is recorded and never
// arrives. The task says when it ended and when a read first saw it.
func TestLateAndLostCallbacks(t *testing.T) {
	h := start(t)
	var mu sync.Mutex
	arrived := map[string]time.Time{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		arrived[r.URL.Path] = time.Now()
		mu.Unlock()
	}))
	defer srv.Close()
	const late = 150 * time.Millisecond
	h.fake.Script(func(n int, model string, input map[string]any) kiefake.Script {
		return kiefake.Script{Callback: true, Forever: true, CallbackDelay: map[bool]time.Duration{true: late}[n == 1], LoseCallback: n == 2}
	})
	url := h.uploadedURL()
	lateID := taskID(t, h.create("google/nano-banana-edit", map[string]any{"prompt": "x", "image_urls": []string{url}}, srv.URL+"/late"))
	lostID := taskID(t, h.create("google/nano-banana-edit", map[string]any{"prompt": "x", "image_urls": []string{url}}, srv.URL+"/lost"))
	for _, id := range []string{lateID, lostID} {
		if _, r := h.poll(id); r.State == "success" {
			t.Fatal("a Forever task ended before it was finished")
		}
		if err := h.fake.Finish(id); err != nil {
			t.Fatal(err)
		}
	}
	h.poll(lateID)
	waitFor(t, h.ctx, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return !arrived["/late"].IsZero()
	})
	tasks := h.fake.Tasks()
	if tasks[0].EndedAt.IsZero() || tasks[0].SeenEnded.Before(tasks[0].EndedAt) {
		t.Errorf("late task: ended %v, seen ended %v", tasks[0].EndedAt, tasks[0].SeenEnded)
	}
	mu.Lock()
	got := arrived["/late"].Sub(tasks[0].EndedAt)
	_, lost := arrived["/lost"]
	mu.Unlock()
	if got < late {
		t.Errorf("the late callback came %v after the end, want ≥ %v", got, late)
	}
	if lost {
		t.Error("the lost callback arrived")
	}
	if !tasks[1].SeenEnded.IsZero() {
		t.Error("the lost task was seen ended though nobody read it")
	}
	var lostRec []kiefake.Callback
	for _, cb := range h.fake.Callbacks() {
		if cb.TaskID == lostID {
			lostRec = append(lostRec, cb)
		}
	}
	if len(lostRec) != 1 || lostRec[0].Err != kiefake.ErrLost || lostRec[0].Status != 0 {
		t.Errorf("the lost callback's record: %+v", lostRec)
	}
}
