package e2e

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"neurocards/actors"
	"neurocards/config"
	"neurocards/keyboard"
	"neurocards/messages"
	"neurocards/testkit/harness"
	"neurocards/testkit/kiefake"
	"neurocards/testkit/tgfake"
)

// failed waits for the one failure message of a job and returns it.
func failedWith(t *testing.T, s *tgfake.Seller, after int, text string) tgfake.Message {
	t.Helper()
	m := s.ExpectNew(t, wait, after, "the failure message", contains(text))
	if buttonData(m, keyboard.Retry.Prefix()) == "" {
		t.Errorf("failure message has no retry button: %+v", m.Buttons)
	}
	if !strings.Contains(m.Text, "вернулись на баланс") && !strings.Contains(m.Text, "returned to your balance") {
		t.Errorf("failure message does not say the credits are back: %q", m.Text)
	}
	return m
}

// countFailures counts the failure messages (the ones with a retry button) a seller got.
func countFailures(s *tgfake.Seller) int {
	n := 0
	for _, m := range s.BotMessages() {
		if buttonData(m, keyboard.Retry.Prefix()) != "" {
			n++
		}
	}
	return n
}

func onlyJob(t *testing.T, b *bot, uid int64) messages.Job {
	t.Helper()
	jobs := b.jobs(uid)
	if len(jobs) != 1 {
		t.Fatalf("jobs: %d, want 1", len(jobs))
	}
	return jobs[0]
}

func startSeller(t *testing.T, b *bot, uid int64, lang string) *tgfake.Seller {
	t.Helper()
	s := b.seller(uid, lang)
	s.Send("/start")
	s.Expect(t, wait, "the greeting", hasButton(keyboard.Kind.Data("video")))
	return s
}

func TestCreateTaskFailsTwiceThenWorks(t *testing.T) {
	b := start(t)
	b.KIE.Script(func(n int, _ string, _ map[string]any) kiefake.Script {
		if n <= 2 {
			return kiefake.Script{CreateReply: &kiefake.Reply{Code: 500, Msg: "Internal Error, Please try again later."}}
		}
		return kiefake.Script{}
	})
	s := startSeller(t, b, 1, "ru")
	status := order(t, s, "video", "Рюкзак")
	s.ExpectNew(t, wait, status.ID, "the video", isFile("sendVideo"))
	statusSays(t, s, status.ID, "Готово")
	if n := b.KIE.CreateCalls(); n != 3 {
		t.Errorf("createTask calls: %d, want 3", n)
	}
	if got := b.ledger(1); got != "grant+20 hold(10) capture-10" {
		t.Errorf("ledger: %s", got)
	}
	if j := onlyJob(t, b, 1); j.GenAttempts != 3 || j.Outcome != messages.OutcomeDone {
		t.Errorf("job: attempts %d outcome %s", j.GenAttempts, j.Outcome)
	}
	if n := countFailures(s); n != 0 {
		t.Errorf("failure messages: %d", n)
	}
}

func TestContentPolicyTellsTheSellerToChangeThePhoto(t *testing.T) {
	b := start(t)
	b.KIE.Script(func(int, string, map[string]any) kiefake.Script {
		return kiefake.Script{Outcome: kiefake.Outcome{Fail: true, FailCode: "400", FailMsg: "Your prompt was flagged by Website as violating content policies"}}
	})
	s := startSeller(t, b, 2, "ru")
	status := order(t, s, "video", "Футболка с принтом")
	m := failedWith(t, s, status.ID, "другое фото")
	statusSays(t, s, status.ID, "Не получилось")
	if got := b.ledger(2); got != "grant+20 hold(10) release(10)" {
		t.Errorf("ledger: %s", got)
	}
	if n := len(b.KIE.Tasks()); n != 1 {
		t.Errorf("KIE tasks: %d, want 1", n)
	}
	j := onlyJob(t, b, 2)
	if j.Failure == nil || j.Failure.Class != messages.User || j.Failure.Reason != messages.ReasonContentPolicy {
		t.Errorf("job failure: %+v", j.Failure)
	}

	// Retry starts a new job with the same photo and text — once, however often it is tapped.
	b.KIE.Script(nil)
	retry := buttonData(m, keyboard.Retry.Prefix())
	tap(t, s, retry)
	status2 := s.ExpectNew(t, wait, m.ID, "the new status", contains("Принял"))
	tap(t, s, retry)
	s.ExpectNew(t, wait, status2.ID, "the retried video", isFile("sendVideo"))
	statusSays(t, s, status2.ID, "Готово")
	jobs := b.jobs(2)
	if len(jobs) != 2 || jobs[0].RetryOf != j.ID || jobs[0].Photo.FileID != j.Photo.FileID || jobs[0].Product != j.Product {
		t.Fatalf("retried job: %+v", jobs)
	}
	if got := b.ledger(2); got != "grant+20 hold(10) release(10) hold(10) capture-10" {
		t.Errorf("ledger after retry: %s", got)
	}
}

