package tgfake

import (
	"errors"
	"strings"
	"testing"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

func TestStarsInvoicePreCheckoutPayAndRefund(t *testing.T) {
	s := newServer(t)
	b := newBot(t, s)
	ctx := testCtx(t)
	sl := s.Seller(77, "ru", "Ольга")

	inv, err := b.SendInvoice(ctx, &bot.SendInvoiceParams{
		ChatID: 77, Title: "10 карточек", Description: "Пакет из 10 генераций", Payload: "pack:10:abc",
		Currency: "XTR", Prices: []models.LabeledPrice{{Label: "10 карточек", Amount: 50}},
	})
	if err != nil {
		t.Fatalf("SendInvoice: %v", err)
	}
	if inv.Invoice == nil || inv.Invoice.TotalAmount != 50 || inv.Invoice.Currency != "XTR" {
		t.Fatalf("invoice result = %+v", inv)
	}
	got, _ := sl.Last()
	if got.Method != "sendInvoice" || *got.Invoice != (Invoice{Title: "10 карточек", Description: "Пакет из 10 генераций", Payload: "pack:10:abc", Currency: "XTR", Amount: 50}) {
		t.Fatalf("transcript invoice = %+v", got.Invoice)
	}
	_, err = b.SendInvoice(ctx, &bot.SendInvoiceParams{
		ChatID: 77, Title: "x", Description: "y", Payload: "p", Currency: "XTR",
		Prices: []models.LabeledPrice{{Label: "a", Amount: 1}, {Label: "b", Amount: 2}},
	})
	if !errors.Is(err, bot.ErrorBadRequest) {
		t.Fatalf("Stars invoice with two prices: %v", err)
	}

	sl.PreCheckout("pack:10:abc", "XTR", 50)
	ups := poll(ctx, t, s, map[string]string{"timeout": "0"})
	if len(ups) != 1 || ups[0].PreCheckoutQuery == nil || ups[0].PreCheckoutQuery.InvoicePayload != "pack:10:abc" || ups[0].PreCheckoutQuery.From.ID != 77 {
		t.Fatalf("updates = %+v", ups)
	}
	qid := ups[0].PreCheckoutQuery.ID
	if _, err := b.AnswerPreCheckoutQuery(ctx, &bot.AnswerPreCheckoutQueryParams{PreCheckoutQueryID: qid, OK: true}); err != nil {
		t.Fatalf("AnswerPreCheckoutQuery: %v", err)
	}
	if _, err := b.AnswerPreCheckoutQuery(ctx, &bot.AnswerPreCheckoutQueryParams{PreCheckoutQueryID: "nope", OK: true}); !errors.Is(err, bot.ErrorBadRequest) {
		t.Fatalf("answer to an unknown query: %v", err)
	}
	answers := s.PreCheckoutAnswers()
	if len(answers) != 1 || !answers[0].OK || answers[0].UserID != 77 || answers[0].Amount != 50 {
		t.Fatalf("pre-checkout answers = %+v", answers)
	}

	payID := sl.Pay("pack:10:abc", "XTR", 50, "charge-1")
	ups = poll(ctx, t, s, map[string]string{"offset": "2", "timeout": "0"})
	if len(ups) != 1 || ups[0].ID != payID || ups[0].Message.SuccessfulPayment.TelegramPaymentChargeID != "charge-1" {
		t.Fatalf("payment updates = %+v", ups)
	}

	if _, err := b.RefundStarPayment(ctx, &bot.RefundStarPaymentParams{UserID: 77, TelegramPaymentChargeID: "charge-1"}); err != nil {
		t.Fatalf("RefundStarPayment: %v", err)
	}
	_, err = b.RefundStarPayment(ctx, &bot.RefundStarPaymentParams{UserID: 77, TelegramPaymentChargeID: "charge-1"})
	if !errors.Is(err, bot.ErrorBadRequest) || !strings.Contains(err.Error(), "CHARGE_ALREADY_REFUNDED") {
		t.Fatalf("second refund: %v", err)
	}
	if refunds := s.StarRefunds(); len(refunds) != 1 || refunds[0].ChargeID != "charge-1" || refunds[0].Amount != 50 {
		t.Fatalf("refunds = %+v", refunds)
	}
	ups = poll(ctx, t, s, map[string]string{"offset": "3", "timeout": "0"})
	if len(ups) != 1 || ups[0].Message == nil || ups[0].Message.RefundedPayment == nil {
		t.Fatalf("refund notice updates = %+v", ups)
	}
	msgs := sl.Messages()
	if last := msgs[len(msgs)-1]; last.Method != "service" || last.Payment == nil || !last.Payment.Refunded {
		t.Fatalf("last message = %+v", last)
	}
}
