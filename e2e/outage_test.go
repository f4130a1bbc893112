package e2e

import (
	"strings"
	"testing"
	"time"

	"neurocards/config"
	"neurocards/messages"
	"neurocards/testkit/kiefake"
	"neurocards/testkit/tgfake"
)

// outageConfig makes breakers quick, so an outage of a couple of seconds spans several
// cooldowns, and retries slow enough to hold a job in its stage while the outage starts.
func outageConfig(c *config.Config) {
	c.Limits.BreakerFailures = 3
	c.Timing.BreakerCooldown = 300 * time.Millisecond
	c.Timing.DelayedRecheck = 100 * time.Millisecond
	c.Timing.RetryBase, c.Timing.RetryMax = 500*time.Millisecond, 500*time.Millisecond
}

// outage is how long an upstream stays down in these tests: several breaker cooldowns.
const outage = 2 * time.Second

// TestKIEOutageParksJobs: KIE answers every request with its proxy's 503 page (or refuses
// connections) for several breaker cooldowns while jobs are in flight in different stages — one
// polling its task, one waiting to create one, one about to download its result. No job fails
// and none uses an attempt on the outage; when KIE is back each is delivered, with one task each
// and no second upload of a photo that already has a task.
func TestKIEOutageParksJobs(t *testing.T) {
	for _, variant := range []string{"503 pages", "refused connections"} {
		t.Run(variant, func(t *testing.T) {
			b := start(t, outageConfig)
			b.KIE.Script(func(n int, _ string, _ map[string]any) kiefake.Script {
				if n == 1 {
					return kiefake.Script{Forever: true}
				}
				return kiefake.Script{}
			})
			polling, downloading, waiting := startSeller(t, b, 41, "ru"), startSeller(t, b, 42, "ru"), startSeller(t, b, 43, "en")
			statuses := map[*tgfake.Seller]tgfake.Message{}
			statuses[polling] = order(t, polling, "card", "Лампа")
			waitForJob(t, b, 41, "polling", func(j messages.Job) bool { return j.Stage == messages.StageSubmitted })
			b.KIE.FailFiles(1, 404)
			statuses[downloading] = order(t, downloading, "card", "Ваза")
			waitForJob(t, b, 42, "waiting to download again", func(j messages.Job) bool {
				return j.Stage == messages.StageGenerated && j.SendAttempts == 2
			})

			down := func(on bool) {
				if variant == "refused connections" {
					if err := b.KIE.SetRefusing(on); err != nil {
						t.Fatal(err)
					}
					return
				}
				var r *kiefake.Reply
				if on {
					r = &kiefake.Reply{HTTPStatus: 503, HTML: true}
				}
				b.KIE.SetOutage(r)
			}
			down(true)
			statuses[waiting] = order(t, waiting, "card", "Notebook")
			waiting.ExpectNew(t, wait, statuses[waiting].ID, "the delay notice", contains("⏸"))
			eventually(t, "the breaker to open", func() bool { return b.App.KIE.BreakerState() != "closed" })
			<-time.After(outage) // the outage goes on for several cooldowns
			down(false)
			if err := b.KIE.Finish(b.KIE.Tasks()[0].ID); err != nil {
				t.Fatal(err)
			}

			for s, status := range statuses {
				s.ExpectNew(t, wait, status.ID, "the card after KIE is back", isFile("sendPhoto"))
				statusSays(t, s, status.ID, map[bool]string{true: "Done", false: "Готово"}[s == waiting])
				if n := countFailures(s); n != 0 {
					t.Errorf("seller %d got %d failure messages", s.ID(), n)
				}
			}
			if n := len(b.KIE.Tasks()); n != 3 {
				t.Errorf("KIE tasks: %d, want one per job", n)
			}
			if n := len(b.KIE.Uploads()); n != 3 {
				t.Errorf("photos uploaded: %d, want one per job", n)
			}
			for uid, want := range map[int64][2]int{41: {1, 1}, 42: {1, 2}, 43: {1, 1}} {
				j := onlyJob(t, b, uid)
				if j.GenAttempts != want[0] || j.SendAttempts != want[1] || j.Outcome != messages.OutcomeDone {
					t.Errorf("job of %d: %s, attempts %d/%d, want %d/%d", uid, j.Outcome, j.GenAttempts, j.SendAttempts, want[0], want[1])
				}
			}
		})
	}
}

