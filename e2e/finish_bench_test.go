package e2e

import (
	"context"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"neurocards/config"
	"neurocards/keyboard"
	"neurocards/testkit/harness"
	"neurocards/testkit/kiefake"
	"neurocards/testkit/tgfake"
)

// BenchmarkFinishToChat measures how long a finished video waits before it reaches the seller's
// chat, and how often the bot reads each task from KIE, with 1,000 jobs in flight whose
// generation takes from 3 to 5 minutes, spread evenly — once with KIE calling back, once with
// polling only. The whole real stack runs against the fakes in this process, with Telegram's
// and KIE's spacing off.
//
//	go test -run '^$' -bench FinishToChat -benchtime 1x -timeout 30m ./e2e
//
// The run is in real time with every duration divided by NEUROCARDS_BENCH_SCALE (default 10):
// KIE's generation times and every wait the bot schedules (the poll backoff, the slow fallback
// poll, deadlines, status pacing). The delay is then the wait from KIE finishing to the read
// that saw it, multiplied back by the scale, plus the bot's own work after that read (download,
// upload, bbolt) as measured: that work is real time and is not scaled. NEUROCARDS_BENCH_SCALE=1
// runs the 3–5 minute jobs as they are; NEUROCARDS_BENCH_JOBS changes the number of jobs.
func BenchmarkFinishToChat(b *testing.B) {
	scale := benchEnv(b, "NEUROCARDS_BENCH_SCALE", 10)
	jobs := benchEnv(b, "NEUROCARDS_BENCH_JOBS", 1000)
	for _, mode := range []struct {
		name      string
		callbacks bool
	}{{"callbacks", true}, {"polling", false}} {
		b.Run(mode.name, func(b *testing.B) {
			var all finishRun
			for range b.N {
				all.add(runFinishToChat(b, jobs, scale, mode.callbacks))
			}
			p50, p95 := all.percentile(0.50), all.percentile(0.95)
			b.ReportMetric(p50.Seconds(), "p50-s")
			b.ReportMetric(p95.Seconds(), "p95-s")
			b.ReportMetric(all.readsPerJob(), "reads/job")
			b.ReportMetric(0, "ns/op")
			b.Logf("%s, %d jobs, scale %d: KIE finished → video in chat p50 %.2fs p95 %.2fs max %.2fs; bot's own work after the read p50 %v p95 %v; KIE reads per job %.1f (max %d); callbacks not answered 200: %d",
				mode.name, len(all.delays), scale, p50.Seconds(), p95.Seconds(), all.percentile(1).Seconds(),
				pct(all.work, 0.50).Round(time.Millisecond), pct(all.work, 0.95).Round(time.Millisecond), all.readsPerJob(), slices.Max(all.reads), all.refused)
		})
	}
}

// finishRun is what one run measured, per delivered job.
type finishRun struct {
	delays []time.Duration // KIE finished → video in chat, with the scheduled wait scaled back
	work   []time.Duration // the read that saw the end → video in chat (real time)
	reads  []int           // recordInfo calls for the job's task
	// refused counts callback deliveries the bot did not answer 200 (rate limit, not serving).
	refused int
}

func (r *finishRun) add(o finishRun) {
	r.delays = append(r.delays, o.delays...)
	r.work = append(r.work, o.work...)
	r.reads = append(r.reads, o.reads...)
	r.refused += o.refused
}

func (r *finishRun) percentile(p float64) time.Duration { return pct(r.delays, p) }

func (r *finishRun) readsPerJob() float64 {
	n := 0
	for _, v := range r.reads {
		n += v
	}
	return float64(n) / float64(len(r.reads))
}

