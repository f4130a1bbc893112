package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"neurocards/config"
	"neurocards/keyboard"
	"neurocards/messages"
	"neurocards/store"
	"neurocards/testkit/harness"
	"neurocards/testkit/kiefake"
	"neurocards/testkit/tgfake"
)

// Restarts in this file are graceful (harness.Env.Restart: the bot stops as on SIGTERM and starts
// again on the same data). The SIGKILL cases run against the built binary in testkit/torture.

// waitForJob polls the store until the seller's only job satisfies ok.
func waitForJob(t *testing.T, b *bot, uid int64, what string, ok func(messages.Job) bool) messages.Job {
	t.Helper()
	deadline := time.Now().Add(wait)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	var last []messages.Job
	for time.Now().Before(deadline) {
		jobs, err := b.App.Store.Jobs(uid, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) == 1 && ok(jobs[0]) {
			return jobs[0]
		}
		last = jobs
		<-tick.C
	}
	t.Fatalf("expected the job to be %s within %v; jobs: %+v", what, wait, last)
	return messages.Job{}
}

func restart(t *testing.T, b *bot) {
	t.Helper()
	if err := b.Restart(); err != nil {
		t.Fatal(err)
	}
}

// countSent counts the successful sends of a result file with the given method.
func countSent(b *bot, method string) int {
	n := 0
	for _, c := range b.Telegram.Calls(method) {
		if c.Status == 200 {
			n++
		}
	}
	return n
}

// TestJobResumesFromEachStage: a job interrupted by a restart in any stage carries on from that
// stage: one KIE task, one delivery, one capture, and the status message it posted first is the
// one that ends up saying it is done.
func TestJobResumesFromEachStage(t *testing.T) {
	for _, tc := range []struct {
		stage messages.Stage
		setup func(b *bot, uid int64)
		ready func(j messages.Job) bool    // the job has settled in the stage
		after func(b *bot, j messages.Job) // once the bot is back
	}{
		{
			stage: messages.StageUploading,
			setup: func(b *bot, uid int64) {
				// The photo download from Telegram hangs: the job sits in uploading.
				b.Telegram.Fail("file", 0, 1, tgfake.Reply{Delay: time.Minute})
			},
		},
		{
			stage: messages.StageSubmitted,
			setup: func(b *bot, uid int64) {
				b.KIE.Script(func(int, string, map[string]any) kiefake.Script { return kiefake.Script{Forever: true} })
			},
			after: func(b *bot, j messages.Job) {
				if err := b.KIE.Finish(j.TaskID); err != nil {
					b.t.Fatal(err)
				}
			},
		},
		{
			stage: messages.StageGenerated,
			setup: func(b *bot, uid int64) { b.KIE.FailFiles(1, 404) },
			ready: func(j messages.Job) bool { return j.SendAttempts == 2 },
		},
		{
			stage: messages.StageDownloaded,
			setup: func(b *bot, uid int64) {
				b.Telegram.Fail("sendPhoto", uid, 1, tgfake.Reply{Status: 400, Description: "Bad Request: wrong file identifier"})
			},
			ready: func(j messages.Job) bool { return j.SendAttempts == 2 },
		},
	} {
		t.Run(string(tc.stage), func(t *testing.T) {
			// The bot's clock is the test's: a job waiting to retry waits until the restart.
			b := startClocked(t)
			const uid = 601
			s := b.seller(uid, "ru")
			tc.setup(b, uid)
			s.Send("/start")
			s.Expect(t, wait, "the greeting", hasButton(keyboard.Kind.Data("card")))
			status := order(t, s, "card", "Свеча")
			inStage := func() bool {
				j := onlyJob(t, b, uid)
				return j.Stage == tc.stage && j.StatusMessageID != 0 && (tc.ready == nil || tc.ready(j))
			}
			advanceUntil(t, b, time.Second, string(tc.stage), inStage)
			j := onlyJob(t, b, uid)
			restart(t, b)
			if tc.after != nil {
				tc.after(b, j)
			}
			advanceUntil(t, b, time.Second, "the card", saw(s, isFile("sendPhoto")))
			advanceUntil(t, b, time.Second, "the status to say done", saw(s, func(m tgfake.Message) bool {
				return m.ID == status.ID && strings.Contains(m.Text, "Готово")
			}))
			done := waitForJob(t, b, uid, "done", func(j messages.Job) bool { return j.Terminal() })
			if done.Outcome != messages.OutcomeDone {
				t.Fatalf("job ended %s: %+v", done.Outcome, done.Failure)
			}
			if n := len(b.KIE.Tasks()); n != 1 {
				t.Errorf("KIE tasks: %d, want 1", n)
			}
			if n := countSent(b, "sendPhoto"); n != 1 {
				t.Errorf("cards delivered: %d, want 1", n)
			}
			if got := b.ledger(uid); got != "grant+20 hold(3) capture-3" {
				t.Errorf("ledger: %s", got)
			}
			if out := b.outputs(); len(out) != 0 {
				t.Errorf("result files left on disk: %v", out)
			}
		})
	}
}