// TestTelegramOutageParksJobs: Telegram answers every call but getUpdates with nginx's 502 page
// for several cooldowns while jobs are in flight — one fetching the seller's photo, one sending
// its result. No job fails; when Telegram is back both are delivered and their statuses catch up.
func TestTelegramOutageParksJobs(t *testing.T) {
	b := start(t, outageConfig)
	fetching, sending := startSeller(t, b, 44, "ru"), startSeller(t, b, 45, "ru")
	b.KIE.Script(func(int, string, map[string]any) kiefake.Script { return kiefake.Script{Waiting: 3} })
	b.Telegram.Fail("sendPhoto", 45, 1, tgfake.Reply{Status: 400, Description: "Bad Request: wrong file identifier"})
	sendStatus := order(t, sending, "card", "Ваза")
	waitForJob(t, b, 45, "waiting to send again", func(j messages.Job) bool {
		return j.Stage == messages.StageDownloaded && j.SendAttempts == 2
	})
	b.Telegram.Fail("file", 0, 1, tgfake.Reply{Delay: 300 * time.Millisecond})
	fetchStatus := order(t, fetching, "card", "Лампа")

	b.Telegram.SetOutage(&tgfake.Reply{Status: 502, HTML: true})
	eventually(t, "the Telegram breaker to open", func() bool { return b.App.Telegram.BreakerState() != "closed" })
	<-time.After(outage)
	b.Telegram.SetOutage(nil)

	for s, status := range map[*tgfake.Seller]tgfake.Message{fetching: fetchStatus, sending: sendStatus} {
		s.ExpectNew(t, wait, status.ID, "the card after Telegram is back", isFile("sendPhoto"))
		statusSays(t, s, status.ID, "Готово")
		if n := countFailures(s); n != 0 {
			t.Errorf("seller %d got %d failure messages", s.ID(), n)
		}
	}
	if n := countSent(b, "sendPhoto"); n != 2 {
		t.Errorf("cards sent: %d, want 2", n)
	}
	for uid, sends := range map[int64]int{44: 1, 45: 2} {
		if j := onlyJob(t, b, uid); j.Outcome != messages.OutcomeDone || j.SendAttempts != sends || j.GenAttempts != 1 {
			t.Errorf("job of %d: %s, attempts %d/%d", uid, j.Outcome, j.GenAttempts, j.SendAttempts)
		}
	}
}

// TestFailureToldOnceTelegramIsBack: a job fails for a reason of its own (KIE refuses the photo)
// while Telegram is down; once Telegram is back the seller gets the failure message with its
// retry button, without a restart.
func TestFailureToldOnceTelegramIsBack(t *testing.T) {
	b := start(t, outageConfig)
	b.KIE.Script(func(int, string, map[string]any) kiefake.Script {
		return kiefake.Script{Forever: true, Outcome: kiefake.Outcome{Fail: true, FailCode: "400", FailMsg: "Your prompt was flagged by Website as violating content policies"}}
	})
	s := startSeller(t, b, 46, "ru")
	status := order(t, s, "card", "")
	waitForJob(t, b, 46, "polling", func(j messages.Job) bool { return j.Stage == messages.StageSubmitted })
	b.Telegram.SetOutage(&tgfake.Reply{Status: 502, HTML: true})
	if err := b.KIE.Finish(b.KIE.Tasks()[0].ID); err != nil {
		t.Fatal(err)
	}
	waitForJob(t, b, 46, "failed", func(j messages.Job) bool { return j.Terminal() })
	eventually(t, "Telegram to refuse the failure message", func() bool {
		for _, c := range b.Telegram.Calls("sendMessage") {
			if c.ChatID == 46 && c.Status == 502 && strings.Contains(c.Fields["text"], "фото") {
				return true
			}
		}
		return false
	})
	<-time.After(outage)
	b.Telegram.SetOutage(nil)
	failedWith(t, s, status.ID, "другое фото")
	statusSays(t, s, status.ID, "Не получилось")
	if n := countFailures(s); n != 1 {
		t.Errorf("failure messages: %d, want 1", n)
	}
	if got := b.ledger(46); got != "grant+20 hold(3) release(3)" {
		t.Errorf("ledger: %s", got)
	}
}

// TestOutagePastTheDeadlineFails: KIE stays down past the job's deadline: the job fails then,
// with its message and its credits back — waiting is not forever.
func TestOutagePastTheDeadlineFails(t *testing.T) {
	b := start(t, outageConfig, func(c *config.Config) { c.Timing.JobTimeout = 3 * time.Second })
	b.KIE.SetOutage(&kiefake.Reply{HTTPStatus: 503, HTML: true})
	s := startSeller(t, b, 47, "ru")
	status := order(t, s, "card", "")
	failedWith(t, s, status.ID, "слишком много времени")
	if got := b.ledger(47); got != "grant+20 hold(3) release(3)" {
		t.Errorf("ledger: %s", got)
	}
	if j := onlyJob(t, b, 47); j.GenAttempts != 1 || j.Failure.Reason != messages.ReasonTimeout {
		t.Errorf("job: attempts %d, failure %+v", j.GenAttempts, j.Failure)
	}
}
