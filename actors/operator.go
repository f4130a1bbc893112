package actors

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/anthdm/hollywood/actor"
	"github.com/go-telegram/bot/models"

	"neurocards/messages"
	"neurocards/store"
	"neurocards/telegram"
	"neurocards/texts"
)

var operatorCommands = map[string]bool{"grant": true, "user": true, "stats": true, "refund": true, "refundstars": true}

// operatorCommand recognises an operator command from an operator.
func (s *session) operatorCommand(u *models.Update) (cmd, arg string, ok bool) {
	if u.Message == nil || !s.d.Config.IsAdmin(s.uid) {
		return "", "", false
	}
	text := strings.TrimSpace(u.Message.Text)
	if !strings.HasPrefix(text, "/") {
		return "", "", false
	}
	cmd, arg = splitCommand(text)
	return cmd, arg, operatorCommands[cmd]
}

// operate carries out an operator command in its own store transactions, before the turn that
// records the update: each is idempotent (keyed by the update, the job or the charge), so a
// re-delivery after a crash in between does nothing twice. wait is true when the answer needs
// Telegram first (a Stars refund); it comes back as starsRefunded.
func (s *session) operate(c *actor.Context, m messages.Update, cmd, arg string) (replies []reply, wait bool) {
	d, u := s.d, m.Update
	lang := texts.Lang(u.Message.From.LanguageCode)
	say := func(key texts.Key, args ...any) []reply { return []reply{{text: texts.T(lang, key, args...)}} }
	fail := func(what string, err error) []reply {
		d.Log.Error("operator command failed", "command", what, "user_id", s.uid, "err", err)
		return say(texts.SomethingWrong)
	}
	me, exists, err := d.Store.User(s.uid)
	if err != nil {
		return fail(cmd, err), false
	}
	if exists && u.ID <= me.LastUpdate {
		return nil, false // seen before: the turn says so
	}
	if exists && me.LangChosen {
		lang = me.Lang
	}
	d.Log.Info("operator command", "user_id", s.uid, "command", cmd, "args", arg)
	switch cmd {
	case "grant":
		return s.grant(u.ID, arg, lang, say, fail), false
	case "user":
		id, err := strconv.ParseInt(arg, 10, 64)
		if err != nil {
			return say(texts.AdminUserUsage), false
		}
		return s.describeUser(id, lang, say, fail), false
	case "stats":
		st, err := d.Store.Stats(texts.DayStart(d.Store.Now()))
		if err != nil {
			return fail(cmd, err), false
		}
		return say(texts.AdminStats, st.Jobs, st.JobsDone, st.JobsFailed, st.JobsInFlight, st.CreditsSold, st.Purchases, st.CreditsSpent, st.Adjusted, st.Sellers), false
	case "refund":
		id, err := strconv.ParseUint(strings.TrimPrefix(arg, "#"), 10, 64)
		if err != nil {
			return say(texts.AdminRefundUsage), false
		}
		return s.refundJob(id, lang, say, fail), false
	case "refundstars":
		return s.refundStars(c, m, arg, lang, say, fail)
	}
	return nil, false
}

type (
	sayFunc  func(key texts.Key, args ...any) []reply
	failFunc func(what string, err error) []reply
)