// TestRedeliveredUpdatesHaveNoSecondEffect: Telegram delivers every update of two orders again —
// within the same run, after a restart, and after a crash that left every update handled but
// the offset not yet saved, so the poller passes them on and only the sessions can tell. Nothing
// happens twice: two jobs, two holds, two captures, no second reply.
func TestRedeliveredUpdatesHaveNoSecondEffect(t *testing.T) {
	b := start(t)
	const uid = 602
	s := b.seller(uid, "en")
	var ids []int64
	ids = append(ids, s.Send("/start"))
	menu := s.Expect(t, wait, "the greeting", hasButton(keyboard.Kind.Data("card")))
	id, _ := s.Tap(keyboard.Kind.Data("card"))
	ids = append(ids, id)
	ask := s.ExpectNew(t, wait, menu.ID, "the photo request", contains("📸"))
	ids = append(ids, s.SendPhoto(harness.Photo(700, 700), 700, 700, ""))
	askText := s.ExpectNew(t, wait, ask.ID, "the description request", hasButton(keyboard.Skip.Prefix()))
	ids = append(ids, s.Send("Soy candle"))
	confirm := s.ExpectNew(t, wait, askText.ID, "the confirmation", hasButton(keyboard.Generate.Prefix()))
	id, _ = s.Tap(buttonData(confirm, keyboard.Generate.Prefix()))
	ids = append(ids, id)
	card := s.ExpectNew(t, wait, confirm.ID, "the card", isFile("sendPhoto"))
	b.waitForJobs(uid, 1)
	id, _ = s.TapPrefix(keyboard.Again.Prefix() + "card:")
	ids = append(ids, id)
	s.ExpectNew(t, wait, card.ID, "the second card", isFile("sendPhoto"))
	b.waitForJobs(uid, 2)

	resendAll := func(when string) {
		t.Helper()
		before := len(s.BotMessages())
		for _, id := range ids {
			s.Resend(id)
		}
		// The seller's updates are handled in order and answered in order: once /balance is
		// answered, every resent update before it has been handled, and any answer to one of
		// them has arrived.
		s.Send("/balance")
		s.ExpectNew(t, wait, s.BotMessages()[before-1].ID, "the balance "+when, contains("💰"))
		if msgs := s.BotMessages(); len(msgs) != before+1 {
			t.Errorf("%s: the bot answered resent updates: %d new messages, the last %q", when, len(msgs)-before, msgs[len(msgs)-1].Text)
		}
		if len(b.jobs(uid)) != 2 || len(b.KIE.Tasks()) != 2 || countSent(b, "sendPhoto") != 2 {
			t.Errorf("%s: jobs %d, KIE tasks %d, cards %d; want 2 each", when, len(b.jobs(uid)), len(b.KIE.Tasks()), countSent(b, "sendPhoto"))
		}
		if got := b.ledger(uid); got != "grant+20 hold(3) capture-3 hold(3) capture-3" {
			t.Errorf("%s: ledger %s", when, got)
		}
	}
	resendAll("in the same run")
	restart(t, b)
	resendAll("after a restart")
	if err := b.RestartWith(forgetOffset); err != nil {
		t.Fatal(err)
	}
	resendAll("after a crash before the offset was saved")
}

