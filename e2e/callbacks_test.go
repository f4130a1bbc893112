package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"neurocards/config"
	"neurocards/messages"
	"neurocards/testkit/harness"
	"neurocards/testkit/kiefake"
	"neurocards/testkit/tgfake"
)

// startCallbacks runs the bot with its public listener on loopback, giving KIE callback URLs.
func startCallbacks(t *testing.T, configure ...func(*config.Config)) *bot {
	t.Helper()
	return startWith(t, harness.Options{Callbacks: true}, configure...)
}

// noPolling leaves a job's reads to callbacks and restarts: the schedule never comes due.
func noPolling(c *config.Config) {
	c.Timing.PollMin, c.Timing.PollMax, c.Timing.PollSlow = time.Hour, time.Hour, time.Hour
	c.Timing.JobTimeout, c.Timing.KIEAttemptTimeout = 2*time.Hour, 2*time.Hour
}

// submitted waits until the seller's only job has its KIE task and returns the task as KIE has it.
func submitted(t *testing.T, b *bot, uid int64) kiefake.Task {
	t.Helper()
	var task string
	eventually(t, fmt.Sprintf("seller %d's job to be submitted", uid), func() bool {
		jobs := b.jobs(uid)
		if len(jobs) == 1 && jobs[0].Stage == messages.StageSubmitted {
			task = jobs[0].TaskID
		}
		return task != ""
	})
	for _, tk := range b.KIE.Tasks() {
		if tk.ID == task {
			return tk
		}
	}
	t.Fatalf("KIE has no task %s", task)
	return kiefake.Task{}
}

func taskOf(b *bot, id string) kiefake.Task {
	for _, tk := range b.KIE.Tasks() {
		if tk.ID == id {
			return tk
		}
	}
	return kiefake.Task{}
}

func callbacksOf(b *bot, task string) []kiefake.Callback {
	var out []kiefake.Callback
	for _, cb := range b.KIE.Callbacks() {
		if cb.TaskID == task {
			out = append(out, cb)
		}
	}
	return out
}

func videos(s *tgfake.Seller) int {
	n := 0
	for _, m := range s.BotMessages() {
		if m.Method == "sendVideo" && m.File != nil {
			n++
		}
	}
	return n
}

// The finished task's callback brings the video: the job never polls on its own.
func TestCallbackBringsTheVideo(t *testing.T) {
	b := startCallbacks(t, noPolling)
	b.KIE.Script(func(int, string, map[string]any) kiefake.Script {
		return kiefake.Script{Callback: true, Forever: true, EndAfter: 200 * time.Millisecond}
	})
	s := startSeller(t, b, 301, "ru")
	status := order(t, s, "video", "Кружка")
	s.ExpectNew(t, wait, status.ID, "the video", isFile("sendVideo"))
	statusSays(t, s, status.ID, "Готово")
	task := b.KIE.Tasks()[0]
	if !strings.HasPrefix(task.CallbackURL, b.Config.PublicURL+"/kie/callback/1/") {
		t.Errorf("callback URL %q", task.CallbackURL)
	}
	if task.Polls != 1 {
		t.Errorf("KIE reads: %d, want 1 (the one the callback asked for)", task.Polls)
	}
	if cbs := callbacksOf(b, task.ID); len(cbs) != 1 || cbs[0].Status != http.StatusOK {
		t.Errorf("callbacks: %+v", cbs)
	}
	if got := b.ledger(301); got != "grant+20 hold(10) capture-10" {
		t.Errorf("ledger: %s", got)
	}
}

// KIE may call back more than once for a task: the second changes nothing.
func TestDuplicateCallbackIsANoOp(t *testing.T) {
	b := startCallbacks(t, noPolling)
	b.KIE.Script(func(int, string, map[string]any) kiefake.Script {
		return kiefake.Script{Callback: true, DuplicateCallback: true, Forever: true, EndAfter: 200 * time.Millisecond}
	})
	s := startSeller(t, b, 302, "ru")
	status := order(t, s, "video", "Кружка")
	s.ExpectNew(t, wait, status.ID, "the video", isFile("sendVideo"))
	statusSays(t, s, status.ID, "Готово")
	task := b.KIE.Tasks()[0]
	eventually(t, "both callbacks answered", func() bool { return len(callbacksOf(b, task.ID)) == 2 })
	for _, cb := range callbacksOf(b, task.ID) {
		if cb.Status != http.StatusOK {
			t.Errorf("callback answered %d %s", cb.Status, cb.Err)
		}
	}
	if n := videos(s); n != 1 {
		t.Errorf("videos: %d, want 1", n)
	}
	reads := taskOf(b, task.ID).Polls
	if reads > 2 {
		t.Errorf("KIE reads: %d, want at most 2", reads)
	}
	// KIE repeats itself once more after the job ended: answered, and nothing happens.
	if got := forge(t, task.CallbackURL, callbackBody(task.ID), nil); got != http.StatusOK {
		t.Errorf("a repeat after the end: HTTP %d", got)
	}
	s.Send("/balance")
	s.Expect(t, wait, "the balance", contains("Баланс"))
	if n := videos(s); n != 1 {
		t.Errorf("videos after the repeat: %d, want 1", n)
	}
	if n := taskOf(b, task.ID).Polls; n != reads {
		t.Errorf("the repeat read the task: %d reads, had %d", n, reads)
	}
	if got := b.ledger(302); got != "grant+20 hold(10) capture-10" {
		t.Errorf("ledger: %s", got)
	}
}

