package actors

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/anthdm/hollywood/actor"

	"neurocards/conversation"
	"neurocards/messages"
	"neurocards/operator"
	"neurocards/store"
	"neurocards/telegram"
	"neurocards/texts"
)

// operatorWait bounds how long an operator's command waits for the seller's session; a cancel
// waits for the job's children, which a createTask in flight holds for a few seconds.
const operatorWait = time.Minute

// operate carries out an operator's command typed in Telegram. Reading commands answer at once;
// a command that moves a seller's credits goes to that seller's session through the router —
// the same path as the dashboard's — and its answer comes back as operatorAnswered, after which
// the update is recorded. Each is idempotent (keyed by the update, the job or the charge), so a
// re-delivered command does nothing twice.
func (s *session) operate(c *actor.Context, m messages.Update, cmd operator.Command, usage texts.Key) {
	d, u := s.d, m.Update
	me, exists, err := d.Store.User(s.uid)
	if err != nil {
		s.d.Log.Error("operator command failed", "user_id", s.uid, "err", err)
		s.post(conversation.Reply{Text: texts.T(s.langOf(u), texts.SomethingWrong)})
		m.Done()
		return
	}
	if exists && u.ID <= me.LastUpdate {
		s.turn(c, m, conversation.Input{Update: u}) // seen before: the turn says so
		return
	}
	lang := texts.Lang(u.Message.From.LanguageCode)
	if exists && me.LangChosen {
		lang = me.Lang
	}
	answer := func(text string) []conversation.Reply { return []conversation.Reply{{Text: text}} }
	if usage != "" {
		s.turn(c, m, conversation.Input{Update: u, Answered: answer(texts.T(lang, usage))})
		return
	}
	d.Log.Info("operator command", "user_id", s.uid, "command", cmd.Name, "seller", cmd.Seller, "job_id", cmd.JobID)
	switch cmd.Name {
	case "user":
		s.turn(c, m, conversation.Input{Update: u, Answered: answer(s.describeUser(lang, cmd.Seller))})
		return
	case "stats":
		text := texts.T(lang, texts.SomethingWrong)
		if st, err := d.Store.Stats(texts.DayStart(s.now())); err == nil {
			text = operator.Stats(lang, st)
		} else {
			d.Log.Error("operator command failed", "command", "stats", "err", err)
		}
		s.turn(c, m, conversation.Input{Update: u, Answered: answer(text)})
		return
	}
	e, self, router := c.Engine(), c.PID(), c.Parent()
	ask := func(oc messages.OperatorCommand) messages.OperatorResult {
		return Ask(e, router, oc, operatorWait)
	}
	update := strconv.FormatInt(u.ID, 10)
	s.busy = true
	goSafe(func(reason, _ string) {
		e.Send(self, operatorAnswered{update: m, replies: answer(texts.T(lang, texts.SomethingWrong))})
	}, func() {
		var text string
		switch cmd.Name {
		case "grant":
			r := ask(messages.OperatorCommand{Op: messages.OpGrant, By: s.uid, Seller: cmd.Seller, Amount: cmd.Amount, Reason: cmd.Reason,
				Key: fmt.Sprintf("grant:%d:%s", s.uid, update)})
			text = operator.Grant(lang, cmd, r)
		case "refund":
			r := ask(messages.OperatorCommand{Op: messages.OpRefund, By: s.uid, JobID: cmd.JobID})
			text = operator.Refund(lang, cmd, r)
		case "refundstars":
			text = s.refundStars(lang, cmd, update, ask)
		}
		e.Send(self, operatorAnswered{update: m, replies: answer(text)})
	})
}

// Ask sends an operator's command through the router to the seller's session and waits for its
// answer, at most wait. It is how the dashboard and the Telegram commands act on a seller.
func Ask(e *actor.Engine, router *actor.PID, cmd messages.OperatorCommand, wait time.Duration) messages.OperatorResult {
	reply := make(chan messages.OperatorResult, 1)
	cmd.Reply = reply
	e.Send(router, cmd)
	select {
	case r := <-reply:
		return r
	case <-time.After(wait):
		return messages.OperatorResult{Status: messages.OperatorFailed, Detail: "the seller's session did not answer in time; look again before retrying"}
	}
}

