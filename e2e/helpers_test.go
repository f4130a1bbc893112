// Package e2e drives the real wiring — go-telegram/bot, the actors, bbolt, the KIE client — through
// the fake Telegram and fake KIE servers, and asserts what a seller and an operator would notice.
package e2e

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"neurocards/config"
	"neurocards/keyboard"
	"neurocards/messages"
	"neurocards/store"
	"neurocards/testkit"
	"neurocards/testkit/harness"
	"neurocards/testkit/tgfake"
)

// wait is how long any one expectation may take; the fakes answer in milliseconds.
const wait = 15 * time.Second

type bot struct {
	*harness.Env
	t    *testing.T
	logs *testkit.Buffer
}

// start runs the bot against fresh fakes. configure may change the configuration.
func start(t *testing.T, configure ...func(*config.Config)) *bot {
	t.Helper()
	return startWith(t, harness.Options{}, configure...)
}

func startWith(t *testing.T, opt harness.Options, configure ...func(*config.Config)) *bot {
	t.Helper()
	logs := &testkit.Buffer{}
	opt.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opt.DataDir = t.TempDir()
	opt.Configure = func(c *config.Config) {
		for _, f := range configure {
			f(c)
		}
	}
	env, err := harness.Start(opt)
	if err != nil {
		t.Fatal(err)
	}
	b := &bot{Env: env, t: t, logs: logs}
	t.Cleanup(func() {
		if env.App != nil {
			b.checkLedger()
		}
		if err := env.Stop(); err != nil {
			t.Errorf("stopping the bot: %v", err)
		}
		if t.Failed() || os.Getenv("NEUROCARDS_TEST_LOGS") != "" {
			t.Logf("bot logs:\n%s", logs.String())
		}
	})
	return b
}

// checkLedger fails the test on any broken money invariant.
func (b *bot) checkLedger() {
	b.t.Helper()
	r, err := b.App.Store.Check()
	if err != nil {
		b.t.Fatalf("check: %v", err)
	}
	for _, v := range r.Violations {
		b.t.Errorf("ledger invariant: %s", v)
	}
}

func (b *bot) seller(id int64, lang string) *tgfake.Seller {
	return b.Telegram.Seller(id, lang, "Seller"+fmt.Sprint(id))
}

func (b *bot) user(id int64) store.User {
	b.t.Helper()
	u, ok, err := b.App.Store.User(id)
	if err != nil || !ok {
		b.t.Fatalf("user %d: ok=%v err=%v", id, ok, err)
	}
	return u
}

