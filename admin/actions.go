package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"neurocards/messages"
)

// maxReason bounds an operator's reason, which goes into the ledger row's note.
const maxReason = 200

// formKey is what a form's one-time key looks like (randomHex(16)).
var formKey = regexp.MustCompile(`^[0-9a-f]{32}$`)

// act is POST /sellers/{id}/{op}: grant (or take) credits, refund a job, or cancel a job in
// flight. Each goes through Operate — the same path as the operator commands in Telegram — with
// the form's one-time key as the idempotency key, so a form submitted twice acts once. Anything
// wrong with the request is answered with the reason and changes nothing.
func (s *Server) act(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	if why := s.checkCSRF(r); why != "" {
		s.fail(w, r, http.StatusForbidden, why)
		return
	}
	op := messages.OperatorOp(r.PathValue("op"))
	if op != messages.OpGrant && op != messages.OpRefund && op != messages.OpCancel {
		s.fail(w, r, http.StatusNotFound, fmt.Sprintf("There is no action %q; the actions are grant, refund and cancel.", op))
		return
	}
	u, ok := s.sellerOf(w, r)
	if !ok {
		return
	}
	back := fmt.Sprintf("/sellers/%d", u.ID)
	refuse := func(msg string) { s.say(w, r, http.StatusBadRequest, msg+" Nothing was changed.", back) }
	key := r.PostFormValue("key")
	if !formKey.MatchString(key) {
		refuse("The form has no one-time key. Open the seller's page again and resubmit.")
		return
	}
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	switch {
	case reason == "":
		refuse("Give a reason: it goes into the ledger with the change.")
		return
	case utf8.RuneCountInString(reason) > maxReason:
		refuse(fmt.Sprintf("The reason is longer than %d characters.", maxReason))
		return
	}
	cmd := messages.OperatorCommand{Op: op, Seller: u.ID, Reason: reason, Key: "dashboard:" + key}
	if op == messages.OpGrant {
		amount, why := parseAmount(r.PostFormValue("amount"))
		if why != "" {
			refuse(why)
			return
		}
		cmd.Amount = amount
	} else {
		v := strings.TrimPrefix(strings.TrimSpace(r.PostFormValue("job")), "#")
		id, err := strconv.ParseUint(v, 10, 64)
		if err != nil || id == 0 {
			refuse(fmt.Sprintf("%q is not a job id: job ids are whole numbers.", v))
			return
		}
		cmd.JobID = id
	}
	if s.cfg.Operate == nil {
		s.say(w, r, http.StatusServiceUnavailable, "Actions are not available in this process.", back)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	res, err := s.cfg.Operate(ctx, cmd)
	if err != nil {
		s.cfg.Logger.Error("admin: an action failed", "op", op, "user_id", u.ID, "job_id", cmd.JobID, "err", err)
		if errors.Is(err, context.DeadlineExceeded) {
			s.say(w, r, http.StatusGatewayTimeout, "The bot did not answer in time. Look at the seller's page before trying again: the form's key keeps a second try from acting twice.", back)
			return
		}
		s.say(w, r, http.StatusInternalServerError, "The action failed on our side; the log has the details.", back)
		return
	}
	s.cfg.Logger.Info("admin: dashboard action", "op", op, "user_id", u.ID, "job_id", cmd.JobID, "amount", cmd.Amount, "status", res.Status, "row", res.Row)
	status, msg := outcome(cmd, res)
	if status == http.StatusSeeOther {
		http.Redirect(w, r, back+"?flash="+url.QueryEscape(msg)+"&sig="+s.mac("flash", msg), http.StatusSeeOther)
		return
	}
	s.say(w, r, status, msg, back)
}

// parseAmount reads a signed whole number of credits, or says what is wrong with it.
func parseAmount(v string) (int64, string) {
	v = strings.TrimPrefix(strings.TrimSpace(v), "+")
	n, err := strconv.ParseInt(v, 10, 64)
	var ne *strconv.NumError
	switch {
	case errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange):
		return 0, fmt.Sprintf("%s credits is out of range.", v)
	case err != nil:
		return 0, fmt.Sprintf("%q is not a whole number of credits.", v)
	case n == 0:
		return 0, "The amount is 0: give a positive number to add credits or a negative one to take them."
	}
	return n, ""
}

// outcome is how the dashboard answers what Operate did: a redirect back to the seller's page
// with a note when it acted, a page with the reason when it did not.
func outcome(cmd messages.OperatorCommand, res messages.OperatorResult) (int, string) {
	switch res.Status {
	case messages.OperatorDone:
		switch {
		case cmd.Op == messages.OpGrant:
			return http.StatusSeeOther, fmt.Sprintf("Done: %+d credits (ledger row #%d). Balance %d, held %d.", cmd.Amount, res.Row, res.Balance, res.Held)
		case res.Released:
			return http.StatusSeeOther, fmt.Sprintf("Done: job %d stopped and its hold released. Balance %d, held %d.", cmd.JobID, res.Balance, res.Held)
		}
		return http.StatusSeeOther, fmt.Sprintf("Done: job %d refunded (ledger row #%d). Balance %d, held %d.", cmd.JobID, res.Row, res.Balance, res.Held)
	case messages.OperatorDuplicate:
		return http.StatusOK, "Already done: this form was submitted before, and it acts only once. Nothing was changed."
	case messages.OperatorNoSeller:
		return http.StatusNotFound, fmt.Sprintf("There is no seller %d. Nothing was changed.", cmd.Seller)
	case messages.OperatorNoJob:
		return http.StatusNotFound, fmt.Sprintf("Seller %d has no job %d. Nothing was changed.", cmd.Seller, cmd.JobID)
	case messages.OperatorInsufficient:
		return http.StatusConflict, fmt.Sprintf("Refused: taking %d credits would leave the seller's available credits below zero (balance %d, held by jobs %d). Nothing was changed.", -cmd.Amount, res.Balance, res.Held)
	case messages.OperatorOutOfRange:
		return http.StatusBadRequest, fmt.Sprintf("Refused: %+d credits would take the balance out of range. Nothing was changed.", cmd.Amount)
	case messages.OperatorAlreadyReleased:
		return http.StatusConflict, fmt.Sprintf("Job %d failed, and its credits went back when it failed: there is nothing to refund. Nothing was changed.", cmd.JobID)
	case messages.OperatorNotInFlight:
		return http.StatusConflict, fmt.Sprintf("Job %d has already ended: there is nothing to cancel. Nothing was changed.", cmd.JobID)
	}
	return http.StatusInternalServerError, "The action failed on our side; the log has the details. " + res.Detail
}