func TestTaskStuckPastEveryAttemptDeadline(t *testing.T) {
	b := start(t, func(c *config.Config) { c.Timing.KIEAttemptTimeout = 300 * time.Millisecond })
	b.KIE.Script(func(int, string, map[string]any) kiefake.Script { return kiefake.Script{Forever: true} })
	s := startSeller(t, b, 3, "en")
	status := order(t, s, "card", "Scented candle")
	failedWith(t, s, status.ID, "took too long")
	if n := len(b.KIE.Tasks()); n != 3 {
		t.Errorf("KIE tasks: %d, want 3 (one per attempt)", n)
	}
	if got := b.ledger(3); got != "grant+20 hold(3) release(3)" {
		t.Errorf("ledger: %s", got)
	}
	if j := onlyJob(t, b, 3); j.GenAttempts != 3 || j.Failure.Reason != messages.ReasonTimeout {
		t.Errorf("job: attempts %d failure %+v", j.GenAttempts, j.Failure)
	}
}

func TestKIERefusesTheKey(t *testing.T) {
	for _, code := range []int{401, 402} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			b := start(t)
			b.KIE.Script(func(int, string, map[string]any) kiefake.Script {
				return kiefake.Script{CreateReply: &kiefake.Reply{Code: code}}
			})
			s := startSeller(t, b, 4, "ru")
			status := order(t, s, "video", "Часы")
			failedWith(t, s, status.ID, "временно недоступна")
			if n := b.KIE.CreateCalls(); n != 1 {
				t.Errorf("createTask calls: %d, want 1 (no retry storm)", n)
			}
			if got := b.ledger(4); got != "grant+20 hold(10) release(10)" {
				t.Errorf("ledger: %s", got)
			}
			// The operator sees an ERROR naming the job and KIE's code.
			eventually(t, "the operator log", func() bool {
				return strings.Contains(b.logs.String(), fmt.Sprintf("level=ERROR msg=\"job failed\" job_id=%d", onlyJob(t, b, 4).ID)) &&
					strings.Contains(b.logs.String(), fmt.Sprintf("code=%d", code))
			})
			if n := b.App.Metrics.Value("neurocards_job_failures_total", "class", "operator", "reason", "unavailable"); n != 1 {
				t.Errorf("operator failures counted: %v", n)
			}
			if strings.Contains(b.logs.String(), harness.KIEKey) {
				t.Error("the KIE key appears in the logs")
			}
		})
	}
}

// TestKIEDownThenBack: while KIE is unreachable the breaker opens, jobs wait in the queue without
// spending attempts, each seller is told once, and everything is delivered when KIE is back.
func TestKIEDownThenBack(t *testing.T) {
	b := start(t, func(c *config.Config) {
		c.Limits.BreakerFailures = 3
		c.Timing.BreakerCooldown = 200 * time.Millisecond
	})
	b.KIE.SetDown(true)
	sellers := []*tgfake.Seller{startSeller(t, b, 51, "ru"), startSeller(t, b, 52, "en")}
	var statuses []tgfake.Message
	for _, s := range sellers {
		statuses = append(statuses, order(t, s, "card", "Блокнот"))
	}
	for i, s := range sellers {
		s.ExpectNew(t, wait, statuses[i].ID, "the delay notice", func(m tgfake.Message) bool {
			return strings.Contains(m.Text, "⏸") && m.ID != statuses[i].ID
		})
	}
	s0 := sellers[0]
	eventually(t, "the breaker to open", func() bool { return b.App.KIE.BreakerState() != "closed" })
	statusSays(t, s0, statuses[0].ID, "Ждём сервис")

	b.KIE.SetDown(false)
	for i, s := range sellers {
		s.ExpectNew(t, wait, statuses[i].ID, "the card after KIE is back", isFile("sendPhoto"))
		notices := 0
		for _, m := range s.BotMessages() {
			if strings.HasPrefix(m.Text, "⏸") {
				notices++
			}
		}
		if notices != 1 {
			t.Errorf("seller %d got %d delay notices, want 1", s.ID(), notices)
		}
		if n := countFailures(s); n != 0 {
			t.Errorf("seller %d got %d failure messages", s.ID(), n)
		}
	}
	for _, uid := range []int64{51, 52} {
		j := onlyJob(t, b, uid)
		if j.GenAttempts != 1 || !j.DelayNotified {
			t.Errorf("job of %d: attempts %d delay notified %v", uid, j.GenAttempts, j.DelayNotified)
		}
	}
	if n := len(b.KIE.Tasks()); n != 2 {
		t.Errorf("KIE tasks: %d, want 2", n)
	}
}

