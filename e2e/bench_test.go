package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"neurocards/config"
	"neurocards/keyboard"
	"neurocards/testkit/harness"
	"neurocards/testkit/tgfake"
)

// BenchmarkPreCheckout measures how long a seller's pre_checkout_query waits for the bot's
// answer, through the real poller, router and gateway against the fake Telegram on loopback:
// from the update being queued at "Telegram" to answerPreCheckoutQuery arriving there.
//
//	go test -run '^$' -bench PreCheckout -benchtime 200x ./e2e
func BenchmarkPreCheckout(b *testing.B) {
	env, err := harness.Start(harness.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	defer env.Stop()
	s := env.Telegram.Seller(900, "ru", "Bench")
	pack := env.Config.Packs[0]
	var worst time.Duration
	b.ResetTimer()
	for i := range b.N {
		asked := time.Now()
		s.PreCheckout(fmt.Sprintf("pack:%s:%d", pack.ID, i), "XTR", pack.Stars)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := env.Telegram.WaitCalls(ctx, "answerPreCheckoutQuery", i+1)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		answers := env.Telegram.PreCheckoutAnswers()
		if !answers[i].OK {
			b.Fatalf("refused: %+v", answers[i])
		}
		worst = max(worst, answers[i].At.Sub(asked))
	}
	b.ReportMetric(float64(worst.Microseconds())/1000, "worst-ms")
}

// BenchmarkJobs measures whole orders per second through the real stack — poller, router,
// sessions, jobs, bbolt with fsync, the KIE client, the gateway — against the fakes on loopback,
// with 50 sellers ordering at once and Telegram's per-chat spacing off (the fakes answer at once,
// so this is the bot's own cost, not KIE's or Telegram's). Each op is one job from Generate to
// the delivered result; heap-MB is the live heap after the run.
//
//	go test -run '^$' -bench Jobs -benchtime 500x ./e2e
func BenchmarkJobs(b *testing.B) {
	env, err := harness.Start(harness.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Configure: func(c *config.Config) {
			c.Limits.JobsPerSeller, c.Limits.KIECreatePer10s, c.Limits.UpdatesPerMinute = 1000, 1_000_000, 1_000_000
			c.StartCredits = 1_000_000
		}})
	if err != nil {
		b.Fatal(err)
	}
	defer env.Stop()
	const sellers = 50
	var ss []*tgfake.Seller
	for i := range sellers {
		s := env.Telegram.Seller(int64(10_000+i), "ru", "Bench")
		s.Send("/start")
		ss = append(ss, s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// One delivered card per seller first: then "again" under it orders with no questions.
	for _, s := range ss {
		if _, err := s.Wait(ctx, func(m tgfake.Message) bool { return strings.Contains(m.Text, "Привет") }); err != nil {
			b.Fatal(err)
		}
		for _, step := range []func() error{
			func() error { _, err := s.Tap(keyboard.Kind.Data("card")); return err },
		} {
			if err := step(); err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, s := range ss {
		if _, err := s.Wait(ctx, func(m tgfake.Message) bool { return strings.Contains(m.Text, "📸") }); err != nil {
			b.Fatal(err)
		}
		s.SendPhoto(harness.Photo(400, 400), 400, 400, "")
	}
	for _, s := range ss {
		m, err := s.Wait(ctx, func(m tgfake.Message) bool { return buttonData(m, keyboard.Skip.Prefix()) != "" })
		if err != nil {
			b.Fatal(err)
		}
		s.Tap(buttonData(m, keyboard.Skip.Prefix()))
	}
	for _, s := range ss {
		m, err := s.Wait(ctx, func(m tgfake.Message) bool { return buttonData(m, keyboard.Generate.Prefix()) != "" })
		if err != nil {
			b.Fatal(err)
		}
		s.Tap(buttonData(m, keyboard.Generate.Prefix()))
	}
	delivered := func() int { return countFiles(ss) }
	for delivered() < sellers {
		if err := ss[0].WaitUntil(ctx, func([]tgfake.Message) bool { return true }); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, sellers)
	for i, s := range ss {
		n := b.N / sellers
		if i < b.N%sellers {
			n++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n {
				last := lastBotID(s)
				if _, err := s.TapPrefix(keyboard.Again.Prefix() + "card:"); err != nil {
					errs <- err
					return
				}
				// The next tap goes to the new job's button: one job per button, as a seller does.
				if _, err := s.WaitNew(ctx, last, func(m tgfake.Message) bool { return strings.Contains(m.Text, "Принял") }); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	if err := env.Telegram.WaitCalls(ctx, "sendPhoto", sellers+b.N); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "jobs/s")
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MB")
}

func lastBotID(s *tgfake.Seller) int {
	if m, ok := s.Last(); ok {
		return m.ID
	}
	return 0
}

func countFiles(ss []*tgfake.Seller) int {
	n := 0
	for _, s := range ss {
		for _, m := range s.BotMessages() {
			if m.File != nil {
				n++
			}
		}
	}
	return n
}
