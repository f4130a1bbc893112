package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"neurocards/config"
	"neurocards/testkit/harness"
	"neurocards/testkit/kiefake"
	"neurocards/testkit/tgfake"
)

// BenchmarkBurst: 50 sellers confirm a video at the same moment, against a Telegram that enforces
// its limits (the fake answers 429 past 1 message a second to a chat or 30 a second overall) and a
// KIE that takes 1.5 s over a task. It reports the sellers' confirm → video wait, p50 and p95 over
// every iteration, the 429s Telegram answered, and the sellers told their job failed (which must
// be none). The bot's timing is its defaults (KIE read after 2 s, status edits at most every 3 s,
// the elapsed time moving every 15 s) and KIE's createTask limit is raised, so the queue for KIE
// plays no part.
//
//	go test -run '^$' -bench 'Burst$' -benchtime 3x ./e2e
func BenchmarkBurst(b *testing.B) { benchBurst(b, 0) }

// BenchmarkBurstWhileBusy is the same burst arriving while the bot carries 1,000 other jobs that
// KIE takes half an hour over, just after a restart: each of them edits its status message at
// once, then every 15 s as its elapsed time moves — about 67 edits a second asked of a budget of
// 30 messages. The burst's status messages and videos compete with those edits.
//
//	go test -run '^$' -bench BurstWhileBusy -benchtime 1x ./e2e
func BenchmarkBurstWhileBusy(b *testing.B) { benchBurst(b, 1000) }

func benchBurst(b *testing.B, busy int) {
	const sellers = 50
	var waits []time.Duration
	refused, failed := 0, 0
	for range b.N {
		b.StopTimer()
		w, r, f := burst(b, sellers, busy)
		waits = append(waits, w...)
		refused += r
		failed += f
	}
	slices.Sort(waits)
	at := func(q float64) float64 { return waits[min(len(waits)-1, int(q*float64(len(waits))))].Seconds() }
	b.ReportMetric(at(0.50), "p50-s")
	b.ReportMetric(at(0.95), "p95-s")
	b.ReportMetric(waits[len(waits)-1].Seconds(), "max-s")
	b.ReportMetric(float64(refused)/float64(b.N), "429s/op")
	b.ReportMetric(float64(failed)/float64(b.N), "failed/op")
	if failed > 0 {
		b.Errorf("%d sellers were told their job failed", failed)
	}
}

// burst plays one burst on a fresh bot and returns each seller's confirm → video wait, how many
// calls Telegram refused with 429, and how many sellers were told their job failed. With busy
// sellers, they order long jobs first and every seller is brought to the confirmation with
// Telegram's limits off; then the bot restarts with them on, and the burst confirms.
func burst(b *testing.B, sellers, busy int) (waits []time.Duration, refused, failed int) {
	defaults := config.Defaults()
	env, err := harness.Start(harness.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Configure: func(c *config.Config) {
			c.Limits.TelegramPerChat, c.Limits.TelegramPerSec = time.Second, 30
			if busy > 0 {
				c.Limits.TelegramPerChat, c.Limits.TelegramPerSec = 10*time.Millisecond, 1000
			}
			c.Limits.KIECreatePer10s = 100_000
			c.Timing.PollMin, c.Timing.PollMax = defaults.Timing.PollMin, defaults.Timing.PollMax
			c.Timing.StatusInterval, c.Timing.StatusTick = defaults.Timing.StatusInterval, defaults.Timing.StatusTick
			c.Timing.JobTimeout = time.Hour
			c.Timing.KIEAttemptTimeout = time.Hour
		}})
	if err != nil {
		b.Fatal(err)
	}
	defer env.Stop()
	env.KIE.Script(func(n int, _ string, _ map[string]any) kiefake.Script {
		if n <= busy {
			return kiefake.Script{Forever: true, EndAfter: 30 * time.Minute}
		}
		return kiefake.Script{Forever: true, EndAfter: 1500 * time.Millisecond}
	})
	limits := tgfake.Limits{PerChat: 1, PerChatWindow: time.Second, Global: 30, GlobalWindow: time.Second}
	if busy == 0 {
		env.Telegram.EnforceLimits(limits)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	step := func(s *tgfake.Seller, what string, pred func(tgfake.Message) bool, then func(tgfake.Message)) {
		m, err := s.Wait(ctx, pred)
		if err != nil {
			b.Fatalf("seller %d: %s: %v\n%s", s.ID(), what, err, s.Transcript())
		}
		then(m)
	}
	// toConfirmation brings sellers to the confirmation and returns its button's data.
	toConfirmation := func(ss []*tgfake.Seller) []string {
		for _, s := range ss {
			s.Send("/start")
		}
		for _, s := range ss {
			step(s, "the greeting", hasButton("k:video"), func(tgfake.Message) { s.Tap("k:video") })
		}
		for _, s := range ss {
			step(s, "the photo request", contains("📸"), func(tgfake.Message) { s.SendPhoto(harness.Photo(640, 800), 640, 800, "") })
		}
		for _, s := range ss {
			step(s, "the description request", hasButton("skip:"), func(m tgfake.Message) { s.Tap(buttonData(m, "skip:")) })
		}
		oks := make([]string, len(ss))
		for i, s := range ss {
			step(s, "the confirmation", hasButton("ok:"), func(m tgfake.Message) { oks[i] = buttonData(m, "ok:") })
		}
		return oks
	}
	sellersFrom := func(first int64, n int) []*tgfake.Seller {
		ss := make([]*tgfake.Seller, n)
		for i := range ss {
			ss[i] = env.Telegram.Seller(first+int64(i), "ru", "Burst")
		}
		return ss
	}
	began := time.Now()
	if busy > 0 {
		others := sellersFrom(30_000, busy)
		for i, ok := range toConfirmation(others) {
			others[i].Tap(ok)
		}
		if err := env.KIE.WaitTasks(ctx, busy); err != nil {
			b.Fatal(err)
		}
	}
	ss := sellersFrom(20_000, sellers)
	oks := toConfirmation(ss)
	b.Logf("%d busy jobs waiting, %d sellers at the confirmation after %v", busy, sellers, time.Since(began).Round(time.Second))
	if busy > 0 {
		env.Config.Limits.TelegramPerChat, env.Config.Limits.TelegramPerSec = time.Second, 30
		if err := env.Restart(); err != nil {
			b.Fatal(err)
		}
		env.Telegram.EnforceLimits(limits)
		b.Logf("restarted after %v", time.Since(began).Round(time.Second))
	}
	// Everything before Generate has been sent; what Telegram counts from here is the burst.
	before := env.Telegram.Count429()
	b.StartTimer()
	confirmed := make([]time.Time, sellers)
	for i, s := range ss {
		confirmed[i] = time.Now()
		if _, err := s.Tap(oks[i]); err != nil {
			b.Fatal(err)
		}
	}
	for i, s := range ss {
		step(s, "the video", func(m tgfake.Message) bool { return isFile("sendVideo")(m) || buttonData(m, "retry:") != "" }, func(m tgfake.Message) {
			if m.File == nil {
				failed++
				return
			}
			waits = append(waits, m.SentAt.Sub(confirmed[i]))
		})
	}
	b.StopTimer()
	refused = env.Telegram.Count429() - before
	if err := env.StopBot(); err != nil {
		b.Fatal(fmt.Errorf("stopping the bot: %w", err))
	}
	return waits, refused, failed
}
