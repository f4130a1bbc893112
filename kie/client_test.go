package kie

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"neurocards/messages"
	"neurocards/testkit/kiefake"
)

const testKey = "sk-test-0123456789abcdef"

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func fakeClient(t *testing.T, fake *kiefake.Server, edit ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{APIURL: fake.APIURL(), UploadURL: fake.UploadURL(), APIKey: testKey, Logger: quietLogger()}
	for _, e := range edit {
		e(&cfg)
	}
	return New(cfg)
}

func newFake(t *testing.T) *kiefake.Server {
	t.Helper()
	fake := kiefake.New(testKey)
	t.Cleanup(fake.Close)
	return fake
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// pollUntilDone polls like the generator does, minus the backoff the fake does not need.
func pollUntilDone(t *testing.T, c *Client, id string) Record {
	t.Helper()
	ctx := ctxTimeout(t, 5*time.Second)
	for i := 0; i < 20; i++ {
		rec, err := c.RecordInfo(ctx, id)
		if err != nil {
			t.Fatalf("poll %d: %v", i+1, err)
		}
		if rec.Done() {
			return rec
		}
	}
	t.Fatal("task never finished")
	return Record{}
}

func TestHappyPathAgainstFake(t *testing.T) {
	fake := newFake(t)
	c := fakeClient(t, fake)
	ctx := ctxTimeout(t, 5*time.Second)

	photo := bytes.Repeat([]byte("jpeg"), 5000)
	url, err := c.Upload(ctx, bytes.NewReader(photo), "photo.jpg")
	if err != nil {
		t.Fatal(err)
	}
	ups := fake.Uploads()
	if len(ups) != 1 || !bytes.Equal(ups[0].Data, photo) || ups[0].FileName != "photo.jpg" || !ups[0].Chunked {
		t.Fatalf("uploads = %+v", ups)
	}
	if !regexp.MustCompile(`^neurocards/[0-9a-f]{16}$`).MatchString(ups[0].Path) {
		t.Fatalf("uploadPath = %q", ups[0].Path)
	}

	input := map[string]any{"prompt": "turntable", "image_urls": []string{url}, "duration": "5", "sound": false}
	id, err := c.CreateTask(ctx, "kling-2.6/image-to-video", input, "")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(id) {
		t.Fatalf("task id %q", id)
	}

	var states []State
	var rec Record
	for !rec.Done() {
		rec, err = c.RecordInfo(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		states = append(states, rec.State)
	}
	if want := []State{StateWaiting, StateGenerating, StateSuccess}; !equal(states, want) {
		t.Fatalf("states %v, want %v", states, want)
	}
	if len(rec.ResultURLs) != 1 || !strings.HasSuffix(rec.ResultURLs[0], id+".mp4") || rec.CreditsConsumed == 0 || rec.CompleteTime == 0 {
		t.Fatalf("record %+v", rec)
	}

	path := filepath.Join(t.TempDir(), "out.mp4")
	n, err := c.Download(ctx, rec.ResultURLs[0], path, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if int64(len(got)) != n || http.DetectContentType(got) != "video/mp4" {
		t.Fatalf("downloaded %d bytes of %s", n, http.DetectContentType(got))
	}

	bal, err := c.Credit(ctx)
	if err != nil || bal <= 0 || bal >= 1000 {
		t.Fatalf("credit = %v, %v", bal, err)
	}
	if c.BreakerState() != "closed" {
		t.Fatalf("breaker %s", c.BreakerState())
	}
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A task's failure comes back as a record, and failCode's type varies between polls.
func TestFailedTasksAgainstFake(t *testing.T) {
	fake := newFake(t)
	c := fakeClient(t, fake)
	ctx := ctxTimeout(t, 5*time.Second)
	url, err := c.Upload(ctx, strings.NewReader("photo"), "p.png")
	if err != nil {
		t.Fatal(err)
	}
	fake.Script(func(n int, model string, input map[string]any) kiefake.Script {
		if n == 1 {
			return kiefake.Script{Waiting: -1, Generating: -1, Outcome: kiefake.Outcome{Fail: true, FailCode: "400", FailMsg: "Your prompt was flagged by Website as violating content policies"}}
		}
		return kiefake.Script{}
	})

	id, err := c.CreateTask(ctx, "google/nano-banana-edit", map[string]any{"prompt": "x", "image_urls": []string{url}}, "")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the fake alternates failCode between "400" and 400
		rec, err := c.RecordInfo(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if rec.State != StateFail || rec.FailCode != "400" {
			t.Fatalf("record %+v", rec)
		}
		if f := ClassifyRecord(rec); f.Class != messages.User || f.Reason != messages.ReasonContentPolicy {
			t.Fatalf("classified %v", f)
		}
	}

	// An image that was never uploaded to KIE: created fine, then fails.
	id, err = c.CreateTask(ctx, "google/nano-banana-edit", map[string]any{"prompt": "x", "image_urls": []string{"https://api.telegram.org/file/bot123/photo.jpg"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	rec := pollUntilDone(t, c, id)
	if f := ClassifyRecord(rec); f.Class != messages.Transient || f.Code != "fail 422" || f.Detail != "Your media file is unavailable, please replace it." {
		t.Fatalf("classified %+v", f)
	}
}

func TestSyncErrorsAgainstFake(t *testing.T) {
	fake := newFake(t)
	ctx := ctxTimeout(t, 5*time.Second)

	t.Run("wrong key", func(t *testing.T) {
		c := fakeClient(t, fake, func(c *Config) { c.APIKey = "sk-wrong-key-987654" })
		_, err := c.CreateTask(ctx, "kling-2.6/image-to-video", map[string]any{"prompt": "x"}, "")
		f := Classify(err)
		if f.Class != messages.Operator || f.Code != "401" || strings.Contains(err.Error(), "sk-wrong-key-987654") {
			t.Fatalf("err %v → %+v", err, f)
		}
		_, err = c.Upload(ctx, strings.NewReader("x"), "p.jpg")
		if f := Classify(err); f.Class != messages.Operator || f.Code != "401" {
			t.Fatalf("upload err %v → %+v", err, f)
		}
	})
	c := fakeClient(t, fake, func(c *Config) { c.BreakerFailures, c.CreatePer10s = 100, 1000 }) // every case here fails
	t.Run("unknown model", func(t *testing.T) {
		_, err := c.CreateTask(ctx, "kling-9/teleport", map[string]any{"prompt": "x", "image_urls": []string{"u"}}, "")
		if f := Classify(err); f.Class != messages.Operator || f.Reason != messages.ReasonUnavailable || f.Detail != "The page does not exist or is not published" {
			t.Fatalf("err %v → %+v", err, f)
		}
	})
	t.Run("missing input", func(t *testing.T) {
		_, err := c.CreateTask(ctx, "kling-2.6/image-to-video", map[string]any{"prompt": "x"}, "")
		if f := Classify(err); f.Class != messages.Operator || f.Code != "422" {
			t.Fatalf("err %v → %+v", err, f)
		}
	})
	t.Run("unknown task", func(t *testing.T) {
		_, err := c.RecordInfo(ctx, "0123456789abcdef0123456789abcdef")
		if f := Classify(err); f.Class != messages.Transient || !IsUnknownTask(err) {
			t.Fatalf("err %v → %+v", err, f)
		}
	})
	t.Run("injected create errors", func(t *testing.T) {
		replies := map[int]kiefake.Reply{
			1: {Code: 402},
			2: {Code: 433},
			3: {Code: 455},
			4: {Code: 505},
			5: {HTTPStatus: 503, HTML: true},
		}
		base := fake.CreateCalls()
		fake.Script(func(n int, model string, input map[string]any) kiefake.Script {
			if r, ok := replies[n-base]; ok {
				return kiefake.Script{CreateReply: &r}
			}
			return kiefake.Script{}
		})
		defer fake.Script(nil)
		want := []messages.Class{messages.Operator, messages.Operator, messages.Transient, messages.Operator, messages.Transient}
		for i, w := range want {
			_, err := c.CreateTask(ctx, "kling-2.6/image-to-video", map[string]any{"prompt": "x"}, "")
			if f := Classify(err); f.Class != w {
				t.Fatalf("call %d: %v → %+v, want %s", i+1, err, f, w)
			}
		}
	})
	t.Run("upload missing uploadPath", func(t *testing.T) {
		// The client always sends one, so ask the fake directly.
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, fake.UploadURL()+"/api/file-base64-upload",
			strings.NewReader(`{"base64Data":"aGVsbG8=","fileName":"a.jpg"}`))
		req.Header.Set("Authorization", "Bearer "+testKey)
		data, err := c.do("upload", req)
		if f := Classify(err); data != nil || f.Code != "400" || f.Class != messages.Operator || f.Detail != "Missing required parameter: uploadPath" {
			t.Fatalf("err %v → %+v", err, f)
		}
	})
	t.Run("down", func(t *testing.T) {
		fake.SetDown(true)
		defer fake.SetDown(false)
		_, err := c.Credit(ctx)
		if f := Classify(err); f.Class != messages.Transient || f.Reason != messages.ReasonUpstreamDown || f.Code != "network" {
			t.Fatalf("err %v → %+v", err, f)
		}
	})
}

func TestCallbackFromFake(t *testing.T) {
	fake := newFake(t)
	c := fakeClient(t, fake)
	ctx := ctxTimeout(t, 5*time.Second)

	got := make(chan []byte, 4)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- b
	}))
	defer recv.Close()

	url, err := c.Upload(ctx, strings.NewReader("photo"), "p.jpg")
	if err != nil {
		t.Fatal(err)
	}
	fake.Script(func(n int, model string, input map[string]any) kiefake.Script {
		return kiefake.Script{Callback: true, DuplicateCallback: n == 2, EndAfter: time.Millisecond,
			Outcome: kiefake.Outcome{Fail: n == 2, FailCode: "500", FailMsg: "Internal server error"}}
	})
	ok, err := c.CreateTask(ctx, "google/nano-banana-edit", map[string]any{"prompt": "x", "image_urls": []string{url}}, recv.URL+"/kie/callback")
	if err != nil {
		t.Fatal(err)
	}
	rec := receiveCallback(t, ctx, got)
	if rec.TaskID != ok || rec.State != StateSuccess || len(rec.ResultURLs) != 1 || !strings.HasSuffix(rec.ResultURLs[0], ".png") {
		t.Fatalf("callback %+v", rec)
	}

	failed, err := c.CreateTask(ctx, "google/nano-banana-edit", map[string]any{"prompt": "x", "image_urls": []string{url}}, recv.URL+"/kie/callback")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		rec := receiveCallback(t, ctx, got)
		if rec.TaskID != failed || rec.State != StateFail || ClassifyRecord(rec).Class != messages.Transient {
			t.Fatalf("callback %+v", rec)
		}
	}
}

func receiveCallback(t *testing.T, ctx context.Context, got <-chan []byte) Record {
	t.Helper()
	select {
	case b := <-got:
		rec, err := ParseCallback(b)
		if err != nil {
			t.Fatalf("parse %s: %v", b, err)
		}
		return rec
	case <-ctx.Done():
		t.Fatal("no callback")
	}
	return Record{}
}

func TestParseCallback(t *testing.T) {
	// The two examples in kie-api.md §2.3.
	ok := `{"code":200,"msg":"Playground task completed successfully.","data":{"taskId":"e989621f54392584b05867f87b160672","model":"kling-2.6/image-to-video","state":"success","param":"{...}","resultJson":"{\"resultUrls\":[\"https://example.com/generated-video.mp4\"]}","consumeCredits":100,"remainedCredits":2510330,"costTime":8,"createTime":1755599634000,"completeTime":1755599644000,"updateTime":1755599644000}}`
	rec, err := ParseCallback([]byte(ok))
	if err != nil {
		t.Fatal(err)
	}
	if rec.State != StateSuccess || rec.ResultURLs[0] != "https://example.com/generated-video.mp4" || rec.CreditsConsumed != 100 || rec.CostTime != 8 || rec.CompleteTime != 1755599644000 {
		t.Fatalf("%+v", rec)
	}
	failed := `{"code":501,"msg":"Playground task failed.","data":{"taskId":"bd3a37c523149e4adf45a3ddb5faf1a8","model":"kling-2.6/image-to-video","state":"fail","failCode":"500","failMsg":"Internal server error","consumeCredits":0,"completeTime":1755597081000}}`
	rec, err = ParseCallback([]byte(failed))
	if err != nil {
		t.Fatal(err)
	}
	if rec.State != StateFail || rec.FailCode != "500" || rec.FailMsg != "Internal server error" || !rec.Done() {
		t.Fatalf("%+v", rec)
	}
	for _, bad := range []string{`not json`, `{"code":401,"msg":"x","data":null}`, `{"code":200,"msg":"x","data":null}`, `{"code":200,"data":{"state":"success"}}`} {
		if _, err := ParseCallback([]byte(bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestDecodeRecordLeniently(t *testing.T) {
	tests := []struct {
		name string
		data string
		want Record
	}{
		{"running, nulls", `{"taskId":"a","state":"generating","resultJson":null,"failCode":null,"failMsg":null,"creditsConsumed":null}`,
			Record{TaskID: "a", State: StateGenerating}},
		{"running, empty strings", `{"taskId":"a","state":"waiting","resultJson":"","failCode":"","failMsg":""}`,
			Record{TaskID: "a", State: StateWaiting}},
		{"numeric failCode", `{"taskId":"a","state":"fail","failCode":501,"failMsg":"Generation failed"}`,
			Record{TaskID: "a", State: StateFail, FailCode: "501", FailMsg: "Generation failed"}},
		{"live seedance sample", `{"taskId":"da2f3b4d3826a124edf678dfec75645d","model":"bytedance/seedance-2","state":"success","param":"{\"input\":\"{}\"}","resultJson":"{\"resultUrls\":[\"https://tempfile.aiquickdraw.com/seedance/x.mp4\"]}","failCode":null,"failMsg":null,"costTime":208,"completeTime":1776728422476,"createTime":1776728214352}`,
			Record{TaskID: "da2f3b4d3826a124edf678dfec75645d", Model: "bytedance/seedance-2", State: StateSuccess, ResultURLs: []string{"https://tempfile.aiquickdraw.com/seedance/x.mp4"}, CostTime: 208, CompleteTime: 1776728422476, CreateTime: 1776728214352}},
		{"resultJson as an object", `{"taskId":"a","state":"success","resultJson":{"resultUrls":["u"]},"creditsConsumed":"12.5"}`,
			Record{TaskID: "a", State: StateSuccess, ResultURLs: []string{"u"}, CreditsConsumed: 12.5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeRecord([]byte(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if got.TaskID != tt.want.TaskID || got.Model != tt.want.Model || got.State != tt.want.State || !equal(got.ResultURLs, tt.want.ResultURLs) ||
				got.FailCode != tt.want.FailCode || got.FailMsg != tt.want.FailMsg || got.CostTime != tt.want.CostTime ||
				got.CreditsConsumed != tt.want.CreditsConsumed || got.CreateTime != tt.want.CreateTime || got.CompleteTime != tt.want.CompleteTime {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
	if _, err := decodeRecord([]byte(`{"taskId":"a","state":"success","resultJson":"{not json"}`)); err == nil {
		t.Fatal("bad resultJson accepted")
	}
}

func TestUploadReadErrorIsOurs(t *testing.T) {
	fake := newFake(t)
	c := fakeClient(t, fake)
	boom := errors.New("disk says no")
	_, err := c.Upload(ctxTimeout(t, 5*time.Second), io.MultiReader(strings.NewReader("abc"), errReader{boom}), "p.jpg")
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if f := Classify(err); f.Class != messages.Internal {
		t.Fatalf("classified %+v", f)
	}
	if len(fake.Uploads()) != 0 {
		t.Fatal("a broken upload was stored")
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
