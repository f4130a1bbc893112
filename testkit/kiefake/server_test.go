package kiefake_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"neurocards/testkit/kiefake"
)

const key = "fake-key"

type env struct {
	Success *bool           `json:"success"`
	Code    int             `json:"code"`
	Msg     string          `json:"msg"`
	Data    json.RawMessage `json:"data"`
}

type harness struct {
	t    *testing.T
	fake *kiefake.Server
	http *http.Client
	ctx  context.Context
}

func start(t *testing.T) *harness {
	t.Helper()
	fake := kiefake.New(key)
	t.Cleanup(fake.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	hc := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(hc.CloseIdleConnections)
	return &harness{t: t, fake: fake, http: hc, ctx: ctx}
}

func (h *harness) do(method, url, auth, contentType string, body io.Reader) (*http.Response, []byte) {
	h.t.Helper()
	req, err := http.NewRequestWithContext(h.ctx, method, url, body)
	if err != nil {
		h.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := h.http.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func (h *harness) call(method, url string, body any) env {
	h.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	resp, b := h.do(method, url, key, "application/json", r)
	var e env
	if err := json.Unmarshal(b, &e); err != nil || resp.StatusCode != 200 {
		h.t.Fatalf("%s %s: HTTP %d %s", method, url, resp.StatusCode, b)
	}
	return e
}

func (h *harness) upload(path, name string, data []byte) env {
	h.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if path != "" {
		mw.WriteField("uploadPath", path)
	}
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data)
	mw.Close()
	_, b := h.do(http.MethodPost, h.fake.UploadURL()+"/api/file-stream-upload", key, mw.FormDataContentType(), &buf)
	var e env
	if err := json.Unmarshal(b, &e); err != nil {
		h.t.Fatalf("upload answer %s", b)
	}
	return e
}

func (h *harness) uploadedURL() string {
	h.t.Helper()
	e := h.upload("tests/abc", "p.jpg", []byte("photo"))
	var d struct{ DownloadURL string }
	json.Unmarshal(e.Data, &d)
	if e.Code != 200 || d.DownloadURL == "" {
		h.t.Fatalf("upload: %+v", e)
	}
	return d.DownloadURL
}

func (h *harness) create(model string, input map[string]any, callback string) env {
	h.t.Helper()
	return h.call(http.MethodPost, h.fake.APIURL()+"/api/v1/jobs/createTask", map[string]any{"model": model, "input": input, "callBackUrl": callback})
}

func taskID(t *testing.T, e env) string {
	t.Helper()
	var d struct{ TaskID string }
	json.Unmarshal(e.Data, &d)
	if e.Code != 200 || !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(d.TaskID) {
		t.Fatalf("create: %+v %s", e, e.Data)
	}
	return d.TaskID
}

type record struct {
	TaskID, State string
	ResultJSON    any `json:"resultJson"`
	FailCode      any `json:"failCode"`
	FailMsg       any `json:"failMsg"`
	Param         string
	CompleteTime  int64
}

func (h *harness) poll(id string) (env, record) {
	h.t.Helper()
	e := h.call(http.MethodGet, h.fake.APIURL()+"/api/v1/jobs/recordInfo?taskId="+id, nil)
	var r record
	if e.Code == 200 {
		if err := json.Unmarshal(e.Data, &r); err != nil {
			h.t.Fatal(err)
		}
	}
	return e, r
}

func TestCreateTaskChecks(t *testing.T) {
	h := start(t)
	resp, b := h.do(http.MethodPost, h.fake.APIURL()+"/api/v1/jobs/createTask", "wrong", "application/json", strings.NewReader(`{}`))
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"code":401`) {
		t.Fatalf("wrong key: HTTP %d %s", resp.StatusCode, b)
	}
	url := h.uploadedURL()
	tests := []struct {
		model string
		input map[string]any
		code  int
		msg   string
	}{
		{"kling-9/teleport", map[string]any{"prompt": "x", "image_urls": []string{url}}, 422, "The page does not exist or is not published"},
		{"kling-2.6/image-to-video", map[string]any{"image_urls": []string{url}}, 422, "prompt is required"},
		{"kling-2.6/image-to-video", map[string]any{"prompt": "x", "image_urls": []string{}}, 422, "image_urls is required"},
		{"bytedance/v1-pro-image-to-video", map[string]any{"prompt": "x", "image_urls": []string{url}}, 422, "image_url is required"},
		{"bytedance/v1-pro-image-to-video", map[string]any{"prompt": "x", "image_url": url}, 200, "success"},
		{"kling-2.6/image-to-video", map[string]any{"prompt": "x", "image_urls": []string{url}}, 200, "success"},
	}
	for _, tt := range tests {
		e := h.create(tt.model, tt.input, "")
		if e.Code != tt.code || e.Msg != tt.msg || (tt.code != 200 && string(e.Data) != "null") {
			t.Errorf("%s %v: got %d %q %s", tt.model, tt.input, e.Code, e.Msg, e.Data)
		}
	}
	h.fake.AddModel("acme/new-model")
	taskID(t, h.create("acme/new-model", map[string]any{"prompt": "x", "image_urls": []string{url}}, ""))

	if got := h.fake.CreateCalls(); got != len(tests)+2 {
		t.Fatalf("CreateCalls = %d, want %d", got, len(tests)+2)
	}
	if got := len(h.fake.Tasks()); got != 3 {
		t.Fatalf("%d tasks", got)
	}
}

func TestTaskLifecycle(t *testing.T) {
	h := start(t)
	e, _ := h.poll("0123456789abcdef0123456789abcdef")
	if e.Code != 422 || e.Msg != "recordInfo is null" || string(e.Data) != "null" {
		t.Fatalf("unknown task: %+v", e)
	}

	url := h.uploadedURL()
	id := taskID(t, h.create("kling-2.6/image-to-video", map[string]any{"prompt": "x", "image_urls": []string{url}}, ""))
	var states []string
	var last record
	for range 4 {
		_, r := h.poll(id)
		states = append(states, r.State)
		last = r
	}
	if strings.Join(states, ",") != "waiting,generating,success,success" {
		t.Fatalf("states %v", states)
	}
	rj, ok := last.ResultJSON.(string)
	if !ok {
		t.Fatalf("resultJson is %T, want a string", last.ResultJSON)
	}
	var res struct{ ResultUrls []string }
	if err := json.Unmarshal([]byte(rj), &res); err != nil || len(res.ResultUrls) != 1 || res.ResultUrls[0] != h.fake.APIURL()+"/files/"+id+".mp4" {
		t.Fatalf("resultJson %q", rj)
	}
	if last.CompleteTime == 0 || !strings.Contains(last.Param, `"kling-2.6/image-to-video"`) {
		t.Fatalf("record %+v", last)
	}
	resp, b := h.do(http.MethodGet, res.ResultUrls[0], "", "", nil)
	if resp.StatusCode != 200 || http.DetectContentType(b) != "video/mp4" {
		t.Fatalf("result file: HTTP %d, %s", resp.StatusCode, http.DetectContentType(b))
	}
	tasks := h.fake.Tasks()
	if len(tasks) != 1 || tasks[0].Polls != 4 || tasks[0].State != "success" || tasks[0].ID != id {
		t.Fatalf("tasks %+v", tasks)
	}

	// An image model gets a real PNG.
	id = taskID(t, h.create("google/nano-banana-edit", map[string]any{"prompt": "x", "image_urls": []string{url}}, ""))
	h.poll(id)
	h.poll(id)
	_, r := h.poll(id)
	json.Unmarshal([]byte(r.ResultJSON.(string)), &res)
	_, b = h.do(http.MethodGet, res.ResultUrls[0], "", "", nil)
	if _, err := png.Decode(bytes.NewReader(b)); err != nil {
		t.Fatalf("result is not a PNG: %v", err)
	}
}

func TestScriptedOutcomes(t *testing.T) {
	h := start(t)
	url := h.uploadedURL()
	h.fake.Script(func(n int, model string, input map[string]any) kiefake.Script {
		switch n {
		case 1:
			return kiefake.Script{Waiting: -1, Generating: -1, Outcome: kiefake.Outcome{Fail: true, FailCode: "400", FailMsg: "Prompt rejected"}}
		case 2:
			return kiefake.Script{Forever: true}
		case 3:
			return kiefake.Script{CreateReply: &kiefake.Reply{Code: 433}}
		case 4:
			return kiefake.Script{Waiting: 2, Generating: 3, Outcome: kiefake.Outcome{File: []byte("custom"), Ext: "webm"}}
		}
		return kiefake.Script{}
	})
	input := map[string]any{"prompt": "x", "image_urls": []string{url}}

	failed := taskID(t, h.create("kling-2.6/image-to-video", input, ""))
	var codes []any
	for range 2 {
		_, r := h.poll(failed)
		if r.State != "fail" || r.FailMsg != "Prompt rejected" {
			t.Fatalf("record %+v", r)
		}
		codes = append(codes, r.FailCode)
	}
	_, firstString := codes[0].(string)
	_, secondString := codes[1].(string)
	if firstString == secondString {
		t.Fatalf("failCode encodings %T and %T: want one string and one number", codes[0], codes[1])
	}

	forever := taskID(t, h.create("kling-2.6/image-to-video", input, ""))
	for i := range 30 {
		if _, r := h.poll(forever); i > 0 && r.State != "generating" {
			t.Fatalf("poll %d: %s", i+1, r.State)
		}
	}

	if e := h.create("kling-2.6/image-to-video", input, ""); e.Code != 433 || e.Data == nil || string(e.Data) != "null" {
		t.Fatalf("scripted reply %+v", e)
	}

	custom := taskID(t, h.create("kling-2.6/image-to-video", input, ""))
	var states []string
	for range 6 {
		_, r := h.poll(custom)
		states = append(states, r.State)
	}
	if strings.Join(states, ",") != "waiting,waiting,generating,generating,generating,success" {
		t.Fatalf("states %v", states)
	}
	_, b := h.do(http.MethodGet, h.fake.APIURL()+"/files/"+custom+".webm", "", "", nil)
	if string(b) != "custom" {
		t.Fatalf("file %q", b)
	}

	// An image KIE cannot fetch: created, then failed.
	foreign := taskID(t, h.create("kling-2.6/image-to-video", map[string]any{"prompt": "x", "image_urls": []string{"https://example.com/p.jpg"}}, ""))
	var r record
	for r.State != "fail" {
		_, r = h.poll(foreign)
		if r.State == "success" {
			t.Fatal("a foreign image succeeded")
		}
	}
	if r.FailMsg != "Your media file is unavailable, please replace it." {
		t.Fatalf("record %+v", r)
	}
}

func TestUploads(t *testing.T) {
	h := start(t)
	e := h.upload("", "p.jpg", []byte("x"))
	if e.Code != 400 || e.Success == nil || *e.Success || e.Msg != "Missing required parameter: uploadPath" {
		t.Fatalf("missing uploadPath: %+v", e)
	}

	e = h.upload("tests/one", "photo.jpg", []byte("jpeg bytes"))
	var d struct {
		DownloadURL string
		FileSize    int64
	}
	json.Unmarshal(e.Data, &d)
	if e.Code != 200 || !*e.Success || d.FileSize != 10 || d.DownloadURL != h.fake.APIURL()+"/uploads/tests/one/photo.jpg" {
		t.Fatalf("upload: %+v %s", e, e.Data)
	}
	if _, b := h.do(http.MethodGet, d.DownloadURL, "", "", nil); string(b) != "jpeg bytes" {
		t.Fatalf("served %q", b)
	}

	body, _ := json.Marshal(map[string]string{"base64Data": "data:image/png;base64," + base64.StdEncoding.EncodeToString([]byte("png bytes")), "uploadPath": "tests/two", "fileName": "p.png"})
	_, b := h.do(http.MethodPost, h.fake.UploadURL()+"/api/file-base64-upload", key, "application/json", bytes.NewReader(body))
	if !strings.Contains(string(b), `"success":true`) {
		t.Fatalf("base64 upload: %s", b)
	}

	ups := h.fake.Uploads()
	if len(ups) != 2 || ups[0].Path != "tests/one" || ups[0].FileName != "photo.jpg" || ups[0].Size != 10 || string(ups[1].Data) != "png bytes" {
		t.Fatalf("uploads %+v", ups)
	}

	// The hosts are separate: uploads on the API host and jobs on the upload host are 404 pages.
	resp, b := h.do(http.MethodPost, h.fake.APIURL()+"/api/file-stream-upload", key, "", nil)
	if resp.StatusCode != 404 || !strings.Contains(string(b), "<html>") {
		t.Fatalf("upload on the API host: HTTP %d", resp.StatusCode)
	}
	resp, _ = h.do(http.MethodGet, h.fake.UploadURL()+"/api/v1/chat/credit", key, "", nil)
	if resp.StatusCode != 404 {
		t.Fatalf("credit on the upload host: HTTP %d", resp.StatusCode)
	}
}

func TestInjectedFailures(t *testing.T) {
	h := start(t)
	id := taskID(t, h.create("kling-2.6/image-to-video", map[string]any{"prompt": "x", "image_urls": []string{h.uploadedURL()}}, ""))

	h.fake.FailRecordInfo(1, kiefake.Reply{HTML: true})
	resp, b := h.do(http.MethodGet, h.fake.APIURL()+"/api/v1/jobs/recordInfo?taskId="+id, key, "", nil)
	if resp.StatusCode != 502 || !strings.Contains(string(b), "502 Bad Gateway") {
		t.Fatalf("HTTP %d %s", resp.StatusCode, b)
	}
	h.fake.FailRecordInfo(1, kiefake.Reply{HTTPStatus: 429, RetryAfter: 3 * time.Second})
	resp, b = h.do(http.MethodGet, h.fake.APIURL()+"/api/v1/jobs/recordInfo?taskId="+id, key, "", nil)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "3" || !strings.Contains(string(b), `"code":429`) {
		t.Fatalf("HTTP %d %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
	h.fake.FailRecordInfo(1, kiefake.Reply{Delay: time.Millisecond}) // slow, then a normal answer
	if e, r := h.poll(id); e.Code != 200 || r.State != "waiting" {
		t.Fatalf("after a delay: %+v %+v", e, r)
	}
	if e, _ := h.poll(id); e.Code != 200 {
		t.Fatalf("injection outlived its count: %+v", e)
	}

	h.fake.FailUploads(1, kiefake.Reply{CloseConn: true})
	req, _ := http.NewRequestWithContext(h.ctx, http.MethodPost, h.fake.UploadURL()+"/api/file-stream-upload", strings.NewReader("x"))
	if _, err := h.http.Do(req); err == nil {
		t.Fatal("a closed connection answered")
	}

	h.fake.FailFiles(1, 410)
	for _, want := range []int{410, 404} { // the task is not done, so then a plain 404
		resp, _ := h.do(http.MethodGet, h.fake.APIURL()+"/files/"+id+".mp4", "", "", nil)
		if resp.StatusCode != want {
			t.Fatalf("file: HTTP %d, want %d", resp.StatusCode, want)
		}
	}

	h.fake.SetDown(true)
	req, _ = http.NewRequestWithContext(h.ctx, http.MethodGet, h.fake.APIURL()+"/api/v1/chat/credit", nil)
	if _, err := h.http.Do(req); err == nil {
		t.Fatal("KIE answered while down")
	}
	h.fake.SetDown(false)
	h.fake.SetCredit(42.5)
	if e := h.call(http.MethodGet, h.fake.APIURL()+"/api/v1/chat/credit", nil); string(e.Data) != "42.5" {
		t.Fatalf("credit %+v", e)
	}
}

func TestCallbacks(t *testing.T) {
	h := start(t)
	type got struct {
		body    []byte
		ts, sig string
	}
	var mu sync.Mutex
	failFirst := true
	recv := make(chan got, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		fail := failFirst
		failFirst = false
		mu.Unlock()
		if fail {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		recv <- got{b, r.Header.Get("X-Webhook-Timestamp"), r.Header.Get("X-Webhook-Signature")}
	}))
	defer srv.Close()
	h.fake.SetWebhookHMACKey("hmac-secret")
	h.fake.Script(func(n int, model string, input map[string]any) kiefake.Script {
		return kiefake.Script{Callback: true, DuplicateCallback: n == 2}
	})
	url := h.uploadedURL()
	id := taskID(t, h.create("google/nano-banana-edit", map[string]any{"prompt": "x", "image_urls": []string{url}}, srv.URL+"/cb"))
	if err := h.fake.Finish(id); err != nil {
		t.Fatal(err)
	}
	var g got
	select {
	case g = <-recv:
	case <-h.ctx.Done():
		t.Fatal("no callback")
	}
	var e struct {
		Code int
		Msg  string
		Data record
	}
	json.Unmarshal(g.body, &e)
	if e.Code != 200 || e.Msg != "Playground task completed successfully." || e.Data.TaskID != id || e.Data.State != "success" {
		t.Fatalf("callback %s", g.body)
	}
	if g.sig != kiefake.Sign("hmac-secret", id, g.ts) || g.ts == "" {
		t.Fatalf("signature %q for ts %q", g.sig, g.ts)
	}
	waitFor(t, h.ctx, func() bool { return len(h.fake.Callbacks()) == 2 })
	cbs := h.fake.Callbacks()
	if len(cbs) != 2 || cbs[0].Status != 503 || cbs[1].Status != 200 || cbs[1].Attempt != 2 {
		t.Fatalf("deliveries %+v", cbs)
	}
	if _, r := h.poll(id); r.State != "success" {
		t.Fatalf("polled after the callback: %s", r.State)
	}

	// Duplicate, and driven by polls rather than Finish.
	id = taskID(t, h.create("google/nano-banana-edit", map[string]any{"prompt": "x", "image_urls": []string{url}}, srv.URL+"/cb"))
	for range 3 {
		h.poll(id)
	}
	for range 2 {
		select {
		case g = <-recv:
			if !strings.Contains(string(g.body), id) {
				t.Fatalf("callback %s", g.body)
			}
		case <-h.ctx.Done():
			t.Fatal("duplicate callback missing")
		}
	}

	// Never to a host off this machine.
	id = taskID(t, h.create("google/nano-banana-edit", map[string]any{"prompt": "x", "image_urls": []string{url}}, "https://example.com/cb"))
	h.fake.Finish(id)
	waitFor(t, h.ctx, func() bool { return len(h.fake.Callbacks()) == 5 })
	for _, cb := range h.fake.Callbacks() {
		if cb.TaskID == id && (cb.Status != 0 || !strings.Contains(cb.Err, "loopback")) {
			t.Fatalf("delivery %+v", cb)
		}
	}
}

func TestWaitTasks(t *testing.T) {
	h := start(t)
	url := h.uploadedURL()
	go func() {
		for range 3 {
			h.create("google/nano-banana-edit", map[string]any{"prompt": "x", "image_urls": []string{url}}, "")
		}
	}()
	if err := h.fake.WaitTasks(h.ctx, 3); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(h.ctx, 10*time.Millisecond)
	defer cancel()
	if err := h.fake.WaitTasks(short, 4); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
}

// Close ends whatever is still going on: a slow answer, a callback to a receiver that never
// answers, a task waiting to end itself.
func TestCloseStopsEverything(t *testing.T) {
	fake := kiefake.New(key)
	hang := make(chan struct{})
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-hang:
		}
	}))
	defer recv.Close()
	defer close(hang)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	post := func(url, body string) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	fake.Script(func(n int, model string, input map[string]any) kiefake.Script {
		return kiefake.Script{Callback: true, EndAfter: map[bool]time.Duration{true: time.Millisecond, false: time.Hour}[n == 1]}
	})
	post(fake.APIURL()+"/api/v1/jobs/createTask", `{"model":"google/nano-banana-edit","callBackUrl":"`+recv.URL+`","input":{"prompt":"x","image_urls":["u"]}}`)
	post(fake.APIURL()+"/api/v1/jobs/createTask", `{"model":"google/nano-banana-edit","callBackUrl":"`+recv.URL+`","input":{"prompt":"x","image_urls":["u"]}}`)
	fake.FailRecordInfo(1, kiefake.Reply{Delay: time.Hour})
	slow := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fake.APIURL()+"/api/v1/jobs/recordInfo?taskId=x", nil)
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		slow <- err
	}()
	waitFor(t, ctx, func() bool { return len(fake.Tasks()) == 2 && fake.Tasks()[0].State == "fail" })

	if stacks := fakeGoroutines(); !strings.Contains(stacks, "endAfter") {
		t.Fatalf("the leak check cannot see the fake's goroutines:\n%s", stacks)
	}
	closed := make(chan struct{})
	go func() {
		fake.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-ctx.Done():
		t.Fatal("Close hangs")
	}
	<-slow
	fake.Close() // twice is fine
	if stacks := fakeGoroutines(); stacks != "" {
		t.Fatalf("goroutines left after Close:\n%s", stacks)
	}
}

// fakeGoroutines returns the stacks of goroutines still running this package's server code.
func fakeGoroutines() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var left []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "testkit/kiefake.(*Server)") {
			left = append(left, g)
		}
	}
	return strings.Join(left, "\n\n")
}

func waitFor(t *testing.T, ctx context.Context, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatal("condition never met")
		}
	}
}