// A callback lost on its way costs at most the slow fallback read.
func TestLostCallbackEndsInDeliveryByTheFallbackRead(t *testing.T) {
	b := startCallbacks(t, func(c *config.Config) { c.Timing.PollSlow = 300 * time.Millisecond })
	b.KIE.Script(func(int, string, map[string]any) kiefake.Script {
		return kiefake.Script{Callback: true, LoseCallback: true, Forever: true, EndAfter: 200 * time.Millisecond}
	})
	s := startSeller(t, b, 303, "ru")
	status := order(t, s, "video", "Кружка")
	s.ExpectNew(t, wait, status.ID, "the video", isFile("sendVideo"))
	statusSays(t, s, status.ID, "Готово")
	task := b.KIE.Tasks()[0]
	if cbs := callbacksOf(b, task.ID); len(cbs) != 1 || cbs[0].Err != kiefake.ErrLost {
		t.Errorf("callbacks: %+v", cbs)
	}
	if got := b.ledger(303); got != "grant+20 hold(10) capture-10" {
		t.Errorf("ledger: %s", got)
	}
}

// KIE calls back while the bot is down and gives up; the read at the next start finds the task
// done.
func TestCallbackWhileTheBotIsDownIsCoveredByTheReadAfterRestart(t *testing.T) {
	b := startCallbacks(t, noPolling)
	b.KIE.Script(func(int, string, map[string]any) kiefake.Script {
		return kiefake.Script{Callback: true, Forever: true}
	})
	s := startSeller(t, b, 304, "ru")
	status := order(t, s, "video", "Кружка")
	task := submitted(t, b, 304)
	if err := b.StopBot(); err != nil {
		t.Fatal(err)
	}
	if err := b.KIE.Finish(task.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "KIE to give up calling back", func() bool { return len(callbacksOf(b, task.ID)) == 4 })
	for _, cb := range callbacksOf(b, task.ID) {
		if cb.Status != 0 {
			t.Errorf("a callback reached something while the bot was down: %+v", cb)
		}
	}
	if videos(s) != 0 || taskOf(b, task.ID).Polls != 0 {
		t.Fatal("something read the task while the bot was down")
	}
	if err := b.Restart(); err != nil {
		t.Fatal(err)
	}
	s.ExpectNew(t, wait, status.ID, "the video", isFile("sendVideo"))
	statusSays(t, s, status.ID, "Готово")
	if got := b.ledger(304); got != "grant+20 hold(10) capture-10" {
		t.Errorf("ledger: %s", got)
	}
}