func pct(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(p*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func benchEnv(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a whole number ≥ 1", name, v)
	}
	return n
}

// benchTiming is production's timing divided by scale, with the limits that would spread the
// load out switched off.
func benchTiming(scale int) func(*config.Config) {
	return func(c *config.Config) {
		prod := config.Defaults().Timing
		t := &c.Timing
		div := func(d time.Duration) time.Duration { return d / time.Duration(scale) }
		t.JobTimeout, t.KIEAttemptTimeout, t.UploadTimeout = div(prod.JobTimeout), div(prod.KIEAttemptTimeout), div(prod.UploadTimeout)
		t.PollMin, t.PollMax, t.PollSlow, t.PollDense = div(prod.PollMin), div(prod.PollMax), div(prod.PollSlow), div(prod.PollDense)
		for i, k := range config.DefaultKinds() {
			c.Kinds[i].ExpectedSeconds = int(k.Expected()/time.Second) / scale
		}
		t.RetryBase, t.RetryMax = div(prod.RetryBase), div(prod.RetryMax)
		t.StatusInterval, t.StatusTick = div(prod.StatusInterval), div(prod.StatusTick)
		t.DelayedRecheck = div(prod.DelayedRecheck)
		c.Limits.TelegramPerChat, c.Limits.TelegramPerSec = time.Microsecond, 1_000_000
		c.Limits.KIECreatePer10s, c.Limits.UpdatesPerMinute = 1_000_000, 1_000_000
		c.Limits.BreakerFailures = 1_000_000
	}
}

func runFinishToChat(b *testing.B, jobs, scale int, callbacks bool) finishRun {
	b.StopTimer()
	env, err := harness.Start(harness.Options{
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Callbacks: callbacks,
		Configure: benchTiming(scale),
	})
	if err != nil {
		b.Fatal(err)
	}
	defer env.Stop()
	lo, hi := 3*time.Minute/time.Duration(scale), 5*time.Minute/time.Duration(scale)
	env.KIE.Script(func(n int, _ string, _ map[string]any) kiefake.Script {
		spread := time.Duration(0)
		if jobs > 1 {
			spread = (hi - lo) * time.Duration((n-1)%jobs) / time.Duration(jobs-1)
		}
		return kiefake.Script{Forever: true, EndAfter: lo + spread, Callback: callbacks}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*config.Defaults().Timing.JobTimeout/time.Duration(scale)+5*time.Minute)
	defer cancel()
	sellers := make([]*tgfake.Seller, jobs)
	for i := range sellers {
		sellers[i] = env.Telegram.Seller(int64(20_000+i), "ru", "Bench")
		sellers[i].Send("/start")
	}
	b.StartTimer()
	// Every seller orders a video at once: kind, photo, no description, Generate.
	steps := []struct {
		want func(tgfake.Message) bool
		act  func(s *tgfake.Seller, m tgfake.Message) error
	}{
		{func(m tgfake.Message) bool { return m.Button(keyboard.Kind.Data("video")) != "" }, func(s *tgfake.Seller, _ tgfake.Message) error {
			_, err := s.Tap(keyboard.Kind.Data("video"))
			return err
		}},
		{func(m tgfake.Message) bool { return strings.Contains(m.Text, "📸") }, func(s *tgfake.Seller, _ tgfake.Message) error {
			s.SendPhoto(harness.Photo(400, 400), 400, 400, "")
			return nil
		}},
		{func(m tgfake.Message) bool { return m.Button(keyboard.Skip.Prefix()) != "" }, func(s *tgfake.Seller, m tgfake.Message) error {
			_, err := s.Tap(m.Button(keyboard.Skip.Prefix()))
			return err
		}},
		{func(m tgfake.Message) bool { return m.Button(keyboard.Generate.Prefix()) != "" }, func(s *tgfake.Seller, m tgfake.Message) error {
			_, err := s.Tap(m.Button(keyboard.Generate.Prefix()))
			return err
		}},
	}
	for _, step := range steps {
		for _, s := range sellers {
			m, err := s.Wait(ctx, step.want)
			if err != nil {
				b.Fatal(err)
			}
			if err := step.act(s, m); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := env.Telegram.WaitCalls(ctx, "sendVideo", jobs); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()

	tasks := map[string]kiefake.Task{}
	for _, t := range env.KIE.Tasks() {
		tasks[t.ID] = t
	}
	if len(tasks) != jobs {
		b.Fatalf("KIE tasks: %d for %d jobs", len(tasks), jobs)
	}
	var run finishRun
	for _, c := range env.Telegram.Calls("sendVideo") {
		if c.Status != 200 || len(c.Files) == 0 {
			continue
		}
		id, err := strconv.ParseUint(strings.TrimSuffix(c.Files[0].Name, ".mp4"), 10, 64)
		if err != nil {
			b.Fatalf("video file %q", c.Files[0].Name)
		}
		j, ok, err := env.App.Store.Job(id)
		if err != nil || !ok {
			b.Fatalf("job %d: %v", id, err)
		}
		t := tasks[j.TaskID]
		if t.EndedAt.IsZero() || t.SeenEnded.IsZero() {
			b.Fatalf("job %d delivered but its task %s did not end or was never seen ended", id, j.TaskID)
		}
		wait, work := t.SeenEnded.Sub(t.EndedAt), c.At.Sub(t.SeenEnded)
		run.delays = append(run.delays, wait*time.Duration(scale)+work)
		run.work = append(run.work, work)
		run.reads = append(run.reads, t.Polls)
	}
	if len(run.delays) != jobs {
		b.Fatalf("videos delivered: %d of %d", len(run.delays), jobs)
	}
	for _, cb := range env.KIE.Callbacks() {
		if cb.Status != 200 {
			run.refused++
		}
	}
	return run
}