// ledger renders a user's rows oldest first, e.g. "grant+20 hold(10) capture-10".
func (b *bot) ledger(id int64) string {
	b.t.Helper()
	rows, err := b.App.Store.Ledger(id, 0)
	if err != nil {
		b.t.Fatal(err)
	}
	var out []string
	for i := len(rows) - 1; i >= 0; i-- {
		e := rows[i]
		switch e.Type {
		case store.EntryHold, store.EntryRelease:
			out = append(out, fmt.Sprintf("%s(%d)", e.Type, abs(e.Held)))
		default:
			out = append(out, fmt.Sprintf("%s%+d", e.Type, e.Amount))
		}
	}
	return strings.Join(out, " ")
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

func (b *bot) jobs(id int64) []messages.Job {
	b.t.Helper()
	jobs, err := b.App.Store.Jobs(id, 0)
	if err != nil {
		b.t.Fatal(err)
	}
	return jobs
}

func (b *bot) outputs() []string {
	entries, _ := os.ReadDir(b.App.OutputsDir())
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// Predicates over the messages a seller sees.

func hasButton(data string) func(tgfake.Message) bool {
	return func(m tgfake.Message) bool { return buttonData(m, data) != "" }
}

// buttonData returns the data of the first button whose data starts with prefix.
func buttonData(m tgfake.Message, prefix string) string { return m.Button(prefix) }

func contains(s string) func(tgfake.Message) bool {
	return func(m tgfake.Message) bool { return strings.Contains(m.Text+m.Caption, s) }
}

func isFile(method string) func(tgfake.Message) bool {
	return func(m tgfake.Message) bool { return m.Method == method && m.File != nil }
}

// tap taps a button the seller can see, failing the test if there is none.
func tap(t *testing.T, s *tgfake.Seller, data string) {
	t.Helper()
	if _, err := s.Tap(data); err != nil {
		t.Fatalf("tap %s: %v\n%s", data, err, s.Transcript())
	}
}

// tapPrefix taps the latest button whose data starts with prefix (data that carries a job id).
func tapPrefix(t *testing.T, s *tgfake.Seller, prefix string) {
	t.Helper()
	if _, err := s.TapPrefix(prefix); err != nil {
		t.Fatalf("tap %s…: %v\n%s", prefix, err, s.Transcript())
	}
}

// statusSays waits until the message with id shows text (edits included).
func statusSays(t *testing.T, s *tgfake.Seller, id int, text string) {
	t.Helper()
	s.ExpectUntil(t, wait, fmt.Sprintf("message %d to say %q", id, text), func(msgs []tgfake.Message) bool {
		for _, m := range msgs {
			if m.ID == id {
				return strings.Contains(m.Text, text)
			}
		}
		return false
	})
}

// order walks a seller from the menu to a tapped "Generate" and returns the status message.
func order(t *testing.T, s *tgfake.Seller, kind, product string) tgfake.Message {
	t.Helper()
	last := lastID(s)
	tap(t, s, keyboard.Kind.Data(kind))
	ask := s.ExpectNew(t, wait, last, "the photo request", contains("📸"))
	s.SendPhoto(harness.Photo(800, 1000), 800, 1000, "")
	askText := s.ExpectNew(t, wait, ask.ID, "the description request", hasButton(keyboard.Skip.Prefix()))
	if product == "" {
		tap(t, s, buttonData(askText, keyboard.Skip.Prefix()))
	} else {
		s.Send(product)
	}
	confirm := s.ExpectNew(t, wait, askText.ID, "the confirmation", hasButton(keyboard.Generate.Prefix()))
	tap(t, s, buttonData(confirm, keyboard.Generate.Prefix()))
	return s.ExpectNew(t, wait, confirm.ID, "the status message", hasButton(keyboard.Again.Prefix()+kind))
}

func lastID(s *tgfake.Seller) int {
	msgs := s.Messages()
	if len(msgs) == 0 {
		return 0
	}
	return msgs[len(msgs)-1].ID
}

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o600) }

func tgMessage(text string) tgfake.Message { return tgfake.Message{Text: text} }

// eventually waits until cond holds, for conditions the transcript does not show (the store,
// counters, a breaker); it checks every few milliseconds and fails the test after wait.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(wait)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("%s: not within %v", what, wait)
		}
	}
}

// startClocked runs the bot on a fake clock (b.Clock): backoffs, polls, deadlines and status
// edits happen only when the test advances it.
// The clock moves on while the bot talks to the fakes over HTTP, so by default a job has all
// the fake time it needs.
func startClocked(t *testing.T, configure ...func(*config.Config)) *bot {
	t.Helper()
	roomy := func(c *config.Config) { c.Timing.JobTimeout, c.Timing.KIEAttemptTimeout = 24*time.Hour, 24*time.Hour }
	return startWith(t, harness.Options{FakeClock: true}, append([]func(*config.Config){roomy}, configure...)...)
}

// advanceUntil moves the fake clock on by step until cond holds, letting the bot act on the
// timers each step fires; it fails the test if cond does not hold within wait (real time).
func advanceUntil(t *testing.T, b *bot, step time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v of real time (fake time %v)", what, wait, b.Clock.Now())
		}
		armed := b.Clock.Armed()
		b.Clock.Advance(step)
		select {
		case <-armed: // the bot armed its next timer: it acted on the ones that fired
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// saw reports whether the seller has a message from the bot that matches ok (edits included).
func saw(s *tgfake.Seller, ok func(tgfake.Message) bool) func() bool {
	return func() bool {
		for _, m := range s.Messages() {
			if ok(m) {
				return true
			}
		}
		return false
	}
}
