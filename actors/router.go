package actors

import (
	"strconv"
	"time"

	"github.com/anthdm/hollywood/actor"
	"github.com/go-telegram/bot/models"

	"neurocards/conversation"
	"neurocards/messages"
	"neurocards/texts"
)

// recentUpdates is how many update ids the router remembers to drop duplicates within a run.
const recentUpdates = 4096

// router is the one owner of sessions: it spawns a seller's session on their first update and
// hands it every update after, in order. At start it brings back the session of every seller
// with an unfinished job, and the session resumes the job.
type router struct {
	d        *Deps
	sessions map[int64]*actor.PID
	sent     map[int64]int // updates given to each session, to tell whether an idle one is still idle
	// retiring holds what arrives for sellers whose session is stopping (updates, operator
	// commands, blocks); a fresh session gets it once the old one has stopped, so a session id is
	// never spawned twice.
	retiring  map[int64][]any
	seen      map[int64]struct{}
	order     []int64
	stopping  bool
	poisoned  bool
	onStopped func()
}

// NewRouter is the producer of the root actor; onStopped is called when the whole tree has stopped.
func NewRouter(d *Deps, onStopped func()) actor.Producer {
	return func() actor.Receiver {
		return &router{d: d, sessions: map[int64]*actor.PID{}, sent: map[int64]int{},
			retiring: map[int64][]any{}, seen: map[int64]struct{}{}, onStopped: onStopped}
	}
}

// RouterID is the router's actor id under the "router" kind.
const RouterID = "main"

// RouterOpts are the options to spawn the router with.
func RouterOpts(d *Deps) []actor.OptFunc { return d.spawnOpts("router", RouterID) }

func (r *router) Receive(c *actor.Context) {
	switch m := c.Message().(type) {
	case actor.Started:
		r.d.Line.Attach(c.Engine())
		r.recover(c)
	case messages.Update:
		r.route(c, m)
	case messages.OperatorCommand:
		r.operator(c, m)
	case messages.SellerBlocked:
		r.deliver(c, m.UserID, m)
	case messages.TaskCallback:
		r.taskCallback(c, m)
	case messages.Crashed:
		// The recover middleware kept the session running; its state is in the store.
		r.d.Log.Error("session panicked", "actor", m.ID, "panic", m.Reason, "stack", m.Stack)
	case messages.SessionIdle:
		r.retire(c, m)
	case messages.ChildStopped:
		r.sessionStopped(c, m.ID)
	case messages.Stop:
		r.stopping = true
		for _, pid := range r.sessions {
			c.Send(pid, messages.Stop{})
		}
		r.maybeStop(c)
	case actor.Stopped:
		if r.onStopped != nil {
			r.onStopped()
		}
	}
}

// retire stops an idle session if nothing was sent to it since it said so. Its seller's next
// update gets a fresh session, rebuilt from the store.
func (r *router) retire(c *actor.Context, m messages.SessionIdle) {
	for uid, pid := range r.sessions {
		if c.Sender() == nil || pid.ID != c.Sender().ID {
			continue
		}
		if r.stopping || r.sent[uid] != m.Handled {
			return
		}
		delete(r.sessions, uid)
		delete(r.sent, uid)
		r.retiring[uid] = nil
		c.Send(pid, messages.Stop{})
		r.d.Metrics.SessionRetired()
		return
	}
}

func (r *router) sessionStopped(c *actor.Context, id string) {
	for uid, pid := range r.sessions {
		if pid.ID == id {
			delete(r.sessions, uid)
			delete(r.sent, uid)
		}
	}
	for uid, queued := range r.retiring {
		if sessionID(c, uid) != id {
			continue
		}
		delete(r.retiring, uid)
		if len(queued) > 0 {
			pid := r.session(c, uid)
			for _, m := range queued {
				if _, ok := m.(messages.Update); ok {
					r.sent[uid]++
				}
				c.Send(pid, m)
			}
			if r.stopping {
				c.Send(pid, messages.Stop{})
			}
		}
	}
	r.maybeStop(c)
}

// maybeStop stops the router once every session has stopped: its cleanup then waits on nothing.
func (r *router) maybeStop(c *actor.Context) {
	if r.stopping && len(r.sessions) == 0 && len(r.retiring) == 0 && !r.poisoned {
		r.poisoned = true
		c.Engine().Poison(c.PID())
	}
}

