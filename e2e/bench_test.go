package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"neurocards/testkit/harness"
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
