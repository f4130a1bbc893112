package main

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"neurocards/keyboard"
	"neurocards/testkit/harness"
	"neurocards/testkit/kiefake"
	"neurocards/testkit/tgfake"
)

// TestFailureExplanationSurvivesAKill: the bot is killed after a job failed (its credits
// released) but before the seller was told; after the restart the seller still gets the
// explanation with its retry button.
// The transaction that ends a job also records that its seller is to be told; the record goes
// when the failure message and the last status edit have gone, so a restart tells them again.
func TestFailureExplanationSurvivesAKill(t *testing.T) {
	tg := tgfake.New(harness.BotToken)
	defer tg.Close()
	kf := kiefake.New(harness.KIEKey)
	defer kf.Close()
	kf.Script(func(int, string, map[string]any) kiefake.Script {
		return kiefake.Script{Waiting: 3, Outcome: kiefake.Outcome{Fail: true, FailCode: "400", FailMsg: "Your prompt was flagged by Website as violating content policies"}}
	})
	env := append(runEnv(tg, kf, t.TempDir(), freeAddr(t)), "NEUROCARDS_STATUS_INTERVAL=50ms")
	bot := startBot(t, env)

	s := tg.Seller(78, "ru", "Ира")
	s.Send("/start")
	menu := s.Expect(t, 20*time.Second, "the greeting", hasButton(keyboard.Kind.Data("card")))
	if _, err := s.Tap(keyboard.Kind.Data("card")); err != nil {
		t.Fatal(err)
	}
	ask := s.ExpectNew(t, 10*time.Second, menu.ID, "the photo request", func(m tgfake.Message) bool { return strings.Contains(m.Text, "📸") })
	s.SendPhoto(harness.Photo(640, 640), 640, 640, "")
	askText := s.ExpectNew(t, 10*time.Second, ask.ID, "the description request", func(m tgfake.Message) bool { return m.Button(keyboard.Skip.Prefix()) != "" })
	if _, err := s.Tap(askText.Button(keyboard.Skip.Prefix())); err != nil {
		t.Fatal(err)
	}
	confirm := s.ExpectNew(t, 10*time.Second, askText.ID, "the confirmation", func(m tgfake.Message) bool { return m.Button(keyboard.Generate.Prefix()) != "" })
	if _, err := s.Tap(confirm.Button(keyboard.Generate.Prefix())); err != nil {
		t.Fatal(err)
	}
	status := s.ExpectNew(t, 10*time.Second, confirm.ID, "the status message", func(m tgfake.Message) bool { return m.Button(keyboard.Again.Prefix()+"card:") != "" })

	// From now on Telegram holds the next message to this chat, the failure explanation, and
	// answers it only after the bot is gone.
	tg.Fail("sendMessage", 78, 1, tgfake.Reply{Status: 500, Delay: time.Minute})
	s.ExpectUntil(t, 20*time.Second, "the status to say the job failed", func(msgs []tgfake.Message) bool {
		for _, m := range msgs {
			if m.ID == status.ID {
				return strings.Contains(m.Text, "Не получилось")
			}
		}
		return false
	})
	held, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := tg.WaitFailsTaken(held); err != nil {
		t.Fatal(err)
	}
	if err := bot.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-bot.exited

	startBot(t, env)
	s.ExpectNew(t, 20*time.Second, status.ID, "the failure explanation after the restart", func(m tgfake.Message) bool {
		return m.Button(keyboard.Retry.Prefix()) != ""
	})
}
