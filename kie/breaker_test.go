package kie

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"neurocards/messages"
	"neurocards/testkit"
	"neurocards/testkit/kiefake"
)

// logRecorder keeps every log record, to check what the breaker told the operator.
type logRecorder struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs = append(l.recs, r)
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

func (l *logRecorder) has(level slog.Level, msg string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.recs {
		if r.Level == level && r.Message == msg {
			return true
		}
	}
	return false
}

// waitState waits for the breaker to report want (open → half-open happens on the clock).
func waitState(t *testing.T, c *Client, want string) {
	t.Helper()
	ctx := ctxTimeout(t, 2*time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for c.BreakerState() != want {
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("breaker %s, want %s", c.BreakerState(), want)
		}
	}
}

var anyInput = map[string]any{"prompt": "x"} // the fake answers injected replies before validating

func TestBreakerOpensAndRecovers(t *testing.T) {
	fake := newFake(t)
	logs := &logRecorder{}
	c := fakeClient(t, fake, func(cfg *Config) {
		cfg.BreakerFailures = 3
		cfg.BreakerCooldown = 100 * time.Millisecond // long enough to check "open" without racing the clock
		cfg.CreatePer10s = 1000
		cfg.Logger = testkit.ScannedLogger(t, logs, testkit.Secrets{KIEKey: testKey})
	})
	ctx := ctxTimeout(t, 5*time.Second)
	internal := kiefake.Reply{Code: 500}
	fake.Script(func(n int, model string, input map[string]any) kiefake.Script {
		if n <= 3 || n == 4 {
			return kiefake.Script{CreateReply: &internal}
		}
		return kiefake.Script{}
	})

	for i := 1; i <= 3; i++ {
		_, err := c.CreateTask(ctx, "kling-2.6/image-to-video", anyInput, "")
		if f := Classify(err); f.Reason != messages.ReasonUpstream {
			t.Fatalf("call %d: %+v", i, f)
		}
	}
	if c.BreakerState() != "open" || !logs.has(slog.LevelWarn, "kie: circuit breaker opened") {
		t.Fatalf("breaker %s after 3 failures", c.BreakerState())
	}

	// Open: nothing reaches KIE, and the caller can tell.
	for _, call := range []func() error{
		func() error { _, err := c.CreateTask(ctx, "kling-2.6/image-to-video", anyInput, ""); return err },
		func() error { _, err := c.RecordInfo(ctx, "x"); return err },
		func() error { _, err := c.Credit(ctx); return err },
		func() error { _, err := c.Upload(ctx, strings.NewReader("x"), "p.jpg"); return err },
	} {
		if f := Classify(call()); f.Class != messages.Transient || f.Reason != messages.ReasonUpstreamDown {
			t.Fatalf("while open: %+v", f)
		}
	}
	if fake.CreateCalls() != 3 {
		t.Fatalf("KIE saw %d createTask calls, want 3", fake.CreateCalls())
	}

	// After the cooldown one probe goes through; it fails, so the breaker opens again.
	waitState(t, c, "half-open")
	if _, err := c.CreateTask(ctx, "kling-2.6/image-to-video", anyInput, ""); Classify(err).Reason != messages.ReasonUpstream {
		t.Fatalf("probe: %v", err)
	}
	if c.BreakerState() != "open" {
		t.Fatalf("breaker %s after a failed probe", c.BreakerState())
	}

	// The next probe succeeds and closes it.
	waitState(t, c, "half-open")
	if _, err := c.CreateTask(ctx, "kling-2.6/image-to-video", map[string]any{"prompt": "x", "image_urls": []string{"u"}}, ""); err != nil {
		t.Fatalf("probe: %v", err)
	}
	if c.BreakerState() != "closed" || !logs.has(slog.LevelInfo, "kie: circuit breaker closed") {
		t.Fatalf("breaker %s after a good probe", c.BreakerState())
	}
	if fake.CreateCalls() != 5 {
		t.Fatalf("KIE saw %d createTask calls, want 5", fake.CreateCalls())
	}
}

// The seller's bad photo, our own cancellation and a lost task say nothing about KIE's health.
func TestBreakerIgnoresWhatIsNotKIEsFault(t *testing.T) {
	fake := newFake(t)
	c := fakeClient(t, fake, func(cfg *Config) {
		cfg.BreakerFailures = 2
		cfg.CreatePer10s = 1000
	})
	ctx := ctxTimeout(t, 5*time.Second)
	internal := kiefake.Reply{Code: 500}
	policy := kiefake.Reply{Code: 400, Msg: "Your prompt was flagged by Website as violating content policies"}
	fake.Script(func(n int, model string, input map[string]any) kiefake.Script {
		if n%2 == 1 {
			return kiefake.Script{CreateReply: &internal}
		}
		return kiefake.Script{CreateReply: &policy}
	})
	for i := 1; i <= 6; i++ {
		_, err := c.CreateTask(ctx, "kling-2.6/image-to-video", anyInput, "")
		want := messages.Transient
		if i%2 == 0 {
			want = messages.User
		}
		if f := Classify(err); f.Class != want {
			t.Fatalf("call %d: %+v", i, f)
		}
		if c.BreakerState() != "closed" {
			t.Fatalf("call %d opened the breaker", i)
		}
	}

	for range 5 {
		if _, err := c.RecordInfo(ctx, "0123456789abcdef0123456789abcdef"); !IsUnknownTask(err) {
			t.Fatalf("err %v", err)
		}
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	for range 5 {
		c.Credit(canceled)
	}
	if c.BreakerState() != "closed" {
		t.Fatalf("breaker %s", c.BreakerState())
	}
}

// Download goes to the result host, so its failures never open the API breaker.
func TestDownloadBypassesBreaker(t *testing.T) {
	fake := newFake(t)
	c := fakeClient(t, fake, func(cfg *Config) { cfg.BreakerFailures = 1 })
	fake.FailFiles(3, 503)
	for range 3 {
		_, err := c.Download(ctxTimeout(t, 5*time.Second), fake.APIURL()+"/files/x.mp4", t.TempDir()+"/x.mp4", 0)
		if f := Classify(err); f.Class != messages.Transient || f.Code != "http 503" {
			t.Fatalf("%v → %+v", err, f)
		}
	}
	if c.BreakerState() != "closed" {
		t.Fatalf("breaker %s", c.BreakerState())
	}
}
