package kie

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"neurocards/messages"
)

// handlerClient points both hosts of a Client at h.
func handlerClient(t *testing.T, h http.HandlerFunc, edit ...func(*Config)) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	cfg := Config{APIURL: srv.URL, UploadURL: srv.URL, APIKey: testKey, Logger: quietLogger()}
	for _, e := range edit {
		e(&cfg)
	}
	return New(cfg)
}

func TestOddAnswers(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		class   messages.Class
		code    string
		retry   time.Duration
	}{
		{"html 502", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>")
		}, messages.Transient, "http 502", 0},
		{"http 429 with Retry-After", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "12")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"code":429,"msg":"rate limited"}`)
		}, messages.Transient, "http 429", 12 * time.Second},
		{"http 503 with a day's Retry-After", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "86400")
			w.WriteHeader(http.StatusServiceUnavailable)
		}, messages.Transient, "http 503", MaxRetryAfter},
		{"http 429 with an overflowing Retry-After", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "9223372037")
			w.WriteHeader(http.StatusTooManyRequests)
		}, messages.Transient, "http 429", MaxRetryAfter},
		{"http 429 with a Retry-After date a year ahead", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", time.Now().AddDate(1, 0, 0).UTC().Format(http.TimeFormat))
			w.WriteHeader(http.StatusTooManyRequests)
		}, messages.Transient, "http 429", MaxRetryAfter},
		{"body 402 with http 200", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"code":402,"msg":"The current credits are insufficient. Please top up.","data":null}`)
		}, messages.Operator, "402", 0},
		{"body 429 with http 200", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"code":429,"message":"rate limited","data":null}`)
		}, messages.Transient, "429", 0},
		{"html with http 200", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "<html>maintenance</html>")
		}, messages.Transient, "bad answer", 0},
		{"json without code", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"data":{"taskId":"abc"}}`)
		}, messages.Transient, "bad answer", 0},
		{"success without a task id", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"code":200,"msg":"success","data":null}`)
		}, messages.Transient, "bad answer", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := handlerClient(t, tt.handler)
			_, err := c.CreateTask(ctxTimeout(t, 5*time.Second), "m", map[string]any{"prompt": "x"}, "")
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err %T %v, want *Error", err, err)
			}
			f := Classify(err)
			if f.Class != tt.class || f.Code != tt.code || f.RetryAfter != tt.retry {
				t.Fatalf("%v → %+v, want %s %q %v", err, f, tt.class, tt.code, tt.retry)
			}
		})
	}
}

func TestMessageKeyAndCodeAsString(t *testing.T) {
	c := handlerClient(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"code":"200","message":"success","data":{"taskId":"e989621f54392584b05867f87b160672"}}`)
	})
	id, err := c.CreateTask(ctxTimeout(t, 5*time.Second), "m", nil, "")
	if err != nil || id != "e989621f54392584b05867f87b160672" {
		t.Fatalf("id %q, err %v", id, err)
	}
}

func TestHungServerMeetsDeadline(t *testing.T) {
	release := make(chan struct{})
	c := handlerClient(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.RecordInfo(ctx, "abc")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	// KIE did not answer in time: an outage as far as the job can tell, which waits without an attempt.
	if f := Classify(err); f.Class != messages.Transient || f.Reason != messages.ReasonUpstreamDown || f.Code != "timeout" {
		t.Fatalf("classified %+v", f)
	}
}

// TestCreateThatMayHaveReachedKIECountsAnAttempt: a createTask cut off after it was sent may
// have created a task KIE bills, so it uses an attempt; one that never left does not.
func TestCreateThatMayHaveReachedKIECountsAnAttempt(t *testing.T) {
	sent := &Error{Op: "create task", Err: &url.Error{Op: "Post", URL: "x", Err: io.ErrUnexpectedEOF}}
	if f := ClassifyCreate(sent); f.Reason != messages.ReasonUpstream {
		t.Errorf("a createTask cut off mid-way: %+v", f)
	}
	refused := &Error{Op: "create task", Err: &url.Error{Op: "Post", URL: "x", Err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}}}
	if f := ClassifyCreate(refused); f.Reason != messages.ReasonUpstreamDown {
		t.Errorf("a createTask that never left: %+v", f)
	}
	if f := ClassifyCreate(&Error{Op: "create task", HTTPStatus: 503}); f.Reason != messages.ReasonUpstreamDown {
		t.Errorf("a createTask answered 503: %+v", f)
	}
}

func TestCanceledIsTransient(t *testing.T) {
	started := make(chan struct{})
	c := handlerClient(t, func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done()
	})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-started
		cancel()
	}()
	_, err := c.Credit(ctx)
	if f := Classify(err); !errors.Is(err, context.Canceled) || f.Class != messages.Transient || f.Code != "canceled" {
		t.Fatalf("%v → %+v", err, f)
	}
	if c.breaker.Counts().TotalExclusions != 1 {
		t.Fatalf("counts %+v: cancellation must not count", c.breaker.Counts())
	}
}