// refundStars is /refundstars <charge_id>: take the pack's credits back first, in the buyer's
// session, which refuses if the buyer no longer has them, so they cannot be spent while Telegram
// refunds the Stars; then ask Telegram; if Telegram refuses, give the credits back. A re-delivered
// command finds its own charge-back and only asks Telegram again, which answers "already
// refunded" if it did. It runs off the actor.
func (s *session) refundStars(lang string, cmd operator.Command, attempt string, ask func(messages.OperatorCommand) messages.OperatorResult) string {
	d := s.d
	purchase, err := d.Store.PurchaseOf(cmd.Charge)
	if errors.Is(err, store.ErrNoPurchase) {
		return operator.ChargeBack(lang, cmd, messages.OperatorResult{Status: messages.OperatorNoPurchase}, 0)
	}
	if err != nil {
		d.Log.Error("operator command failed", "command", "refundstars", "err", err)
		return texts.T(lang, texts.SomethingWrong)
	}
	take := messages.OperatorCommand{Op: messages.OpChargeBack, By: s.uid, Seller: purchase.UserID, Charge: cmd.Charge, Key: attempt}
	taken := ask(take)
	if refused := operator.ChargeBack(lang, cmd, taken, purchase.Amount); refused != "" {
		return refused
	}
	ctx, cancel := d.Telegram.CallContext()
	err = d.Telegram.RefundStarPayment(ctx, purchase.UserID, cmd.Charge)
	cancel()
	if err != nil && !telegram.IsAlreadyRefunded(err) {
		d.Log.Warn("refunding Stars failed; giving the credits back", "by", s.uid, "charge_id", cmd.Charge, "err", err)
		undo := take
		undo.Op = messages.OpUndoChargeBack
		if r := ask(undo); r.Status != messages.OperatorDone && r.Status != messages.OperatorDuplicate {
			d.Log.Error("Stars not refunded and the credits not given back; adjust by hand", "charge_id", cmd.Charge, "user_id", purchase.UserID, "detail", r.Detail)
			return texts.T(lang, texts.SomethingWrong)
		}
		return operator.StarsFailed(lang, err.Error())
	}
	d.Log.Info("operator refunded Stars", "by", s.uid, "charge_id", cmd.Charge, "user_id", purchase.UserID, "taken", purchase.Amount)
	if taken.Amount != 0 { // a re-delivered command told the buyer the first time
		text := operator.StarsNotice(taken.SellerLng, purchase.Amount, taken.Balance-taken.Held)
		d.Telegram.Post(purchase.UserID, func(ctx context.Context) {
			if _, err := d.Telegram.Send(ctx, purchase.UserID, text, nil); err != nil {
				d.Log.Warn("telling the buyer of a Stars refund failed", "user_id", purchase.UserID, "err", err)
			}
		})
	}
	return operator.StarsDone(lang, cmd, taken, purchase.Amount)
}

// describeUser is /user: read-only, from the store.
func (s *session) describeUser(lang string, id int64) string {
	d := s.d
	fail := func(err error) string {
		d.Log.Error("operator command failed", "command", "user", "err", err)
		return texts.T(lang, texts.SomethingWrong)
	}
	u, ok, err := d.Store.User(id)
	if err != nil {
		return fail(err)
	}
	if !ok {
		return texts.T(lang, texts.AdminNoUser, id)
	}
	jobs, err := d.Store.Jobs(id, 5)
	if err != nil {
		return fail(err)
	}
	refunded := func(job uint64) bool {
		ok, _ := d.Store.KeyExists(store.RefundJobKey(job))
		return ok
	}
	return operator.User(d.Config, lang, u, jobs, refunded)
}

// command carries out an operator's command on this session's seller, in this seller's
// transaction, and answers on cmd.Reply. A cancel of a job in flight stops its actor first and is
// answered once the job reports how it ended (answerCancels).
func (s *session) command(c *actor.Context, cmd messages.OperatorCommand) {
	r := s.operateOn(c, cmd)
	if r == nil {
		return // answered when the job reports
	}
	s.reply(cmd, *r)
}

func (s *session) reply(cmd messages.OperatorCommand, r messages.OperatorResult) {
	r.SellerID = s.uid
	if r.Status == messages.OperatorDone {
		s.d.Metrics.OperatorAction(cmd.Op, r.Amount)
		s.d.Log.Info("operator changed a seller's credits", "by", cmd.By, "user_id", s.uid, "op", cmd.Op, "amount", r.Amount, "job_id", cmd.JobID, "row", r.Row)
		if text := operator.SellerNotice(s.d.Config, r.SellerLng, cmd, r); text != "" {
			s.post(conversation.Reply{Text: text})
		}
	}
	if cmd.Reply != nil {
		select {
		case cmd.Reply <- r:
		default:
		}
	}
}

