package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"neurocards/chatpage"
	"neurocards/config"
	"neurocards/testkit/harness"
	"neurocards/testkit/tgfake"
)

// sandbox runs the real bot against the in-process fakes and plays a scripted seller through the
// whole flow for every kind, printing the conversation as it happens. It exits 0 when every step
// happened.
func sandbox(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	verbose := fs.Bool("v", false, "also print the bot's logs")
	dataDir := fs.String("data-dir", "", "keep the data here instead of a temporary directory")
	web := fs.Bool("web", false, "instead of the script, serve a chat page where you play the seller")
	addr := fs.String("addr", "127.0.0.1:8090", "with -web: the page's loopback address")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *web {
		if err := chatpage.CheckAddr(*addr); err != nil {
			fmt.Fprintf(stderr, "sandbox: %v\n", err)
			return 2
		}
	}
	// The conversation is printed from the fake's goroutine and the script's: one writer at a time.
	stdout = &lockedWriter{w: stdout}
	logOut := io.Discard
	if *verbose {
		logOut = stderr
	}
	env, err := harness.Start(harness.Options{
		DataDir: *dataDir,
		Logger:  slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelInfo})),
		Configure: func(c *config.Config) {
			if *web {
				chatpage.Configure(c)
				return
			}
			// Realistic pacing, but quick: the fake KIE answers in well under a second.
			c.Timing.PollMin, c.Timing.PollMax = 100*time.Millisecond, 300*time.Millisecond
			c.Timing.StatusInterval, c.Timing.StatusTick = 300*time.Millisecond, time.Second
			c.Limits.TelegramPerChat = 50 * time.Millisecond
		},
	})
	if err != nil {
		fmt.Fprintf(stderr, "sandbox: %v\n", err)
		return 1
	}
	defer env.Stop()

	p := &printer{w: stdout, start: time.Now()}
	env.Telegram.OnEvent(p.event)
	fmt.Fprintf(stdout, "neurocards sandbox: the real bot against a fake Telegram (%s) and a fake KIE (%s)\ndata: %s\n\n",
		env.Telegram.URL(), env.KIE.APIURL(), env.Config.DataDir)
	if *web {
		return servePage(ctx, env, *addr, stdout, stderr)
	}

	s := &script{env: env, out: stdout, ctx: ctx, timeout: 30 * time.Second}
	if err := s.play(); err != nil {
		fmt.Fprintf(stdout, "\n✗ sandbox failed: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "\n✓ every step happened\n")
	return 0
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// printer prints the conversation from the fake Telegram's point of view.
type printer struct {
	w     io.Writer
	start time.Time
}

func (p *printer) event(ev tgfake.Event) {
	at := fmt.Sprintf("%6.2fs", ev.At.Sub(p.start).Seconds())
	m := ev.Message
	switch ev.Kind {
	case "seller":
		fmt.Fprintf(p.w, "%s  seller ▶ %s\n", at, oneLine(ev.Text))
	case "seller.tap":
		fmt.Fprintf(p.w, "%s  seller ▶ [tap %s]\n", at, ev.Text)
	case "seller.pre_checkout", "seller.pay":
		fmt.Fprintf(p.w, "%s  seller ▶ %s\n", at, oneLine(ev.Text))
	case "bot.send":
		fmt.Fprintf(p.w, "%s  bot    ◀ %s%s\n", at, describe(m), buttons(m))
	case "bot.edit":
		fmt.Fprintf(p.w, "%s  bot    ✎ #%d %s\n", at, m.ID, oneLine(m.Text))
	case "bot.error":
		fmt.Fprintf(p.w, "%s  bot    ✗ %s\n", at, oneLine(ev.Text))
	}
}

func describe(m tgfake.Message) string {
	switch {
	case m.File != nil:
		return fmt.Sprintf("[%s %s, %d bytes] %s", strings.TrimPrefix(m.Method, "send"), m.File.Name, m.File.Size, oneLine(m.Caption))
	default:
		return oneLine(m.Text)
	}
}

func buttons(m tgfake.Message) string {
	var b []string
	for _, row := range m.Buttons {
		for _, btn := range row {
			b = append(b, "["+btn.Text+"]")
		}
	}
	if len(b) == 0 {
		return ""
	}
	return "  " + strings.Join(b, " ")
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ⏎ ")
	if r := []rune(s); len(r) > 160 {
		s = string(r[:160]) + "…"
	}
	return s
}

// script is the scripted seller.
type script struct {
	env     *harness.Env
	out     io.Writer
	ctx     context.Context
	timeout time.Duration
}

func (s *script) wait(sl *tgfake.Seller, after int, what string, pred func(tgfake.Message) bool) (tgfake.Message, error) {
	ctx, cancel := context.WithTimeout(s.ctx, s.timeout)
	defer cancel()
	m, err := sl.WaitNew(ctx, after, pred)
	if err != nil {
		return m, fmt.Errorf("waiting for %s: %w\n%s", what, err, sl.Transcript())
	}
	return m, nil
}

func hasButton(data string) func(tgfake.Message) bool {
	return func(m tgfake.Message) bool { return m.Button(data) == data }
}

func (s *script) play() error {
	sl := s.env.Telegram.Seller(4242, "ru", "Анна")
	fmt.Fprintln(s.out, "— a seller starts the bot —")
	sl.Send("/start")
	menu, err := s.wait(sl, 0, "the menu", hasButton("k:video"))
	if err != nil {
		return err
	}
	last := menu.ID
	for _, k := range s.env.Config.Kinds {
		fmt.Fprintf(s.out, "\n— %s: photo, description, confirmation, result —\n", k.TitleIn("en"))
		if last, err = s.order(sl, last, k); err != nil {
			return err
		}
	}
	fmt.Fprintln(s.out, "\n— 🔁 again: the same photo and text, no questions —")
	if _, err := sl.TapPrefix("again:card:"); err != nil {
		return err
	}
	if _, err = s.delivered(sl, last); err != nil {
		return err
	}
	u, _, err := s.env.App.Store.User(sl.ID())
	if err != nil {
		return err
	}
	rows, _ := s.env.App.Store.Ledger(sl.ID(), 0)
	fmt.Fprintf(s.out, "\nbalance at the end: %d credits (held %d); ledger:\n", u.Balance, u.Held)
	for i := len(rows) - 1; i >= 0; i-- {
		e := rows[i]
		fmt.Fprintf(s.out, "  %-8s %+4d  held %+4d  job %d\n", e.Type, e.Amount, e.Held, e.JobID)
	}
	report, err := s.env.App.Store.Check()
	if err != nil {
		return err
	}
	if len(report.Violations) > 0 {
		return fmt.Errorf("ledger check: %s", strings.Join(report.Violations, "; "))
	}
	left, _ := os.ReadDir(s.env.App.OutputsDir())
	if len(left) > 0 {
		return fmt.Errorf("%d result files left on disk after delivery", len(left))
	}
	fmt.Fprintf(s.out, "KIE tasks created: %d for %d jobs; invariants hold\n", s.env.KIE.CreateCalls(), report.Jobs)
	return nil
}

// order runs one kind from the menu to the delivered result.
func (s *script) order(sl *tgfake.Seller, after int, k config.Kind) (int, error) {
	if _, err := sl.Tap("k:" + k.ID); err != nil {
		return after, err
	}
	ask, err := s.wait(sl, after, "the photo request", func(m tgfake.Message) bool { return strings.Contains(m.Text, "фото") })
	if err != nil {
		return after, err
	}
	sl.SendPhoto(harness.Photo(900, 1200), 900, 1200, "")
	askText, err := s.wait(sl, ask.ID, "the description request", func(m tgfake.Message) bool { return m.Button("skip:") != "" })
	if err != nil {
		return after, err
	}
	sl.Send("Керамическая кружка 350 мл, матовая, ручная работа, в подарочной коробке")
	confirm, err := s.wait(sl, askText.ID, "the confirmation", func(m tgfake.Message) bool { return m.Button("ok:") != "" })
	if err != nil {
		return after, err
	}
	if _, err := sl.Tap(confirm.Button("ok:")); err != nil {
		return after, err
	}
	return s.delivered(sl, confirm.ID)
}

// delivered waits for the status message and then the result.
func (s *script) delivered(sl *tgfake.Seller, after int) (int, error) {
	status, err := s.wait(sl, after, "the status message", func(m tgfake.Message) bool { return strings.Contains(m.Text, "Принял") })
	if err != nil {
		return after, err
	}
	result, err := s.wait(sl, status.ID, "the result", func(m tgfake.Message) bool { return m.File != nil })
	if err != nil {
		return after, err
	}
	fmt.Fprintf(s.out, "        delivered %s (%d bytes)\n", result.File.Name, result.File.Size)
	// The hold is captured before the status says so: wait for it, then the balance is final.
	ctx, cancel := context.WithTimeout(s.ctx, s.timeout)
	defer cancel()
	err = sl.WaitUntil(ctx, func(msgs []tgfake.Message) bool {
		for _, m := range msgs {
			if m.ID == status.ID {
				return strings.Contains(m.Text, "Готово")
			}
		}
		return false
	})
	if err != nil {
		return after, fmt.Errorf("waiting for the status to say done: %w\n%s", err, sl.Transcript())
	}
	return result.ID, nil
}