func TestResultDownloadFailsOnce(t *testing.T) {
	b := start(t)
	b.KIE.FailFiles(1, 503)
	s := startSeller(t, b, 6, "ru")
	status := order(t, s, "video", "Зонт")
	s.ExpectNew(t, wait, status.ID, "the video", isFile("sendVideo"))
	statusSays(t, s, status.ID, "Готово")
	if n := len(b.KIE.Tasks()); n != 1 {
		t.Errorf("KIE tasks: %d, want 1", n)
	}
	// A 503 from the result's host is an outage, not this job's failure: it uses no attempt.
	if j := onlyJob(t, b, 6); j.SendAttempts != 1 || j.GenAttempts != 1 {
		t.Errorf("attempts: generation %d delivery %d", j.GenAttempts, j.SendAttempts)
	}
}

func TestSendVideo429WaitsRetryAfter(t *testing.T) {
	b := start(t)
	s := startSeller(t, b, 7, "ru")
	b.Telegram.Fail("sendVideo", 7, 1, tgfake.Reply{Status: 429, Description: "Too Many Requests: retry after 2", RetryAfter: 2})
	status := order(t, s, "video", "Кеды")
	video := s.ExpectNew(t, wait, status.ID, "the video", isFile("sendVideo"))
	var refused time.Time
	for _, c := range b.Telegram.Calls("sendVideo") {
		if c.Status == 429 {
			refused = c.At
		}
	}
	if refused.IsZero() {
		t.Fatal("the fake never answered 429")
	}
	if gap := video.SentAt.Sub(refused); gap < 2*time.Second {
		t.Errorf("resent %v after the 429, want ≥ 2s", gap)
	}
	statusSays(t, s, status.ID, "Готово")
	if n := len(b.KIE.Tasks()); n != 1 {
		t.Errorf("KIE tasks: %d, want 1", n)
	}
	if countFailures(s) != 0 {
		t.Error("a 429 reached the seller as a failure")
	}
}

func TestSendVideo400ThreeTimes(t *testing.T) {
	b := start(t)
	s := startSeller(t, b, 8, "en")
	b.Telegram.Fail("sendVideo", 8, 3, tgfake.Reply{Status: 400, Description: "Bad Request: wrong file identifier/HTTP URL specified"})
	status := order(t, s, "video", "Sneakers")
	failedWith(t, s, status.ID, "Telegram did not accept the file")
	if n := b.Telegram.CountCalls("sendVideo", 8); n != 3 {
		t.Errorf("sendVideo calls: %d, want 3", n)
	}
	if n := len(b.KIE.Tasks()); n != 1 {
		t.Errorf("KIE tasks: %d, want 1 (a failed delivery never re-generates)", n)
	}
	if got := b.ledger(8); got != "grant+20 hold(10) release(10)" {
		t.Errorf("ledger: %s", got)
	}
	if out := b.outputs(); len(out) != 0 {
		t.Errorf("result files left on disk: %v", out)
	}
}

