package testkit

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// Secrets are the credentials a bot under test runs with. No log line, error or page may show
// any of them.
type Secrets struct {
	BotToken   string
	KIEKey     string
	AdminToken string
}

// Fakes are the fixed fake credentials of the harness and the tests.
var Fakes = Secrets{BotToken: BotToken, KIEKey: KIEKey, AdminToken: AdminToken}

// minSecret is the shortest value looked for: a shorter one would match by chance.
const minSecret = 8

// Leaks names every secret text shows, with how often: the bot token, its secret half (after
// the colon, which alone is enough to use the bot), the KIE key and the admin token.
func (s Secrets) Leaks(text string) []string {
	var out []string
	for _, c := range s.named() {
		if n := strings.Count(text, c.value); n > 0 {
			out = append(out, fmt.Sprintf("%s appears %d times", c.name, n))
		}
	}
	return out
}

type namedSecret struct{ name, value string }

// named lists the secrets worth looking for, the token first so that blanking it leaves no half.
func (s Secrets) named() []namedSecret {
	_, botSecret, _ := strings.Cut(s.BotToken, ":")
	var out []namedSecret
	for _, c := range []namedSecret{
		{"the bot token", s.BotToken},
		{"the bot token's secret half", botSecret},
		{"the KIE key", s.KIEKey},
		{"the admin token", s.AdminToken},
	} {
		if len(c.value) >= minSecret {
			out = append(out, c)
		}
	}
	return out
}

// NoSecrets fails t for every secret that text (what is named by what) shows.
func NoSecrets(t testing.TB, what, text string, s Secrets) {
	t.Helper()
	for _, leak := range s.Leaks(text) {
		t.Errorf("%s: %s", what, leak)
	}
}

// LogBuffer returns a Buffer for a test's captured logs that is scanned for s when the test
// ends: every test that captures logs gets one, so no secret reaches a log unnoticed.
func LogBuffer(t testing.TB, s Secrets) *Buffer {
	b := &Buffer{}
	t.Cleanup(func() {
		t.Helper()
		NoSecrets(t, "logs", b.String(), s)
	})
	return b
}

// ScannedLogger returns a logger that hands every record to h and fails t, when the test ends,
// for every record that showed one of s: for tests that capture logs with a handler of their own.
func ScannedLogger(t testing.TB, h slog.Handler, s Secrets) *slog.Logger {
	scanned, leaks := ScanLogs(h, s)
	t.Cleanup(func() {
		if err := leaks.Err(); err != nil {
			t.Error(err)
		}
	})
	return slog.New(scanned)
}

// LeakLog remembers the log lines that showed a secret, with the secret blanked out.
type LeakLog struct {
	secrets Secrets
	mu      sync.Mutex
	lines   []string
}

// Write scans one formatted log line.
func (l *LeakLog) Write(p []byte) (int, error) {
	line := string(p)
	if leaks := l.secrets.Leaks(line); len(leaks) > 0 {
		l.mu.Lock()
		if len(l.lines) < 10 {
			l.lines = append(l.lines, fmt.Sprintf("%s: %s", strings.Join(leaks, ", "), strings.TrimSpace(l.secrets.blank(line))))
		}
		l.mu.Unlock()
	}
	return len(p), nil
}

// Err describes the lines that showed a secret, or is nil.
func (l *LeakLog) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lines) == 0 {
		return nil
	}
	return fmt.Errorf("secrets in the logs:\n  %s", strings.Join(l.lines, "\n  "))
}

// blank replaces every secret in text by its name.
func (s Secrets) blank(text string) string {
	for _, c := range s.named() {
		text = strings.ReplaceAll(text, c.value, "<"+c.name+">")
	}
	return text
}

// ScanLogs returns a handler that hands every record to h and also scans it, formatted, for
// s: whatever h writes, no secret in it goes unnoticed. It scans exactly the records h takes.
func ScanLogs(h slog.Handler, s Secrets) (slog.Handler, *LeakLog) {
	l := &LeakLog{secrets: s}
	return tee{h, slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug})}, l
}

// tee hands each record to both handlers, as far as the first one takes it.
type tee struct{ main, scan slog.Handler }

func (t tee) Enabled(ctx context.Context, l slog.Level) bool { return t.main.Enabled(ctx, l) }

func (t tee) Handle(ctx context.Context, r slog.Record) error {
	err := t.main.Handle(ctx, r.Clone())
	_ = t.scan.Handle(ctx, r)
	return err
}

func (t tee) WithAttrs(as []slog.Attr) slog.Handler {
	return tee{t.main.WithAttrs(as), t.scan.WithAttrs(as)}
}

func (t tee) WithGroup(name string) slog.Handler {
	return tee{t.main.WithGroup(name), t.scan.WithGroup(name)}
}
