package app

import (
	"context"
	"errors"
	"fmt"
	"math"

	"neurocards/messages"
	"neurocards/store"
)

// maxAdjust bounds one operator adjustment, so a typo of a few extra digits is refused rather
// than booked.
const maxAdjust = 1_000_000_000

// operate carries out an operator's action from the dashboard. It is the interim path: it calls
// the store's own transactions (Adjust, RefundJob, FailJob), as the Telegram operator commands
// do, until the seller's session carries out messages.OperatorCommand itself; then this sends
// the command there and waits on its Reply. A job it ends learns so at its next save and stops.
func (a *App) operate(ctx context.Context, cmd messages.OperatorCommand) (messages.OperatorResult, error) {
	if err := ctx.Err(); err != nil {
		return messages.OperatorResult{}, err
	}
	res := messages.OperatorResult{SellerID: cmd.Seller}
	u, ok, err := a.Store.User(cmd.Seller)
	if err != nil {
		return res, err
	}
	if !ok {
		res.Status = messages.OperatorNoSeller
		return res, nil
	}
	res.Balance, res.Held, res.SellerLng = u.Balance, u.Held, u.Lang
	if cmd.Op == messages.OpGrant {
		return a.grant(cmd, u, res)
	}
	j, ok, err := a.Store.Job(cmd.JobID)
	if err != nil {
		return res, err
	}
	if !ok || j.UserID != cmd.Seller {
		res.Status = messages.OperatorNoJob
		return res, nil
	}
	switch cmd.Op {
	case messages.OpRefund:
		return a.refund(cmd, res)
	case messages.OpCancel:
		return a.cancel(cmd, j, res)
	}
	return res, fmt.Errorf("operate: unknown operation %q", cmd.Op)
}

func (a *App) grant(cmd messages.OperatorCommand, u store.User, res messages.OperatorResult) (messages.OperatorResult, error) {
	if cmd.Amount > maxAdjust || cmd.Amount < -maxAdjust || (cmd.Amount > 0 && u.Balance > math.MaxInt64-cmd.Amount) {
		res.Status = messages.OperatorOutOfRange
		return res, nil
	}
	after, e, err := a.Store.Adjust(cmd.Seller, cmd.Amount, cmd.Key, cmd.Reason, cmd.By)
	switch {
	case errors.Is(err, store.ErrNoUser):
		res.Status = messages.OperatorNoSeller
	case errors.Is(err, store.ErrDuplicate):
		res.Status = messages.OperatorDuplicate
	case errors.Is(err, store.ErrInsufficient):
		res.Status = messages.OperatorInsufficient
	case err != nil:
		return res, err
	default:
		a.Log.Info("operator adjusted a balance", "by", cmd.By, "user_id", cmd.Seller, "amount", cmd.Amount, "reason", cmd.Reason, "row", e.Seq)
		a.Metrics.OperatorAction(messages.OpGrant, cmd.Amount)
		res.Status, res.Row, res.Balance, res.Held = messages.OperatorDone, e.Seq, after.Balance, after.Held
	}
	return res, nil
}

func (a *App) refund(cmd messages.OperatorCommand, res messages.OperatorResult) (messages.OperatorResult, error) {
	r, err := a.Store.RefundJob(cmd.JobID, cmd.By)
	switch {
	case errors.Is(err, store.ErrNoJob):
		res.Status = messages.OperatorNoJob
	case errors.Is(err, store.ErrAlreadyReleased):
		res.Status = messages.OperatorAlreadyReleased
	case errors.Is(err, store.ErrDuplicate):
		res.Status = messages.OperatorDuplicate
	case err != nil:
		return res, err
	default:
		a.Log.Info("operator refunded a job", "by", cmd.By, "job_id", cmd.JobID, "user_id", cmd.Seller, "released", r.Released, "reason", cmd.Reason)
		a.Metrics.OperatorAction(messages.OpRefund, r.Adjust.Amount)
		res.Status, res.Released, res.Row = messages.OperatorDone, r.Released, r.Adjust.Seq
		res.Balance, res.Held = r.User.Balance, r.User.Held
		res.Job = &r.Job
	}
	return res, nil
}

func (a *App) cancel(cmd messages.OperatorCommand, j messages.Job, res messages.OperatorResult) (messages.OperatorResult, error) {
	if j.Terminal() {
		res.Status = messages.OperatorNotInFlight
		return res, nil
	}
	f := messages.Failure{Class: messages.Operator, Reason: messages.ReasonCancelled, Detail: "cancelled by an operator: " + cmd.Reason}
	ended, err := a.Store.FailJob(cmd.JobID, f)
	switch {
	case errors.Is(err, store.ErrFinished):
		res.Status = messages.OperatorNotInFlight
		return res, nil
	case err != nil:
		return res, err
	}
	a.Log.Info("operator cancelled a job in flight", "by", cmd.By, "job_id", cmd.JobID, "user_id", cmd.Seller, "reason", cmd.Reason)
	a.Metrics.OperatorAction(messages.OpCancel, 0)
	u, _, err := a.Store.User(cmd.Seller)
	if err != nil {
		return res, err
	}
	res.Status, res.Released, res.Job = messages.OperatorDone, true, &ended
	res.Balance, res.Held = u.Balance, u.Held
	return res, nil
}