// forgetOffset leaves the data as a crash after handling updates but before saving the offset
// does: every session has recorded its updates, the poller's offset has not.
func forgetOffset(dataDir string) error {
	db, err := bolt.Open(filepath.Join(dataDir, store.FileName), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("meta")).Delete([]byte("offset")) })
}

// waitForJobs waits until the seller has n jobs, all ended.
func (b *bot) waitForJobs(uid int64, n int) {
	b.t.Helper()
	deadline := time.Now().Add(wait)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(deadline) {
		jobs := b.jobs(uid)
		ended := 0
		for _, j := range jobs {
			if j.Terminal() {
				ended++
			}
		}
		if len(jobs) == n && ended == n {
			return
		}
		<-tick.C
	}
	b.t.Fatalf("expected %d ended jobs within %v; jobs: %+v", n, wait, b.jobs(uid))
}

// TestDoubleTapOnGenerateMakesOneJob: two taps on the same Generate, back to back, make one job
// and one hold; the second tap is told the job already started.
func TestDoubleTapOnGenerateMakesOneJob(t *testing.T) {
	b := start(t)
	const uid = 603
	s := b.seller(uid, "ru")
	s.Send("/start")
	menu := s.Expect(t, wait, "the greeting", hasButton(keyboard.Kind.Data("video")))
	tap(t, s, keyboard.Kind.Data("video"))
	ask := s.ExpectNew(t, wait, menu.ID, "the photo request", contains("📸"))
	s.SendPhoto(harness.Photo(700, 700), 700, 700, "")
	askText := s.ExpectNew(t, wait, ask.ID, "the description request", hasButton(keyboard.Skip.Prefix()))
	tap(t, s, buttonData(askText, keyboard.Skip.Prefix()))
	confirm := s.ExpectNew(t, wait, askText.ID, "the confirmation", hasButton(keyboard.Generate.Prefix()))
	ok := buttonData(confirm, keyboard.Generate.Prefix())
	tap(t, s, ok)
	tap(t, s, ok)
	s.ExpectNew(t, wait, confirm.ID, "the already-started answer", contains("уже запущено"))
	s.ExpectNew(t, wait, confirm.ID, "the video", isFile("sendVideo"))
	waitForJob(t, b, uid, "done", func(j messages.Job) bool { return j.Terminal() })
	if got := b.ledger(uid); got != "grant+20 hold(10) capture-10" {
		t.Errorf("ledger: %s", got)
	}
	if n := len(b.KIE.Tasks()); n != 1 {
		t.Errorf("KIE tasks: %d, want 1", n)
	}
}

// TestRetryBudgetSurvivesRestarts: a job whose every KIE task fails gets exactly
// NEUROCARDS_GEN_ATTEMPTS tasks, even when the bot restarts while it waits to retry.
// An attempt is counted when its retry is scheduled, with the state that schedules it, so a
// restart during the backoff does not buy the job another KIE task.
func TestRetryBudgetSurvivesRestarts(t *testing.T) {
	b := startClocked(t, func(c *config.Config) { c.Limits.GenAttempts = 2 })
	b.KIE.Script(func(int, string, map[string]any) kiefake.Script {
		return kiefake.Script{Outcome: kiefake.Outcome{Fail: true, FailCode: "500"}}
	})
	const uid = 604
	s := b.seller(uid, "ru")
	s.Send("/start")
	s.Expect(t, wait, "the greeting", hasButton(keyboard.Kind.Data("card")))
	status := order(t, s, "card", "")
	for n := 1; n <= 2; n++ {
		advanceUntil(t, b, time.Second, fmt.Sprintf("waiting to retry after task %d", n), func() bool {
			j := onlyJob(t, b, uid)
			return j.Failure != nil || (j.Stage == messages.StageQueued && j.TasksCreated == n)
		})
		restart(t, b)
	}
	advanceUntil(t, b, time.Second, "the failure", saw(s, contains("не справился")))
	failedWith(t, s, status.ID, "не справился")
	j := waitForJob(t, b, uid, "failed", func(j messages.Job) bool { return j.Terminal() })
	if n := len(b.KIE.Tasks()); n != 2 || j.Outcome != messages.OutcomeFailed {
		t.Errorf("KIE tasks: %d for a budget of 2 attempts; job %s after %d counted attempts", n, j.Outcome, j.GenAttempts)
	}
}

