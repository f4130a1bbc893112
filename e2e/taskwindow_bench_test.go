package e2e

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"neurocards/config"
	"neurocards/testkit/harness"
	"neurocards/testkit/kiefake"
	"neurocards/testkit/tgfake"
)

// BenchmarkTaskWindow measures how long KIE's answer to createTask is at risk of a crash, for
// every job of a burst — 50 sellers confirming at once, Telegram's and KIE's spacing off, the
// fakes in this process, the real bbolt file — up to the commit that stores the task id being
// fsynced: from the fake KIE flushing the answer (answer-p50/p99), and from the generator handing
// the id to the store as CreateTask returns (return-p50/p99; the rest is the answer reaching the
// generator). A kill inside the window makes the restarted bot pay KIE for a second task. Each op
// is one burst of 50 jobs, each delivered before the next burst.
//
//	go test -run '^$' -bench TaskWindow -benchtime 10x ./e2e
func BenchmarkTaskWindow(b *testing.B) {
	env, err := harness.Start(harness.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Configure: func(c *config.Config) {
			c.Limits.JobsPerSeller, c.Limits.KIECreatePer10s, c.Limits.UpdatesPerMinute = 1000, 1_000_000, 1_000_000
			c.Limits.TelegramPerChat, c.Limits.TelegramPerSec = time.Microsecond, 1_000_000
			c.StartCredits = 1_000_000
		}})
	if err != nil {
		b.Fatal(err)
	}
	defer env.Stop()
	var (
		mu       sync.Mutex
		answered = map[string]time.Time{} // task id → KIE's answer flushed
		returned = map[string]time.Time{} // task id → handed to the store as CreateTask returned
		saved    = map[string]time.Time{} // task id → its commit fsynced
	)
	env.KIE.OnCreateAnswered(func(a kiefake.Answered) {
		mu.Lock()
		answered[a.TaskID] = a.At
		mu.Unlock()
	})
	env.App.Store.OnTaskSaved(func(_ uint64, task string, asked time.Time) {
		at := time.Now()
		mu.Lock()
		saved[task], returned[task] = at, asked
		mu.Unlock()
	})

	const sellers = 50
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	ss := make([]*tgfake.Seller, sellers)
	for i := range ss {
		ss[i] = env.Telegram.Seller(int64(20_000+i), "ru", "Burst")
		ss[i].Send("/start")
	}
	// Every seller up to the confirmation: the first burst is 50 taps on "Generate".
	for _, step := range []struct {
		wait func(tgfake.Message) bool
		act  func(s *tgfake.Seller) error
	}{
		{func(m tgfake.Message) bool { return strings.Contains(m.Text, "Привет") }, func(s *tgfake.Seller) error { _, err := s.Tap("k:card"); return err }},
		{func(m tgfake.Message) bool { return strings.Contains(m.Text, "📸") }, func(s *tgfake.Seller) error {
			s.SendPhoto(harness.Photo(400, 400), 400, 400, "")
			return nil
		}},
		{func(m tgfake.Message) bool { return buttonData(m, "skip:") != "" }, func(s *tgfake.Seller) error { _, err := s.TapPrefix("skip:"); return err }},
		{func(m tgfake.Message) bool { return buttonData(m, "ok:") != "" }, nil},
	} {
		for _, s := range ss {
			if _, err := s.Wait(ctx, step.wait); err != nil {
				b.Fatal(err)
			}
			if step.act != nil {
				if err := step.act(s); err != nil {
					b.Fatal(err)
				}
			}
		}
	}

	b.ResetTimer()
	for burst := range b.N {
		// Later bursts: "again" under each seller's last result orders the same card at once.
		prefix := "ok:"
		if burst > 0 {
			prefix = "again:card:"
		}
		for _, s := range ss {
			if _, err := s.TapPrefix(prefix); err != nil {
				b.Fatal(err)
			}
		}
		if err := env.Telegram.WaitCalls(ctx, "sendPhoto", sellers*(burst+1)); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()

	mu.Lock()
	defer mu.Unlock()
	var fromAnswer, fromReturn []time.Duration
	for task, at := range answered {
		done, ok := saved[task]
		if !ok {
			b.Fatalf("task %s was answered but its id never saved", task)
		}
		fromAnswer = append(fromAnswer, done.Sub(at))
		if asked := returned[task]; !asked.IsZero() {
			fromReturn = append(fromReturn, done.Sub(asked))
		}
	}
	if len(fromAnswer) != sellers*b.N {
		b.Fatalf("%d windows for %d jobs", len(fromAnswer), sellers*b.N)
	}
	report := func(name string, ds []time.Duration) {
		if len(ds) == 0 {
			return
		}
		slices.Sort(ds)
		ms := func(q float64) float64 {
			return float64(ds[min(len(ds)-1, int(q*float64(len(ds))))].Microseconds()) / 1000
		}
		b.ReportMetric(ms(0.50), name+"-p50-ms")
		b.ReportMetric(ms(0.99), name+"-p99-ms")
	}
	report("answer", fromAnswer)
	report("return", fromReturn)
}