func TestUploadFallsBackToFileURL(t *testing.T) {
	c := handlerClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/file-stream-upload" {
			http.NotFound(w, r)
			return
		}
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, `{"success":true,"code":200,"msg":"File uploaded successfully","data":{"fileUrl":"https://tempfile.redpandaai.co/x/p.jpg"}}`)
	})
	u, err := c.Upload(ctxTimeout(t, 5*time.Second), strings.NewReader("x"), "p.jpg")
	if err != nil || u != "https://tempfile.redpandaai.co/x/p.jpg" {
		t.Fatalf("url %q, err %v", u, err)
	}
}

// The file reaches the server while the caller is still producing it: nothing is buffered.
func TestUploadStreams(t *testing.T) {
	firstSeen := make(chan struct{})
	type form struct {
		uploadPath, fileName, file string
		contentLength              int64
	}
	got := make(chan form, 1)
	c := handlerClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testKey {
			t.Errorf("authorization %q", r.Header.Get("Authorization"))
		}
		mr, err := r.MultipartReader()
		if err != nil {
			t.Error(err)
			return
		}
		var f form
		f.contentLength = r.ContentLength
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			switch p.FormName() {
			case "uploadPath":
				b, _ := io.ReadAll(p)
				f.uploadPath = string(b)
			case "fileName":
				b, _ := io.ReadAll(p)
				f.fileName = string(b)
			case "file":
				first := make([]byte, len("first half;"))
				if _, err := io.ReadFull(p, first); err != nil {
					t.Error(err)
					return
				}
				close(firstSeen) // the client has not seen the end of its input yet
				rest, _ := io.ReadAll(p)
				f.file = string(first) + string(rest)
			}
		}
		got <- f
		io.WriteString(w, `{"success":true,"code":200,"msg":"ok","data":{"downloadUrl":"https://tempfile.redpandaai.co/a/b.jpg"}}`)
	})

	pr, pw := io.Pipe()
	go func() {
		io.WriteString(pw, "first half;")
		<-firstSeen // blocks forever if the client buffers the whole file before sending
		io.WriteString(pw, "second half")
		pw.Close()
	}()
	u, err := c.Upload(ctxTimeout(t, 5*time.Second), pr, "b.jpg")
	if err != nil || u != "https://tempfile.redpandaai.co/a/b.jpg" {
		t.Fatalf("url %q, err %v", u, err)
	}
	f := <-got
	if f.file != "first half;second half" || f.fileName != "b.jpg" || !strings.HasPrefix(f.uploadPath, "neurocards/") || f.contentLength != -1 {
		t.Fatalf("form %+v", f)
	}
}

// The key is in the Authorization header and nowhere else, even when KIE echoes it back.
func TestKeyNeverInErrors(t *testing.T) {
	echo := func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"code":401,"msg":"Invalid key: `+r.Header.Get("Authorization")+`","data":null}`)
	}
	echoHTML := func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, "<pre>"+r.Header.Get("Authorization")+"</pre>")
	}
	for name, h := range map[string]http.HandlerFunc{"json": echo, "html": echoHTML} {
		t.Run(name, func(t *testing.T) {
			c := handlerClient(t, h)
			ctx := ctxTimeout(t, 5*time.Second)
			var errs []error
			_, err := c.CreateTask(ctx, "m", nil, "")
			errs = append(errs, err)
			_, err = c.RecordInfo(ctx, "id")
			errs = append(errs, err)
			_, err = c.Credit(ctx)
			errs = append(errs, err)
			_, err = c.Upload(ctx, strings.NewReader("x"), "p.jpg")
			errs = append(errs, err)
			for _, err := range errs {
				if err == nil {
					t.Fatal("no error")
				}
				f := Classify(err)
				for _, s := range []string{err.Error(), f.Error(), f.Detail} {
					if strings.Contains(s, testKey) {
						t.Fatalf("key leaked: %s", s)
					}
				}
				if !strings.Contains(err.Error(), "[redacted]") {
					t.Fatalf("echo not visible as redacted: %s", err)
				}
			}
		})
	}
	// A transport error names the URL, which never carries the key.
	c := New(Config{APIURL: "http://127.0.0.1:1", APIKey: testKey, Logger: quietLogger()})
	_, err := c.Credit(ctxTimeout(t, 5*time.Second))
	if err == nil || strings.Contains(err.Error(), testKey) {
		t.Fatalf("err %v", err)
	}
}

// A source that stops producing cannot hold Upload past its deadline.
func TestUploadStalledSourceMeetsDeadline(t *testing.T) {
	fake := newFake(t)
	c := fakeClient(t, fake)
	pr, pw := io.Pipe()
	defer pw.Close()
	go io.WriteString(pw, "the first bytes, then nothing")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Upload(ctx, pr, "p.jpg")
	if f := Classify(err); !errors.Is(err, context.DeadlineExceeded) || f.Class != messages.Transient {
		t.Fatalf("%v → %+v", err, f)
	}
}