func (r *router) recover(c *actor.Context) {
	jobs, err := r.d.Store.ActiveJobs()
	if err != nil {
		r.d.Log.Error("loading unfinished jobs failed", "err", err)
		return
	}
	// One pass over the store: each session gets its seller's jobs rather than reading them
	// again, and the jobs that have a KIE task read it spread over a short window, not all at once.
	bySeller := map[int64][]resumeJob{}
	var order []int64
	reads, began := 0, r.d.Clock.Now()
	for _, j := range jobs {
		if _, ok := bySeller[j.UserID]; !ok {
			order = append(order, j.UserID)
		}
		rj := resumeJob{job: j}
		if j.Stage == messages.StageSubmitted && !j.Terminal() {
			rj.readAt = began.Add(time.Duration(reads) * time.Second / resumeReadsPerSecond)
			reads++
		}
		bySeller[j.UserID] = append(bySeller[j.UserID], rj)
	}
	for _, uid := range order {
		pid := c.SpawnChild(newSession(r.d, uid, bySeller[uid]), "session", r.d.spawnOpts("session", strconv.FormatInt(uid, 10))...)
		r.sessions[uid] = pid
	}
	if len(jobs) > 0 {
		r.d.Log.Info("resumed unfinished jobs", "jobs", len(jobs), "sellers", len(order), "tasks to read", reads)
	}
}

// resumeReadsPerSecond paces the first reads of KIE tasks after a restart: ten thousand jobs are
// all due within two seconds, without ten thousand requests at one instant (the KIE client's 64
// connections bound them further against a distant KIE).
const resumeReadsPerSecond = 5000

// resumeJob is a job resumed at start, with when to read its task (zero: at once). The times are
// set before any actor is spawned, so the time spawning takes counts towards them.
type resumeJob struct {
	job    messages.Job
	readAt time.Time
}

func (r *router) route(c *actor.Context, m messages.Update) {
	uid := senderOf(m.Update)
	if uid == 0 || r.duplicate(m.Update.ID) {
		if cq := m.Update.CallbackQuery; uid == 0 && cq != nil {
			r.refuseButton(cq)
		}
		m.Done()
		return
	}
	if q := m.Update.PreCheckoutQuery; q != nil {
		r.preCheckout(q)
		m.Done()
		return
	}
	r.deliver(c, uid, m)
}

// deliver hands msg to the seller's session, spawning it if needed, or holds it while their old
// session is stopping.
func (r *router) deliver(c *actor.Context, uid int64, msg any) {
	if queued, ok := r.retiring[uid]; ok {
		r.retiring[uid] = append(queued, msg)
		return
	}
	pid := r.session(c, uid)
	if _, ok := msg.(messages.Update); ok {
		r.sent[uid]++
	}
	c.Send(pid, msg)
}

// operator routes an operator's command to the session of the seller it acts on: named, or the
// owner of the job it names.
func (r *router) operator(c *actor.Context, cmd messages.OperatorCommand) {
	uid := cmd.Seller
	if uid == 0 && cmd.JobID != 0 {
		j, ok, err := r.d.Store.Job(cmd.JobID)
		switch {
		case err != nil:
			r.d.Log.Error("routing an operator command failed", "job_id", cmd.JobID, "err", err)
			answerOperator(cmd, messages.OperatorResult{Status: messages.OperatorFailed, Detail: err.Error()})
			return
		case !ok:
			answerOperator(cmd, messages.OperatorResult{Status: messages.OperatorNoJob})
			return
		}
		uid = j.UserID
	}
	if uid <= 0 {
		answerOperator(cmd, messages.OperatorResult{Status: messages.OperatorNoSeller})
		return
	}
	cmd.Seller = uid
	r.deliver(c, uid, cmd)
}

// taskCallback hands KIE's callback to the session of the job's seller, if the job is still in
// flight; a callback for a job that ended (or never existed) changes nothing.
func (r *router) taskCallback(c *actor.Context, m messages.TaskCallback) {
	j, ok, err := r.d.Store.Job(m.JobID)
	if err != nil || !ok || j.Terminal() || j.TaskID != m.TaskID {
		return
	}
	r.deliver(c, j.UserID, m)
}

func answerOperator(cmd messages.OperatorCommand, res messages.OperatorResult) {
	if cmd.Reply != nil {
		select {
		case cmd.Reply <- res:
		default:
		}
	}
}

