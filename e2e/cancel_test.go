package e2e

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"neurocards/keyboard"
	"neurocards/messages"
	"neurocards/testkit/kiefake"
	"neurocards/testkit/tgfake"
)

// TestCancelInEachStage: an operator cancels a job in flight — from the dashboard's path, the
// same as /refund — in each stage. The job's actor and children stop: no KIE call and no
// Telegram call for the job after the cancel but telling the seller, who is told once; the hold
// is released once. The bot's clock is the test's, so the job stays in its stage until the
// cancel, and an hour passing afterwards shows that nothing is left running.
func TestCancelInEachStage(t *testing.T) {
	for _, tc := range []struct {
		stage messages.Stage
		setup func(b *bot, uid int64)
		ready func(j messages.Job) bool
	}{
		{
			stage: messages.StageQueued,
			setup: func(b *bot, uid int64) {
				// createTask fails once: the job waits in queued for its retry.
				b.KIE.Script(func(n int, _ string, _ map[string]any) kiefake.Script {
					return kiefake.Script{CreateReply: &kiefake.Reply{Code: 500, Msg: "Internal Error, Please try again later."}}
				})
			},
			ready: func(j messages.Job) bool { return j.GenAttempts == 2 },
		},
		{
			stage: messages.StageUploading,
			setup: func(b *bot, uid int64) { b.Telegram.Fail("file", 0, 1, tgfake.Reply{Delay: time.Minute}) },
		},
		{
			stage: messages.StageSubmitted,
			setup: func(b *bot, uid int64) {
				b.KIE.Script(func(int, string, map[string]any) kiefake.Script { return kiefake.Script{Forever: true} })
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
			b := startClocked(t)
			const uid = 620
			s := b.seller(uid, "ru")
			tc.setup(b, uid)
			s.Send("/start")
			s.Expect(t, wait, "the greeting", hasButton(keyboard.Kind.Data("card")))
			status := order(t, s, "card", "Свеча")
			inStage := func(j messages.Job) bool {
				return j.Stage == tc.stage && j.StatusMessageID != 0 && (tc.ready == nil || tc.ready(j))
			}
			if tc.stage == messages.StageGenerated || tc.stage == messages.StageDownloaded {
				// KIE is read on the bot's clock.
				advanceUntil(t, b, time.Second, string(tc.stage), func() bool { return inStage(onlyJob(t, b, uid)) })
			}
			j := waitForJob(t, b, uid, string(tc.stage), inStage)
			if tc.stage == messages.StageSubmitted {
				advanceUntil(t, b, time.Second, "the task to be read", func() bool { return polls(b) > 0 })
			}

			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			r, err := b.App.Operate(ctx, messages.OperatorCommand{Op: messages.OpCancel, JobID: j.ID, Reason: "test"})
			if err != nil || r.Status != messages.OperatorDone || !r.Released || r.SellerID != uid {
				t.Fatalf("cancel: %+v %v", r, err)
			}
			s.ExpectNew(t, wait, status.ID, "the seller's notice", contains("Задание отменено оператором"))
			advanceUntil(t, b, time.Second, "the status to say cancelled", saw(s, func(m tgfake.Message) bool {
				return m.ID == status.ID && strings.Contains(m.Text, "Отменено оператором")
			}))

			// The job's actor and its children are gone once it has told the seller.
			eventually(t, "the job's actors to stop", func() bool {
				return b.App.Alive("job")+b.App.Alive("generate")+b.App.Alive("deliver") == 0
			})
			kie, tg := kieCalls(b), b.Telegram.CountCalls("", uid)
			for range 60 {
				b.Clock.Advance(time.Minute)
			}
			if err := b.App.Telegram.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if got := kieCalls(b); got != kie {
				t.Errorf("KIE calls after the cancel: %s, at the cancel %s", got, kie)
			}
			if got := b.Telegram.CountCalls("", uid); got != tg {
				t.Errorf("Telegram calls to the seller after the cancel: %d, at the cancel %d", got, tg)
			}
			if n := countBot(s, contains("отменено оператором")); n != 1 {
				t.Errorf("cancel notices: %d, want 1", n)
			}
			if got := b.ledger(uid); got != "grant+20 hold(3) release(3)" {
				t.Errorf("ledger: %s", got)
			}
			done := b.jobs(uid)[0]
			if done.Outcome != messages.OutcomeFailed || done.Failure == nil || done.Failure.Reason != messages.ReasonCancelled {
				t.Errorf("job: %s %+v", done.Outcome, done.Failure)
			}
			again, err := b.App.Operate(ctx, messages.OperatorCommand{Op: messages.OpCancel, JobID: j.ID})
			if err != nil || again.Status != messages.OperatorNotInFlight {
				t.Errorf("second cancel: %+v %v", again, err)
			}
		})
	}
}

// kieCalls is what the fake KIE has been asked so far: task creations, uploads, task reads.
func kieCalls(b *bot) string {
	return strings.Join([]string{
		"create=" + strconv.Itoa(b.KIE.CreateCalls()), "upload=" + strconv.Itoa(len(b.KIE.Uploads())), "read=" + strconv.Itoa(polls(b)),
	}, " ")
}

func polls(b *bot) int {
	n := 0
	for _, t := range b.KIE.Tasks() {
		n += t.Polls
	}
	return n
}