// grant is /grant <user_id> <credits> [reason]: one adjust row, keyed by the update, that never
// takes a seller below what their jobs in flight hold.
func (s *session) grant(updateID int64, arg, lang string, say sayFunc, fail failFunc) []reply {
	d := s.d
	f := strings.Fields(arg)
	if len(f) < 2 {
		return say(texts.AdminGrantUsage)
	}
	target, err1 := strconv.ParseInt(f[0], 10, 64)
	amount, err2 := strconv.ParseInt(strings.TrimPrefix(f[1], "+"), 10, 64)
	if err1 != nil || err2 != nil || amount == 0 {
		return say(texts.AdminGrantUsage)
	}
	reason := strings.Join(f[2:], " ")
	u, e, err := d.Store.Adjust(target, amount, fmt.Sprintf("grant:%d:%d", s.uid, updateID), reason, s.uid)
	switch {
	case errors.Is(err, store.ErrNoUser):
		return say(texts.AdminNoUser, target)
	case errors.Is(err, store.ErrDuplicate):
		return say(texts.AdminAlreadyDone)
	case errors.Is(err, store.ErrInsufficient):
		cur, _, err := d.Store.User(target)
		if err != nil {
			return fail("grant", err)
		}
		return say(texts.AdminGrantRefused, target, texts.Credits(lang, cur.Available()), texts.Credits(lang, cur.Balance), texts.Credits(lang, cur.Held))
	case err != nil:
		return fail("grant", err)
	}
	d.Log.Info("operator adjusted a balance", "by", s.uid, "user_id", target, "amount", amount, "reason", reason, "row", e.Seq)
	d.Metrics.OperatorAction(messages.OpGrant, amount)
	key := texts.SellerGranted
	if amount < 0 {
		key = texts.SellerDebited
	}
	text := texts.T(u.Lang, key, texts.Credits(u.Lang, abs(amount)), texts.Credits(u.Lang, u.Available()))
	if reason != "" {
		text += texts.T(u.Lang, texts.SellerReason, reason)
	}
	s.post(target, reply{text: text})
	return say(texts.AdminGranted, texts.SignedCredits(lang, amount), target, e.Seq, texts.Credits(lang, u.Balance), texts.Credits(lang, u.Held))
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// describeUser is /user <user_id>: balance, held, blocked or not, and the last jobs.
func (s *session) describeUser(id int64, lang string, say sayFunc, fail failFunc) []reply {
	d := s.d
	u, ok, err := d.Store.User(id)
	if err != nil {
		return fail("user", err)
	}
	if !ok {
		return say(texts.AdminNoUser, id)
	}
	jobs, err := d.Store.Jobs(id, 5)
	if err != nil {
		return fail("user", err)
	}
	lines := make([]string, 0, len(jobs))
	for _, j := range jobs {
		refunded, err := d.Store.KeyExists(store.RefundJobKey(j.ID))
		if err != nil {
			return fail("user", err)
		}
		lines = append(lines, jobLine(d.Config, lang, j, refunded))
	}
	list := strings.Join(lines, "\n\n")
	if len(lines) == 0 {
		list = texts.T(lang, texts.AdminNoJobs)
	}
	blocked := texts.T(lang, texts.AdminNo)
	if u.Blocked {
		blocked = texts.T(lang, texts.AdminYes)
	}
	return say(texts.AdminUser, u.ID, u.FirstName, u.Lang, texts.Credits(lang, u.Balance), texts.Credits(lang, u.Held),
		blocked, texts.Date(lang, u.CreatedAt), texts.Date(lang, u.SeenAt), list)
}

// refundJob is /refund <job_id>: a job in flight is stopped and its hold released; a delivered
// job's price comes back in one adjust row; either way the seller is told.
func (s *session) refundJob(id uint64, lang string, say sayFunc, fail failFunc) []reply {
	d := s.d
	r, err := d.Store.RefundJob(id, s.uid)
	switch {
	case errors.Is(err, store.ErrNoJob):
		return say(texts.AdminNoJob, id)
	case errors.Is(err, store.ErrAlreadyReleased):
		return say(texts.AdminRefundFailedJob, id)
	case errors.Is(err, store.ErrDuplicate):
		return say(texts.AdminRefundAlready, id)
	case err != nil:
		return fail("refund", err)
	}
	j, u := r.Job, r.User
	price := texts.Credits(lang, j.Price)
	d.Metrics.OperatorAction(messages.OpRefund, r.Adjust.Amount)
	if r.Released {
		d.Log.Info("operator cancelled a job in flight", "by", s.uid, "job_id", j.ID, "user_id", j.UserID)
		s.post(j.ChatID, reply{text: texts.T(j.Lang, texts.FailCancelled, texts.Credits(j.Lang, j.Price)), kb: menuKeyboard(d.Config, j.Lang)})
		return say(texts.AdminRefundReleased, j.ID, price, j.UserID, texts.Credits(lang, u.Available()))
	}
	d.Log.Info("operator refunded a delivered job", "by", s.uid, "job_id", j.ID, "user_id", j.UserID, "row", r.Adjust.Seq)
	title := j.Kind
	if k, ok := d.Config.Kind(j.Kind); ok {
		title = k.TitleIn(u.Lang)
	}
	s.post(j.ChatID, reply{text: texts.T(u.Lang, texts.SellerJobRefunded, texts.Credits(u.Lang, j.Price), title, texts.Credits(u.Lang, u.Available()))})
	return say(texts.AdminRefundAdjusted, j.ID, price, j.UserID, r.Adjust.Seq, texts.Credits(lang, u.Available()))
}

// refundStars is /refundstars <charge_id>: take the pack's credits back first, in one
// transaction that refuses if the buyer no longer has them, so they cannot be spent while
// Telegram refunds the Stars; then ask Telegram (off the actor: the answer comes back as
// starsRefunded); if Telegram refuses, give the credits back. A re-delivered command finds its
// own charge-back and only asks Telegram again, which answers "already refunded" if it did.
func (s *session) refundStars(c *actor.Context, m messages.Update, arg, lang string, say sayFunc, fail failFunc) ([]reply, bool) {
	d := s.d
	charge, _, _ := strings.Cut(arg, " ")
	if charge == "" {
		return say(texts.AdminStarsUsage), false
	}
	attempt := strconv.FormatInt(m.Update.ID, 10)
	cb, err := d.Store.ChargeBack(charge, attempt, s.uid)
	switch {
	case errors.Is(err, store.ErrNoPurchase):
		return say(texts.AdminStarsUnknown, charge), false
	case errors.Is(err, store.ErrDuplicate):
		return say(texts.AdminStarsAlready, charge), false
	case errors.Is(err, store.ErrInsufficient):
		buyer, _, err := d.Store.User(cb.Purchase.UserID)
		if err != nil {
			return fail("refundstars", err), false
		}
		return say(texts.AdminStarsSpent, texts.Credits(lang, cb.Purchase.Amount), buyer.ID, texts.Credits(lang, buyer.Available())), false
	case err != nil:
		return fail("refundstars", err), false
	}
	e, self, g := c.Engine(), c.PID(), d.Telegram
	goSafe(func(reason, _ string) {
		e.Send(self, starsRefunded{update: m, lang: lang, charge: charge, attempt: attempt, back: cb, err: fmt.Errorf("panic: %s", reason)})
	}, func() {
		ctx, cancel := g.CallContext()
		defer cancel()
		err := g.RefundStarPayment(ctx, cb.Purchase.UserID, charge)
		e.Send(self, starsRefunded{update: m, lang: lang, charge: charge, attempt: attempt, back: cb, err: err})
	})
	return nil, true
}

// finishStarsRefund tells the operator and the buyer how a Stars refund went; if Telegram did
// not refund, the credits taken for it go back.
func (s *session) finishStarsRefund(m starsRefunded) []reply {
	d, lang := s.d, m.lang
	say := func(key texts.Key, args ...any) []reply { return []reply{{text: texts.T(lang, key, args...)}} }
	if m.err != nil && !telegram.IsAlreadyRefunded(m.err) {
		d.Log.Warn("refunding Stars failed; giving the credits back", "by", s.uid, "charge_id", m.charge, "err", m.err)
		if _, err := d.Store.UndoChargeBack(m.charge, m.attempt, s.uid); err != nil && !errors.Is(err, store.ErrDuplicate) {
			d.Log.Error("Stars not refunded and the credits not given back; adjust by hand", "charge_id", m.charge, "user_id", m.back.Purchase.UserID, "err", err)
			return say(texts.SomethingWrong)
		}
		return say(texts.AdminStarsFailed, m.err.Error())
	}
	u, _, err := d.Store.User(m.back.Purchase.UserID)
	if err != nil {
		return say(texts.SomethingWrong)
	}
	taken := -m.back.Adjust.Amount
	d.Log.Info("operator refunded Stars", "by", s.uid, "charge_id", m.charge, "user_id", u.ID, "taken", taken)
	d.Metrics.OperatorAction("refundstars", m.back.Adjust.Amount)
	if !m.back.Resumed {
		s.post(u.ID, reply{text: texts.T(u.Lang, texts.SellerStarsRefunded, texts.Credits(u.Lang, taken), texts.Credits(u.Lang, u.Available()))})
	}
	return say(texts.AdminStarsDone, m.charge, u.ID, texts.Credits(lang, taken), m.back.Adjust.Seq, texts.Credits(lang, u.Available()))
}