// operateOn is command's work; nil means the answer waits for a job.
func (s *session) operateOn(c *actor.Context, cmd messages.OperatorCommand) *messages.OperatorResult {
	var r messages.OperatorResult
	if cmd.Op == messages.OpRefund || cmd.Op == messages.OpCancel {
		j, ok, err := s.d.Store.Job(cmd.JobID)
		switch {
		case err != nil:
			return s.failed(err)
		case !ok || j.UserID != s.uid:
			return &messages.OperatorResult{Status: messages.OperatorNoJob}
		case !j.Terminal():
			s.cancels[j.ID] = append(s.cancels[j.ID], cmd)
			if pid, running := s.jobs[j.ID]; running {
				c.Send(pid, messages.CancelJob{})
			} else {
				f := messages.Failure{Class: messages.Operator, Reason: messages.ReasonCancelled, Detail: "cancelled by an operator"}
				j.Failure = &f
				s.settle(c, j, nil)
			}
			return nil
		case cmd.Op == messages.OpCancel:
			return &messages.OperatorResult{Status: messages.OperatorNotInFlight, Job: &j}
		}
	}
	_, err := s.d.Store.WithUser(s.uid, func(t *store.UserTx) error {
		if !t.Exists() {
			return store.ErrNoUser
		}
		var (
			e   store.Entry
			err error
		)
		switch cmd.Op {
		case messages.OpGrant:
			e, err = t.Adjust(cmd.Amount, cmd.Key, cmd.Reason, cmd.By)
		case messages.OpRefund:
			var j messages.Job
			j, e, err = t.RefundDelivered(cmd.JobID, cmd.By)
			r.Job = &j
		case messages.OpChargeBack:
			var cb store.ChargeBack
			cb, err = t.ChargeBack(cmd.Charge, cmd.Key, cmd.By)
			e = cb.Adjust
			if cb.Resumed {
				r.Status = messages.OperatorDuplicate
			}
		case messages.OpUndoChargeBack:
			e, err = t.UndoChargeBack(cmd.Charge, cmd.Key, cmd.By)
		default:
			err = fmt.Errorf("unknown operator command %q", cmd.Op)
		}
		r.Row, r.Amount = e.Seq, e.Amount
		r.Balance, r.Held, r.SellerLng = t.User.Balance, t.User.Held, t.User.Lang
		return err
	})
	switch {
	case err == nil && r.Status == messages.OperatorDuplicate:
		// A charge-back this try already made: the rest of the refund goes on without a second notice.
		r.Status = messages.OperatorDone
		r.Amount = 0
		return &r
	case err == nil:
		r.Status = messages.OperatorDone
	case errors.Is(err, store.ErrNoUser):
		r.Status = messages.OperatorNoSeller
	case errors.Is(err, store.ErrNoJob):
		r.Status = messages.OperatorNoJob
	case errors.Is(err, store.ErrNoPurchase):
		r.Status = messages.OperatorNoPurchase
	case errors.Is(err, store.ErrDuplicate):
		r.Status = messages.OperatorDuplicate
	case errors.Is(err, store.ErrAlreadyReleased):
		r.Status = messages.OperatorAlreadyReleased
	case errors.Is(err, store.ErrOutOfRange):
		r.Status = messages.OperatorOutOfRange
	case errors.Is(err, store.ErrInsufficient):
		r.Status = messages.OperatorInsufficient
		if u, ok, err := s.d.Store.User(s.uid); err == nil && ok {
			r.Balance, r.Held = u.Balance, u.Held
		}
	default:
		return s.failed(err)
	}
	return &r
}

func (s *session) failed(err error) *messages.OperatorResult {
	s.d.Log.Error("operator command failed", "user_id", s.uid, "err", err)
	return &messages.OperatorResult{Status: messages.OperatorFailed, Detail: err.Error()}
}

// answerCancels answers the operators waiting on a job's cancel, now that it is settled (stored)
// or its actor stopped without reporting (nil: the bot is stopping).
func (s *session) answerCancels(jobID uint64, stored *messages.Job) {
	cmds := s.cancels[jobID]
	delete(s.cancels, jobID)
	for _, cmd := range cmds {
		var r messages.OperatorResult
		switch {
		case stored == nil:
			r = messages.OperatorResult{Status: messages.OperatorFailed, Detail: "the bot is stopping; the job resumes at the next start"}
		case stored.Outcome == messages.OutcomeFailed && stored.Failure != nil && stored.Failure.Reason == messages.ReasonCancelled:
			j := *stored
			r = messages.OperatorResult{Status: messages.OperatorDone, Released: true, Job: &j, Amount: 0}
			if u, ok, err := s.d.Store.User(s.uid); err == nil && ok {
				r.Balance, r.Held, r.SellerLng = u.Balance, u.Held, u.Lang
			}
		case stored.Outcome == messages.OutcomeDone && cmd.Op == messages.OpRefund:
			// Delivered before the cancel took effect: refund it as delivered.
			if p := s.operateOn(nil, cmd); p != nil {
				r = *p
			}
		case cmd.Op == messages.OpCancel:
			j := *stored
			r = messages.OperatorResult{Status: messages.OperatorNotInFlight, Job: &j}
		default:
			r = messages.OperatorResult{Status: messages.OperatorAlreadyReleased}
		}
		s.reply(cmd, r)
	}
}
