package tgfake

import (
	"context"
	"strconv"
	"testing"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// answerPreCheckouts plays a bot that confirms every pre-checkout except the payloads it refuses.
func answerPreCheckouts(ctx context.Context, s *Server, b *bot.Bot, refuse map[string]string) {
	go func() {
		offset := 0
		for ctx.Err() == nil {
			r := <-pollAsync(ctx, s, map[string]string{"offset": strconv.Itoa(offset), "timeout": "1"})
			if r.err != nil {
				return
			}
			for _, u := range r.updates {
				offset = int(u.ID) + 1
				if q := u.PreCheckoutQuery; q != nil {
					why := refuse[q.InvoicePayload]
					b.AnswerPreCheckoutQuery(ctx, &bot.AnswerPreCheckoutQueryParams{PreCheckoutQueryID: q.ID, OK: why == "", ErrorMessage: why})
				}
			}
		}
	}()
}

func TestPayInvoiceConfirmedPaysAndDeclinedDoesNot(t *testing.T) {
	s := newServer(t)
	b := newBot(t, s)
	ctx := testCtx(t)
	sl := s.Seller(78, "en", "Olga")
	send := func(payload string) int {
		m, err := b.SendInvoice(ctx, &bot.SendInvoiceParams{
			ChatID: 78, Title: "10 credits", Description: "A pack of 10", Payload: payload,
			Currency: "XTR", Prices: []models.LabeledPrice{{Label: "10 credits", Amount: 50}},
		})
		if err != nil {
			t.Fatalf("SendInvoice: %v", err)
		}
		return m.ID
	}
	good, sold := send("pack:10:a"), send("pack:10:sold-out")
	answerPreCheckouts(ctx, s, b, map[string]string{"pack:10:sold-out": "This pack is no longer sold"})

	answer, err := sl.PayInvoice(ctx, good)
	if err != nil || !answer.OK || answer.Payload != "pack:10:a" || answer.Amount != 50 {
		t.Fatalf("PayInvoice(confirmed) = %+v, %v", answer, err)
	}
	msgs := sl.Messages()
	paid := msgs[len(msgs)-1]
	if paid.Method != "seller" || paid.Payment == nil || paid.Payment.Payload != "pack:10:a" || paid.Payment.Amount != 50 || paid.Payment.ChargeID == "" {
		t.Fatalf("after paying, the last message = %+v", paid)
	}

	answer, err = sl.PayInvoice(ctx, sold)
	if err != nil || answer.OK || answer.ErrorMessage != "This pack is no longer sold" {
		t.Fatalf("PayInvoice(declined) = %+v, %v", answer, err)
	}
	if n := len(sl.Messages()); n != len(msgs) {
		t.Fatalf("a declined pre-checkout added %d messages", n-len(msgs))
	}

	if _, err := sl.PayInvoice(ctx, paid.ID); err == nil {
		t.Fatal("PayInvoice on the seller's own message succeeded")
	}
	if m, ok := sl.Message(good); !ok || m.Invoice == nil || m.Invoice.Payload != "pack:10:a" {
		t.Fatalf("Message(%d) = %+v, %v", good, m, ok)
	}
	if _, ok := sl.Message(999); ok {
		t.Fatal("Message(999) found a message")
	}
}

func TestPayInvoiceWithoutAnAnswerGivesUp(t *testing.T) {
	s := newServer(t)
	b := newBot(t, s)
	sl := s.Seller(79, "en", "Olga")
	m, err := b.SendInvoice(testCtx(t), &bot.SendInvoiceParams{
		ChatID: 79, Title: "10 credits", Description: "A pack of 10", Payload: "pack:10:b",
		Currency: "XTR", Prices: []models.LabeledPrice{{Label: "10 credits", Amount: 50}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := sl.PayInvoice(ctx, m.ID); err == nil {
		t.Fatal("PayInvoice with nobody answering succeeded")
	}
	for _, msg := range sl.Messages() {
		if msg.Payment != nil {
			t.Fatalf("paid without an answer: %+v", msg)
		}
	}
}