// refuseButton stops the spinner of a button tapped outside the seller's private chat with the
// bot, and says why nothing happened.
func (r *router) refuseButton(cq *models.CallbackQuery) {
	g, log := r.d.Telegram, r.d.Log
	text := texts.T(texts.Lang(cq.From.LanguageCode), texts.PrivateOnly)
	log.Info("a button outside a private chat was ignored", "user_id", cq.From.ID)
	go func() {
		ctx, cancel := g.CallContext()
		defer cancel()
		if err := g.Answer(ctx, cq.ID, text); err != nil {
			log.Debug("answering a callback failed", "err", err)
		}
	}()
}

// preCheckout answers a pre_checkout_query on its own fast path: never behind a session's queue
// or a job, since Telegram cancels the payment after 10 s. It only checks the invoice against the
// configuration and says yes or why not in the buyer's language; nothing is credited until the
// successful payment arrives.
func (r *router) preCheckout(q *models.PreCheckoutQuery) {
	d := r.d
	go func() {
		lang := texts.RU
		if q.From != nil {
			lang = texts.Lang(q.From.LanguageCode)
			if u, ok, err := d.Store.User(q.From.ID); err == nil && ok && u.LangChosen {
				lang = u.Lang
			}
		}
		refusal := ""
		if _, key := conversation.CheckoutRefusal(d.Config, q.InvoicePayload, q.Currency, q.TotalAmount); key != "" {
			refusal = texts.T(lang, key)
			d.Log.Warn("pre-checkout refused", "payload", q.InvoicePayload, "currency", q.Currency, "amount", q.TotalAmount, "why", key)
		}
		ctx, cancel := d.Telegram.CallContext()
		defer cancel()
		if err := d.Telegram.AnswerPreCheckout(ctx, q.ID, refusal); err != nil {
			d.Log.Error("answering a pre-checkout query failed; the payment will be cancelled", "err", err)
			return
		}
		d.Metrics.PreCheckout(refusal == "")
	}()
}

// sessionID is the actor id a seller's session has under this router.
func sessionID(c *actor.Context, uid int64) string {
	return c.PID().ID + "/session/" + strconv.FormatInt(uid, 10)
}

func (r *router) session(c *actor.Context, uid int64) *actor.PID {
	if pid, ok := r.sessions[uid]; ok {
		return pid
	}
	pid := c.SpawnChild(newSession(r.d, uid, nil), "session", r.d.spawnOpts("session", strconv.FormatInt(uid, 10))...)
	r.sessions[uid] = pid
	return pid
}

// duplicate remembers the last few thousand update ids; the session's persisted last update id
// catches the rest (a re-delivery after a restart).
func (r *router) duplicate(id int64) bool {
	if _, ok := r.seen[id]; ok {
		return true
	}
	r.seen[id] = struct{}{}
	r.order = append(r.order, id)
	if len(r.order) > recentUpdates {
		delete(r.seen, r.order[0])
		r.order = r.order[1:]
	}
	return false
}

// senderOf is the Telegram user an update belongs to, or 0 for updates the bot ignores.
func senderOf(u *models.Update) int64 {
	switch {
	case u == nil:
		return 0
	case u.Message != nil && u.Message.From != nil && u.Message.Chat.Type == models.ChatTypePrivate:
		return u.Message.From.ID
	case u.CallbackQuery != nil && privateChat(u.CallbackQuery):
		return u.CallbackQuery.From.ID
	case u.PreCheckoutQuery != nil && u.PreCheckoutQuery.From != nil:
		return u.PreCheckoutQuery.From.ID
	}
	return 0
}

// privateChat reports whether a tapped button is on a message in the seller's private chat with
// the bot. A keyboard that ends up in a group (forwarded, or a modified client) acts on nothing:
// it would charge the tapping seller and talk to the group.
func privateChat(cq *models.CallbackQuery) bool {
	var chat models.Chat
	switch {
	case cq.Message.Message != nil:
		chat = cq.Message.Message.Chat
	case cq.Message.InaccessibleMessage != nil:
		chat = cq.Message.InaccessibleMessage.Chat
	default:
		return false // an inline message: the bot sends none
	}
	return chat.Type == models.ChatTypePrivate && chat.ID == cq.From.ID
}
