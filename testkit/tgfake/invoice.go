package tgfake

import (
	"context"
	"fmt"
	"slices"
	"strconv"
)

// PayInvoice does what a Telegram client does when the seller taps "Pay" under the bot's invoice
// in message messageID: it sends the pre_checkout_query, waits for the bot's answer and, when the
// bot confirms, posts the successful_payment with a new charge id. ctx stands in for the 10 s
// Telegram gives the bot to answer. A declined pre-checkout is returned, not an error: the seller
// reads its error_message and nothing is paid.
func (sl *Seller) PayInvoice(ctx context.Context, messageID int) (PreCheckoutAnswer, error) {
	var (
		inv Invoice
		qid string
		err error
	)
	sl.s.change(func() {
		en := sl.chat().find(messageID)
		if en == nil || !en.FromBot || en.Deleted || en.Invoice == nil {
			err = fmt.Errorf("tgfake: chat %d: message %d is not an invoice from the bot", sl.id, messageID)
			return
		}
		inv = *en.Invoice
		_, qid = sl.preCheckout(inv.Payload, inv.Currency, inv.Amount)
	})
	if err != nil {
		return PreCheckoutAnswer{}, err
	}
	var answer PreCheckoutAnswer
	err = await(ctx, sl.s, func() []PreCheckoutAnswer { return slices.Clone(sl.s.pcAnswers) }, func(as []PreCheckoutAnswer) bool {
		i := slices.IndexFunc(as, func(a PreCheckoutAnswer) bool { return a.QueryID == qid })
		if i >= 0 {
			answer = as[i]
		}
		return i >= 0
	})
	if err != nil {
		return PreCheckoutAnswer{}, fmt.Errorf("tgfake: chat %d: the bot did not answer the pre-checkout of invoice %d: %w", sl.id, messageID, err)
	}
	if answer.OK {
		sl.Pay(inv.Payload, inv.Currency, inv.Amount, sl.s.newChargeID())
	}
	return answer, nil
}

// newChargeID is a telegram_payment_charge_id no payment has used.
func (s *Server) newChargeID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastQuery++
	return "stxfake" + strconv.Itoa(s.lastQuery)
}

// Message returns the message with that id in the seller's chat, as the seller sees it now,
// deleted or not — for serving what it shows (a photo, a video) to a page.
func (sl *Seller) Message(id int) (Message, bool) {
	sl.s.mu.Lock()
	defer sl.s.mu.Unlock()
	en := sl.chat().find(id)
	if en == nil {
		return Message{}, false
	}
	return en.clone(), true
}
