package actors

import (
	"strconv"

	"github.com/anthdm/hollywood/actor"
	"github.com/go-telegram/bot/models"

	"neurocards/messages"
)

// recentUpdates is how many update ids the router remembers to drop duplicates within a run.
const recentUpdates = 4096

// router is the one owner of sessions: it spawns a seller's session on their first update and
// hands it every update after, in order. At start it brings back the session of every seller
// with an unfinished job, and the session resumes the job.
type router struct {
	d        *Deps
	sessions map[int64]*actor.PID
	seen     map[int64]struct{}
	order    []int64
}

// NewRouter is the producer of the root actor.
func NewRouter(d *Deps) actor.Producer {
	return func() actor.Receiver {
		return &router{d: d, sessions: map[int64]*actor.PID{}, seen: map[int64]struct{}{}}
	}
}

// RouterID is the router's actor id under the "router" kind.
const RouterID = "main"

// RouterOpts are the options to spawn the router with.
func RouterOpts() []actor.OptFunc { return spawnOpts(RouterID) }

func (r *router) Receive(c *actor.Context) {
	switch m := c.Message().(type) {
	case actor.Started:
		r.recover(c)
	case messages.Update:
		r.route(c, m)
	case messages.Crashed:
		for uid, pid := range r.sessions {
			if pid.ID == m.ID {
				r.d.Log.Error("session panicked; it restarts on the next update", "user_id", uid, "panic", m.Reason, "stack", m.Stack)
				c.Engine().Poison(pid)
				delete(r.sessions, uid)
			}
		}
	}
}

func (r *router) recover(c *actor.Context) {
	jobs, err := r.d.Store.ActiveJobs()
	if err != nil {
		r.d.Log.Error("loading unfinished jobs failed", "err", err)
		return
	}
	for _, j := range jobs {
		r.session(c, j.UserID)
	}
	if len(jobs) > 0 {
		r.d.Log.Info("resumed unfinished jobs", "jobs", len(jobs), "sellers", len(r.sessions))
	}
}

func (r *router) route(c *actor.Context, m messages.Update) {
	uid := senderOf(m.Update)
	if uid == 0 || r.duplicate(m.Update.ID) {
		m.Done()
		return
	}
	c.Send(r.session(c, uid), m)
}

func (r *router) session(c *actor.Context, uid int64) *actor.PID {
	if pid, ok := r.sessions[uid]; ok {
		return pid
	}
	pid := c.SpawnChild(newSession(r.d, uid), "session", spawnOpts(strconv.FormatInt(uid, 10))...)
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
	case u.CallbackQuery != nil:
		return u.CallbackQuery.From.ID
	case u.PreCheckoutQuery != nil && u.PreCheckoutQuery.From != nil:
		return u.PreCheckoutQuery.From.ID
	}
	return 0
}
