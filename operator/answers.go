package operator

import (
	"strings"

	"neurocards/config"
	"neurocards/conversation"
	"neurocards/messages"
	"neurocards/store"
	"neurocards/texts"
)

// Grant words the answer to /grant.
func Grant(lang string, c Command, r messages.OperatorResult) string {
	switch r.Status {
	case messages.OperatorDone:
		return texts.T(lang, texts.AdminGranted, texts.SignedCredits(lang, c.Amount), c.Seller, r.Row, texts.Credits(lang, r.Balance), texts.Credits(lang, r.Held))
	case messages.OperatorInsufficient:
		return texts.T(lang, texts.AdminGrantRefused, c.Seller, texts.Credits(lang, r.Balance-r.Held), texts.Credits(lang, r.Balance), texts.Credits(lang, r.Held))
	}
	return common(lang, c, r)
}

// Refund words the answer to /refund.
func Refund(lang string, c Command, r messages.OperatorResult) string {
	j := r.Job
	switch {
	case r.Status == messages.OperatorDone && r.Released && j != nil:
		return texts.T(lang, texts.AdminRefundReleased, j.ID, texts.Credits(lang, j.Price), j.UserID, texts.Credits(lang, r.Balance-r.Held))
	case r.Status == messages.OperatorDone && j != nil:
		return texts.T(lang, texts.AdminRefundAdjusted, j.ID, texts.Credits(lang, j.Price), j.UserID, r.Row, texts.Credits(lang, r.Balance-r.Held))
	case r.Status == messages.OperatorDuplicate:
		return texts.T(lang, texts.AdminRefundAlready, c.JobID)
	case r.Status == messages.OperatorAlreadyReleased:
		return texts.T(lang, texts.AdminRefundFailedJob, c.JobID)
	}
	return common(lang, c, r)
}

// ChargeBack words why taking a payment's credits back was refused; "" when they were taken.
func ChargeBack(lang string, c Command, r messages.OperatorResult, purchased int64) string {
	switch r.Status {
	case messages.OperatorDone:
		return ""
	case messages.OperatorNoPurchase:
		return texts.T(lang, texts.AdminStarsUnknown, c.Charge)
	case messages.OperatorDuplicate:
		return texts.T(lang, texts.AdminStarsAlready, c.Charge)
	case messages.OperatorInsufficient:
		return texts.T(lang, texts.AdminStarsSpent, texts.Credits(lang, purchased), r.SellerID, texts.Credits(lang, r.Balance-r.Held))
	}
	return common(lang, c, r)
}

// StarsDone words a Stars refund that went through.
func StarsDone(lang string, c Command, taken messages.OperatorResult, amount int64) string {
	return texts.T(lang, texts.AdminStarsDone, c.Charge, taken.SellerID, texts.Credits(lang, amount), taken.Row, texts.Credits(lang, taken.Balance-taken.Held))
}

// StarsFailed words a Stars refund Telegram refused, after the credits went back.
func StarsFailed(lang string, why string) string {
	if len(why) > 300 {
		why = why[:300] + "…"
	}
	return texts.T(lang, texts.AdminStarsFailed, why)
}

func common(lang string, c Command, r messages.OperatorResult) string {
	switch r.Status {
	case messages.OperatorNoSeller:
		return texts.T(lang, texts.AdminNoUser, c.Seller)
	case messages.OperatorNoJob:
		return texts.T(lang, texts.AdminNoJob, c.JobID)
	case messages.OperatorDuplicate:
		return texts.T(lang, texts.AdminAlreadyDone)
	case messages.OperatorOutOfRange:
		return texts.T(lang, texts.AdminOutOfRange)
	}
	return texts.T(lang, texts.SomethingWrong)
}

// User words /user: balance, held, blocked or not, and the last jobs.
func User(cfg config.Config, lang string, u store.User, jobs []messages.Job, refunded func(jobID uint64) bool) string {
	lines := make([]string, 0, len(jobs))
	for _, j := range jobs {
		lines = append(lines, conversation.JobLine(cfg, lang, j, refunded(j.ID)))
	}
	list := strings.Join(lines, "\n\n")
	if len(lines) == 0 {
		list = texts.T(lang, texts.AdminNoJobs)
	}
	blocked := texts.T(lang, texts.AdminNo)
	if u.Blocked {
		blocked = texts.T(lang, texts.AdminYes)
	}
	return texts.T(lang, texts.AdminUser, u.ID, u.FirstName, u.Lang, texts.Credits(lang, u.Balance), texts.Credits(lang, u.Held),
		blocked, texts.Date(lang, u.CreatedAt), texts.Date(lang, u.SeenAt), list)
}

// Stats words /stats.
func Stats(lang string, st store.Stats) string {
	return texts.T(lang, texts.AdminStats, st.Jobs, st.JobsDone, st.JobsFailed, st.JobsInFlight, st.CreditsSold, st.Purchases, st.CreditsSpent, st.Adjusted, st.Sellers)
}

// SellerNotice is what a seller is told about an operator's change to their credits, in their
// language; "" when there is nothing to tell.
func SellerNotice(cfg config.Config, lang string, cmd messages.OperatorCommand, r messages.OperatorResult) string {
	available := texts.Credits(lang, r.Balance-r.Held)
	switch {
	case r.Status != messages.OperatorDone:
		return ""
	case cmd.Op == messages.OpGrant:
		key := texts.SellerGranted
		if cmd.Amount < 0 {
			key = texts.SellerDebited
		}
		text := texts.T(lang, key, texts.Credits(lang, abs(cmd.Amount)), available)
		if cmd.Reason != "" {
			text += texts.T(lang, texts.SellerReason, cmd.Reason)
		}
		return text
	case (cmd.Op == messages.OpRefund || cmd.Op == messages.OpCancel) && !r.Released && r.Job != nil:
		return texts.T(lang, texts.SellerJobRefunded, texts.Credits(lang, r.Job.Price), conversation.KindTitle(cfg, lang, r.Job.Kind), available)
	}
	return "" // a cancelled job tells its seller itself; a Stars refund, once Telegram made it (StarsNotice)
}

// StarsNotice tells a buyer their Stars were refunded and the pack's credits taken back.
func StarsNotice(lang string, taken, available int64) string {
	return texts.T(lang, texts.SellerStarsRefunded, texts.Credits(lang, taken), texts.Credits(lang, available))
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}
