package kiefake_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"neurocards/testkit/kiefake"
)

// The watcher hears of every createTask answer that carries a task, numbered in order, once the
// client holds the answer: here the client's own call must return while the watcher of its answer
// is still running, or the test hangs.
func TestOnCreateAnswered(t *testing.T) {
	h := start(t)
	url := h.uploadedURL()
	h.fake.Script(func(n int, model string, input map[string]any) kiefake.Script {
		if n == 2 {
			return kiefake.Script{CreateReply: &kiefake.Reply{HTTPStatus: http.StatusInternalServerError}}
		}
		return kiefake.Script{}
	})
	heard := make(chan kiefake.Answered, 4)
	received := make(chan string)
	h.fake.OnCreateAnswered(func(a kiefake.Answered) {
		select {
		case got := <-received:
			if got != a.TaskID {
				t.Errorf("the client received task %s while the watcher heard of %s", got, a.TaskID)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("answer %d: the client had not received task %s while the watcher ran", a.N, a.TaskID)
		}
		heard <- a
	})
	input := map[string]any{"prompt": "x", "image_urls": []string{url}}
	var ids []string
	for i := range 3 {
		if i == 1 {
			body := strings.NewReader(`{"model":"google/nano-banana-edit","input":{"prompt":"x","image_urls":["` + url + `"]}}`)
			if resp, _ := h.do(http.MethodPost, h.fake.APIURL()+"/api/v1/jobs/createTask", key, "application/json", body); resp.StatusCode != http.StatusInternalServerError {
				t.Fatalf("the scripted refusal answered HTTP %d", resp.StatusCode)
			}
			continue
		}
		id := taskID(t, h.create("google/nano-banana-edit", input, ""))
		received <- id
		ids = append(ids, id)
	}
	for i, id := range ids {
		a := <-heard
		if a.N != i+1 || a.TaskID != id || a.At.IsZero() {
			t.Errorf("answer %d: heard %+v, want N=%d task %s", i, a, i+1, id)
		}
	}
	if n := h.fake.CreateAnswers(); n != 2 {
		t.Errorf("CreateAnswers = %d, want 2 (the refused call carried no task)", n)
	}
}