func TestSellerBlockedTheBot(t *testing.T) {
	b := start(t)
	s := startSeller(t, b, 9, "ru")
	status := order(t, s, "video", "Сумка")
	b.Telegram.Block(9)
	eventually(t, "the job to end", func() bool { return onlyJob(t, b, 9).Terminal() })
	j := onlyJob(t, b, 9)
	if j.Outcome != messages.OutcomeFailed || j.Failure.Reason != messages.ReasonBlocked {
		t.Fatalf("job: %s %+v", j.Outcome, j.Failure)
	}
	if !b.user(9).Blocked {
		t.Error("the seller is not marked blocked")
	}
	if got := b.ledger(9); got != "grant+20 hold(10) release(10)" {
		t.Errorf("ledger: %s", got)
	}
	refused := 0
	var first time.Time
	for _, c := range b.Telegram.Calls("") {
		if c.ChatID == 9 && c.Status == 403 {
			refused++
			if first.IsZero() {
				first = c.At
			}
		}
	}
	if refused != 1 {
		t.Errorf("calls refused with 403: %d, want 1 (nothing sent after the first)", refused)
	}
	for _, m := range s.BotMessages() {
		if m.ID > status.ID && m.SentAt.After(first) {
			t.Errorf("sent to a seller who blocked the bot: %+v", m)
		}
	}

	// Writing again unblocks.
	b.Telegram.Unblock(9)
	s.Send("/start")
	s.ExpectNew(t, wait, status.ID, "the greeting after unblocking", contains("с возвращением"))
	if b.user(9).Blocked {
		t.Error("still marked blocked after writing to the bot")
	}
}

func TestWholeJobDeadline(t *testing.T) {
	b := startClocked(t, func(c *config.Config) {
		c.Timing.JobTimeout, c.Timing.KIEAttemptTimeout = 30*time.Minute, 10*time.Minute
	})
	b.KIE.Script(func(int, string, map[string]any) kiefake.Script { return kiefake.Script{Forever: true} })
	s := startSeller(t, b, 10, "ru")
	status := order(t, s, "video", "Ваза")
	waitForJob(t, b, 10, "the task created", func(j messages.Job) bool { return j.Stage == messages.StageSubmitted })
	// Two attempts of ten minutes, then the job's own deadline in the third.
	advanceUntil(t, b, time.Minute, "the deadline", saw(s, contains("слишком много времени")))
	failedWith(t, s, status.ID, "слишком много времени")
	if got := b.ledger(10); got != "grant+20 hold(10) release(10)" {
		t.Errorf("ledger: %s", got)
	}
	if j := onlyJob(t, b, 10); j.Failure.Reason != messages.ReasonTimeout || j.GenAttempts != 3 || j.FinishedAt.Sub(j.CreatedAt) < 30*time.Minute {
		t.Errorf("job: attempts %d failure %+v, ended %v after it began", j.GenAttempts, j.Failure, j.FinishedAt.Sub(j.CreatedAt))
	}
}

// TestPanicInGenerator: a panic fails only that job, with an apology and the credits back;
// another seller's job in flight is delivered.
func TestPanicInGenerator(t *testing.T) {
	var mu sync.Mutex
	victim := uint64(0)
	b := startWith(t, harness.Options{Hooks: actors.Hooks{BeforeGenerate: func(jobID uint64) {
		mu.Lock()
		defer mu.Unlock()
		if victim == 0 {
			victim = jobID
		}
		if jobID == victim {
			panic("injected fault in the generator")
		}
	}}})
	b.KIE.Script(func(int, string, map[string]any) kiefake.Script { return kiefake.Script{Waiting: 5, Generating: 5} })
	bad, good := startSeller(t, b, 11, "ru"), startSeller(t, b, 12, "ru")
	badStatus := order(t, bad, "video", "Кружка")
	goodStatus := order(t, good, "video", "Чайник")
	failedWith(t, bad, badStatus.ID, "Простите")
	good.ExpectNew(t, wait, goodStatus.ID, "the other seller's video", isFile("sendVideo"))
	if got := b.ledger(11); got != "grant+20 hold(10) release(10)" {
		t.Errorf("ledger of the victim: %s", got)
	}
	statusSays(t, good, goodStatus.ID, "Готово")
	if got := b.ledger(12); got != "grant+20 hold(10) capture-10" {
		t.Errorf("ledger of the other seller: %s", got)
	}
	if j := onlyJob(t, b, 11); j.Failure.Class != messages.Internal {
		t.Errorf("victim's failure: %+v", j.Failure)
	}
	// The bot keeps serving.
	bad.Send("/balance")
	bad.Expect(t, wait, "the balance after the panic", contains("Баланс: 20 кредитов"))
}