// TestFailureNoticeIsToldAgainAfterARestart: Telegram refuses the failure message with a 500;
// the job records nothing about telling the seller, so the next start tells them — once.
func TestFailureNoticeIsToldAgainAfterARestart(t *testing.T) {
	b := start(t)
	b.KIE.Script(func(int, string, map[string]any) kiefake.Script {
		return kiefake.Script{Waiting: 20, Outcome: kiefake.Outcome{Fail: true, FailCode: "400", FailMsg: "Your prompt was flagged by Website as violating content policies"}}
	})
	s := startSeller(t, b, 611, "ru")
	status := order(t, s, "card", "")
	// The next message to this chat is the failure explanation.
	b.Telegram.Fail("sendMessage", 611, 1, tgfake.Reply{Status: 500, Description: "Internal Server Error"})
	statusSays(t, s, status.ID, "Не получилось")
	eventually(t, "the job actor to stop", func() bool {
		return b.App.Metrics.Value("neurocards_jobs_finished_total", "kind", "card", "outcome", "failed") == 1
	})
	if n := countFailures(s); n != 0 {
		t.Fatalf("failure messages before the restart: %d", n)
	}
	restart(t, b)
	m := failedWith(t, s, status.ID, "другое фото")
	eventually(t, "the notice to be recorded as told", func() bool {
		jobs, err := b.App.Store.ActiveJobs()
		return err == nil && len(jobs) == 0
	})
	restart(t, b)
	s.Send("/balance")
	s.ExpectNew(t, wait, m.ID, "the balance", contains("💰"))
	if n := countFailures(s); n != 1 {
		t.Errorf("failure messages after another restart: %d, want 1", n)
	}
}

// TestStopDuringCreateTaskKeepsTheTask: the bot is stopped while KIE is answering createTask. KIE
// creates (and bills) the task anyway, so the stopping bot waits for the answer and records the
// task id; the next start polls that task instead of paying for a second one.
func TestStopDuringCreateTaskKeepsTheTask(t *testing.T) {
	b := start(t)
	b.KIE.Script(func(n int, _ string, _ map[string]any) kiefake.Script {
		if n == 1 {
			return kiefake.Script{AnswerDelay: 1500 * time.Millisecond}
		}
		return kiefake.Script{}
	})
	s := startSeller(t, b, 621, "ru")
	status := order(t, s, "card", "Свеча")
	eventually(t, "KIE to have created the task", func() bool { return len(b.KIE.Tasks()) == 1 })
	restart(t, b)
	s.ExpectNew(t, wait, status.ID, "the card after the restart", isFile("sendPhoto"))
	statusSays(t, s, status.ID, "Готово")
	if n := len(b.KIE.Tasks()); n != 1 {
		t.Errorf("KIE tasks: %d, want 1", n)
	}
	if j := onlyJob(t, b, 621); j.TasksCreated != 1 || j.GenAttempts != 1 {
		t.Errorf("job: tasks %d attempts %d", j.TasksCreated, j.GenAttempts)
	}
	if got := b.ledger(621); got != "grant+20 hold(3) capture-3" {
		t.Errorf("ledger: %s", got)
	}
}