// forge posts body to url with extra headers and returns the status.
func forge(t *testing.T, url string, body []byte, headers map[string]string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// callbackBody is a market callback saying the task succeeded.
func callbackBody(taskID string) []byte {
	res, _ := json.Marshal(map[string]any{"resultUrls": []string{"https://example.com/" + taskID + ".mp4"}})
	b, _ := json.Marshal(map[string]any{"code": 200, "msg": "Playground task completed successfully.", "data": map[string]any{
		"taskId": taskID, "model": "kling-2.6/image-to-video", "state": "success", "resultJson": string(res)}})
	return b
}

// withSecret replaces the secret at the end of a callback URL.
func withSecret(url, secret string) string { return url[:strings.LastIndex(url, "/")+1] + secret }

func secretOf(url string) string { return url[strings.LastIndex(url, "/")+1:] }

// Forged callbacks — a wrong secret, an unknown job, one job's secret on another's URL, another
// seller's task on a job's URL, a body too large, a bad, missing or stale signature — change
// nothing: no read of either task, no video, no money moved. A genuine one then works.
func TestForgedCallbacksChangeNothing(t *testing.T) {
	const hmacKey = "kie-webhook-hmac-key"
	b := startCallbacks(t, noPolling, func(c *config.Config) { c.KIEWebhookKey = hmacKey })
	b.KIE.Script(func(int, string, map[string]any) kiefake.Script { return kiefake.Script{Forever: true} })
	anna, boris := startSeller(t, b, 311, "ru"), startSeller(t, b, 312, "ru")
	order(t, anna, "video", "Кружка")
	order(t, boris, "video", "Чайник")
	a, bo := submitted(t, b, 311), submitted(t, b, 312)
	// Both tasks are done at KIE: any read a forged callback caused would deliver a video.
	b.KIE.Finish(a.ID)
	b.KIE.Finish(bo.ID)

	now := time.Now().Unix()
	signed := func(task string, at int64) map[string]string {
		ts := strconv.FormatInt(at, 10)
		return map[string]string{"X-Webhook-Timestamp": ts, "X-Webhook-Signature": kiefake.Sign(hmacKey, task, ts)}
	}
	jobA := strings.TrimPrefix(a.CallbackURL, b.Config.PublicURL+"/kie/callback/")
	jobA = jobA[:strings.Index(jobA, "/")]
	for _, tc := range []struct {
		name    string
		url     string
		body    []byte
		headers map[string]string
		want    int
	}{
		{"a wrong secret", withSecret(a.CallbackURL, "AAAAAAAAAAAAAAAAAAAAAA"), callbackBody(a.ID), signed(a.ID, now), http.StatusNotFound},
		{"no secret", withSecret(a.CallbackURL, ""), callbackBody(a.ID), signed(a.ID, now), http.StatusNotFound},
		{"an unknown job", b.App.Public.CallbackURL(999), callbackBody(a.ID), signed(a.ID, now), http.StatusNotFound},
		{"one job's secret on another's URL", withSecret(bo.CallbackURL, secretOf(a.CallbackURL)), callbackBody(bo.ID), signed(bo.ID, now), http.StatusNotFound},
		{"another seller's task on a job's URL", a.CallbackURL, callbackBody(bo.ID), signed(bo.ID, now), http.StatusOK},
		{"a body too large", a.CallbackURL, append(callbackBody(a.ID)[:0:0], bytes.Repeat([]byte(" "), 100<<10)...), signed(a.ID, now), http.StatusRequestEntityTooLarge},
		{"not a callback", a.CallbackURL, []byte(`{"hello":"world"}`), signed(a.ID, now), http.StatusBadRequest},
		{"no signature", a.CallbackURL, callbackBody(a.ID), nil, http.StatusUnauthorized},
		{"a signature with another key", a.CallbackURL, callbackBody(a.ID), map[string]string{"X-Webhook-Timestamp": strconv.FormatInt(now, 10), "X-Webhook-Signature": kiefake.Sign("guess", a.ID, strconv.FormatInt(now, 10))}, http.StatusUnauthorized},
		{"another task's signature", a.CallbackURL, callbackBody(a.ID), signed(bo.ID, now), http.StatusUnauthorized},
		{"a stale signature", a.CallbackURL, callbackBody(a.ID), signed(a.ID, now-10*60), http.StatusUnauthorized},
		{"the job id path only", b.Config.PublicURL + "/kie/callback/" + jobA, callbackBody(a.ID), signed(a.ID, now), http.StatusNotFound},
		{"another path", b.Config.PublicURL + "/admin", callbackBody(a.ID), signed(a.ID, now), http.StatusNotFound},
	} {
		if got := forge(t, tc.url, tc.body, tc.headers); got != tc.want {
			t.Errorf("%s: HTTP %d, want %d", tc.name, got, tc.want)
		}
	}
	// Whatever was handed on has been handled once a seller's own update is answered.
	anna.Send("/balance")
	anna.Expect(t, wait, "the balance", contains("Баланс"))
	for _, tk := range []kiefake.Task{a, bo} {
		if n := taskOf(b, tk.ID).Polls; n != 0 {
			t.Errorf("task %s read %d times", tk.ID, n)
		}
	}
	if videos(anna)+videos(boris) != 0 {
		t.Error("a video went out")
	}
	for _, uid := range []int64{311, 312} {
		if got := b.ledger(uid); got != "grant+20 hold(10)" {
			t.Errorf("seller %d ledger: %s", uid, got)
		}
	}

	// The genuine callback, signed, brings Anna's video and only hers.
	if got := forge(t, a.CallbackURL, callbackBody(a.ID), signed(a.ID, time.Now().Unix())); got != http.StatusOK {
		t.Fatalf("genuine callback: HTTP %d", got)
	}
	anna.Expect(t, wait, "the video", isFile("sendVideo"))
	if videos(boris) != 0 {
		t.Error("Boris got a video from Anna's callback")
	}
	for _, secret := range []string{secretOf(a.CallbackURL), secretOf(bo.CallbackURL), hmacKey} {
		if strings.Contains(b.logs.String(), secret) {
			t.Errorf("the logs hold a secret %q", secret)
		}
	}
}