// TestBurstUnderTelegramLimits: 50 sellers at once against a Telegram that enforces 1 message
// a second per chat and 30 a second overall. The gateway paces what it sends under the limits;
// Telegram measures arrivals, which jitter (more on a busy machine), so some messages still
// meet a 429 — a few percent, against a third or more from a gateway that does not pace — and
// every one of those is waited out for its retry_after and sent again. No 429 reaches a seller
// as a failure and every job is delivered.
func TestBurstUnderTelegramLimits(t *testing.T) {
	const sellers = 50
	b := start(t, func(c *config.Config) {
		c.Limits.TelegramPerChat = time.Second
		c.Limits.TelegramPerSec = 30
		c.Limits.KIECreatePer10s = 1000
		c.Timing.StatusInterval = 3 * time.Second
		c.Timing.StatusTick = 15 * time.Second
		c.Timing.JobTimeout = 2 * time.Minute
	})
	b.Telegram.EnforceLimits(tgfake.Limits{PerChat: 1, PerChatWindow: time.Second, Global: 30, GlobalWindow: time.Second})
	var ss []*tgfake.Seller
	for i := range sellers {
		s := b.seller(int64(1000+i), "ru")
		s.Send("/start")
		ss = append(ss, s)
	}
	for _, s := range ss {
		s.Expect(t, time.Minute, "the greeting", hasButton(keyboard.Kind.Data("card")))
		tap(t, s, keyboard.Kind.Data("card"))
	}
	for _, s := range ss {
		s.Expect(t, time.Minute, "the photo request", contains("📸"))
		s.SendPhoto(harness.Photo(400, 400), 400, 400, "")
	}
	for _, s := range ss {
		ask := s.Expect(t, time.Minute, "the description request", hasButton(keyboard.Skip.Prefix()))
		tap(t, s, buttonData(ask, keyboard.Skip.Prefix()))
	}
	for _, s := range ss {
		confirm := s.Expect(t, time.Minute, "the confirmation", hasButton(keyboard.Generate.Prefix()))
		tap(t, s, buttonData(confirm, keyboard.Generate.Prefix()))
	}
	for _, s := range ss {
		s.Expect(t, 2*time.Minute, "the card", isFile("sendPhoto"))
	}
	for _, s := range ss {
		if n := countFailures(s); n != 0 {
			t.Errorf("seller %d got %d failure messages", s.ID(), n)
		}
	}
	if n := len(b.KIE.Tasks()); n != sellers {
		t.Errorf("KIE tasks: %d, want %d", n, sellers)
	}
	// A graceful stop sends what is still queued (last status edits, a 429 being waited out), so
	// every call the bot meant to make is on the record.
	b.checkLedger()
	if err := b.StopBot(); err != nil {
		t.Fatal(err)
	}
	calls := b.Telegram.Calls("")
	limited, refused := 0, 0
	for i, c := range calls {
		if !strings.HasPrefix(c.Method, "send") && !strings.HasPrefix(c.Method, "edit") {
			continue
		}
		limited++
		if c.Status != 429 {
			continue
		}
		refused++
		// A message is sent again as it was; a status edit may instead be overtaken by a newer
		// text for the same message, which is all the seller needs to see.
		edit := strings.HasPrefix(c.Method, "edit")
		var resent *tgfake.Call
		for _, n := range calls[i+1:] {
			same := n.Fields["text"] == c.Fields["text"] && n.Fields["caption"] == c.Fields["caption"]
			if n.Method == c.Method && n.ChatID == c.ChatID && n.Status == 200 && (same || edit) && n.Fields["message_id"] == c.Fields["message_id"] {
				resent = &n
				break
			}
		}
		switch {
		case resent == nil:
			t.Errorf("a %s to seller %d refused with 429 was never sent again", c.Method, c.ChatID)
		case resent.At.Sub(c.At) < time.Duration(c.RetryAfter)*time.Second:
			t.Errorf("a %s to seller %d was sent again %v after a 429 with retry_after %d", c.Method, c.ChatID, resent.At.Sub(c.At), c.RetryAfter)
		}
	}
	if limited == 0 || refused*4 > limited {
		t.Errorf("%d of %d messages met a 429: the gateway does not keep under Telegram's limits", refused, limited)
	}
}
