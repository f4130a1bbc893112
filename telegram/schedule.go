package telegram

import (
	"container/heap"
	"context"
	"fmt"
	"slices"
	"time"
)

// worth orders what waits for Telegram's budget (about 30 messages a second to all chats, one a
// second to each): what the seller waits for goes first.
type worth int

const (
	reply  worth = iota // answers to the seller's own actions, results, outcomes (Post, SendFile)
	status              // a new status message (PostStatus)
	edit                // a status edit (PostEdit): last, and only the newest text of a message
	worths
)

// maxTurns bounds the calls under way at once, whatever the budget allows: the rest wait as queue
// entries, not goroutines, and a restart's burst of status edits does not become thousands of
// requests in flight. Real calls take a fraction of a second, so this carries far more than
// Telegram's 30 messages a second.
const maxTurns = 64

// posted is a call waiting in its chat's queue. run gets the turn it runs in; seq is its place
// in the order calls were posted in, which the line for the budget keeps within a worth.
type posted struct {
	run   func(t *turn)
	seq   uint64
	worth worth
	// Edits only: the message, and what to do instead when a newer edit of it replaces this one.
	messageID  int
	superseded func()
}

// turn is a chat's right to send, held by one posted call at a time so that a chat's messages are
// spaced as Telegram wants and never overtake each other: new messages go in the order they were
// posted, whatever their worth (an apology never arrives before the "accepted" it follows), and
// only edits, which change a message already there, wait behind them. A turn starts with one
// slot of the global budget; every further message in the same turn (a 429 sent again) waits
// for another.
type turn struct {
	chat  *chat
	worth worth
	seq   uint64 // the call's place in the posting order
	slot  bool
}

type turnKey struct{}

// turnOf is the turn ctx runs in, if it is one for chatID.
func turnOf(ctx context.Context, chatID int64) *turn {
	t, _ := ctx.Value(turnKey{}).(*turn)
	if t == nil || t.chat.id != chatID {
		return nil
	}
	return t
}

// waiter is an entry in the line for the global budget: a chat waiting to start a turn, or a turn
// waiting for another slot.
type waiter struct {
	worth worth
	seq   uint64 // the posting order of the call it waits for: oldest first within a worth
	grant func() // called with g.mu held when the slot is granted
	index int    // in its worth's heap
}

// line is the waiters of one worth, oldest call first.
type line []*waiter

func (l line) Len() int           { return len(l) }
func (l line) Less(i, j int) bool { return l[i].seq < l[j].seq }
func (l line) Swap(i, j int) {
	l[i], l[j] = l[j], l[i]
	l[i].index, l[j].index = i, j
}
func (l *line) Push(x any) {
	w := x.(*waiter)
	w.index = len(*l)
	*l = append(*l, w)
}
func (l *line) Pop() any {
	old := *l
	w := old[len(old)-1]
	old[len(old)-1] = nil
	*l = old[:len(old)-1]
	return w
}

// join puts w in line for the budget. Needs g.mu.
func (g *Gateway) join(w *waiter) { heap.Push(&g.line[w.worth], w) }

// leave takes w out of the line. Needs g.mu.
func (g *Gateway) leave(w *waiter) { heap.Remove(&g.line[w.worth], w.index) }

// Post queues op to run after every op posted earlier for the same chat (edits aside), so the
// seller sees replies in the order they were decided. Posted ops are answers to the seller's own
// actions: across chats nothing goes to Telegram before them, and a chat with one waiting is
// served as soon as one of them would be. Each op gets a context bounded by twice the call
// timeout, from when it starts.
func (g *Gateway) Post(chatID int64, op func(ctx context.Context)) { g.post(chatID, reply, op) }

// PostStatus is Post for a new status message: across chats it goes after the sellers' answers
// and results, before status edits; in its own chat, in the order posted.
func (g *Gateway) PostStatus(chatID int64, op func(ctx context.Context)) {
	g.post(chatID, status, op)
}

// PostEdit queues op, an edit of message messageID in chatID, at the lowest worth: it goes when
// nothing of more worth waits for the budget. An edit only ever needs the newest text, so while
// op waits, a later PostEdit of the same message takes its place (and its place in line), and op
// is then called at once, on that PostEdit's goroutine, with superseded set: it must send
// nothing, only account for the edit that will not be made.
func (g *Gateway) PostEdit(chatID int64, messageID int, op func(ctx context.Context, superseded bool)) {
	p := &posted{
		run:        g.timed(func(ctx context.Context) { op(ctx, false) }),
		worth:      edit,
		messageID:  messageID,
		superseded: func() { op(context.Background(), true) },
	}
	g.mu.Lock()
	c := g.chatLocked(chatID)
	for i, q := range c.edits {
		if q.messageID == messageID {
			p.seq = q.seq
			c.edits[i] = p
			g.mu.Unlock()
			q.superseded()
			return
		}
	}
	p.seq = g.nextSeq()
	g.enqueue(c, p)
	g.mu.Unlock()
}

func (g *Gateway) post(chatID int64, w worth, op func(ctx context.Context)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.enqueue(g.chatLocked(chatID), &posted{run: g.timed(op), seq: g.nextSeq(), worth: w})
}

// nextSeq numbers a posted call. Needs g.mu.
func (g *Gateway) nextSeq() uint64 {
	g.seq++
	return g.seq
}

// timed runs op in a turn with a context bounded by twice the call timeout from its start, and
// survives its panic.
func (g *Gateway) timed(op func(ctx context.Context)) func(t *turn) {
	return func(t *turn) {
		ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), turnKey{}, t), 2*g.cfg.CallTimeout)
		defer cancel()
		defer func() {
			if v := recover(); v != nil {
				g.log.Error("telegram: posted call panicked", "panic", fmt.Sprint(v))
			}
		}()
		op(ctx)
	}
}

// inTurn runs call in a turn of chatID at worth w, waiting for it in the chat's queue: a call
// made outside a posted op (a result being uploaded) keeps the chat's order and spacing too.
func (g *Gateway) inTurn(ctx context.Context, chatID int64, w worth, call func(ctx context.Context) error) error {
	done := make(chan error, 1)
	p := &posted{run: func(t *turn) { done <- call(context.WithValue(ctx, turnKey{}, t)) }, worth: w}
	g.mu.Lock()
	p.seq = g.nextSeq()
	c := g.chatLocked(chatID)
	g.enqueue(c, p)
	g.mu.Unlock()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	g.mu.Lock()
	i := slices.Index(c.sends, p)
	if i < 0 {
		// Its turn has come: the call sees ctx ended and says so.
		g.mu.Unlock()
		return <-done
	}
	// Still queued: take it out, so a call given up on is never made, and line the chat up again
	// for what it has left.
	c.sends = slices.Delete(c.sends, i, i+1)
	if c.waiting != nil {
		g.leave(c.waiting)
		c.waiting = nil
	}
	g.settle(c)
	g.mu.Unlock()
	return ctx.Err()
}

// enqueue adds p to the chat's queue and gets the chat in line for the budget. Needs g.mu.
func (g *Gateway) enqueue(c *chat, p *posted) {
	if c.pending() == 0 && !c.running {
		g.busy++
	}
	if p.worth == edit {
		c.edits = append(c.edits, p)
	} else {
		c.sends = append(c.sends, p)
	}
	if c.waiting != nil && p.worth < c.waiting.worth {
		// Waiting behind less worthy calls: move up to the worth of what it now has to send.
		g.leave(c.waiting)
		c.waiting = nil
	}
	g.ready(c)
}

// ready gets a chat with something to send in line for the budget once its spacing and any 429
// pause have passed. Needs g.mu.
func (g *Gateway) ready(c *chat) {
	if c.running || c.waiting != nil || c.timer != nil || c.pending() == 0 {
		return
	}
	now := time.Now()
	if at := laterOf(c.next, c.notBefore); at.After(now) {
		c.timer = time.AfterFunc(at.Sub(now), func() {
			g.mu.Lock()
			defer g.mu.Unlock()
			c.timer = nil
			g.ready(c)
		})
		return
	}
	c.waiting = &waiter{worth: c.best(), seq: c.head().seq, grant: func() { g.start(c) }}
	g.join(c.waiting)
	g.pump()
}

// start begins a chat's turn with the slot just granted: its next call runs, with the worth of
// the most worthy one waiting behind it. Needs g.mu.
func (g *Gateway) start(c *chat) {
	c.waiting = nil
	if c.pending() == 0 {
		return // not reached: a chat with nothing queued is out of line (settle)
	}
	w, p := c.best(), c.head()
	if len(c.sends) > 0 {
		c.sends[0] = nil
		c.sends = c.sends[1:]
	} else {
		c.edits[0] = nil
		c.edits = c.edits[1:]
	}
	c.running = true
	g.turns++
	t := &turn{chat: c, worth: w, seq: p.seq, slot: true}
	go func() {
		p.run(t)
		g.mu.Lock()
		defer g.mu.Unlock()
		c.running = false
		c.lastUsed = time.Now()
		g.turns--
		g.settle(c)
		g.pump()
	}()
}

// settle lines the chat up again if it has more to send, or takes it out of line and counts it
// idle. Needs g.mu.
func (g *Gateway) settle(c *chat) {
	if c.pending() > 0 {
		g.ready(c)
		return
	}
	if c.waiting != nil {
		g.leave(c.waiting)
		c.waiting = nil
	}
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	if c.running {
		return
	}
	if g.busy--; g.busy == 0 && g.idle != nil {
		close(g.idle)
		g.idle = nil
	}
}

// pump grants the budget's slots: first to turns under way that need another (a 429 sent again),
// then to the line, most worthy first and, within a worth, the call posted first — a chat's next
// call keeps the age it was posted with, so a seller's video is not sent behind every edit posted
// after it — while fewer than maxTurns calls are under way. It arms itself for the next slot.
// Needs g.mu.
func (g *Gateway) pump() {
	for {
		first := g.next()
		if first == nil {
			return
		}
		now := time.Now()
		r := g.global.ReserveN(now, 1)
		if d := r.DelayFrom(now); d > 0 {
			r.CancelAt(now)
			if g.pumping == nil {
				g.pumping = time.AfterFunc(d, func() {
					g.mu.Lock()
					defer g.mu.Unlock()
					g.pumping = nil
					g.pump()
				})
			}
			return
		}
		if len(g.again) > 0 && g.again[0] == first {
			g.again[0] = nil
			g.again = g.again[1:]
		} else {
			g.leave(first)
		}
		first.grant()
	}
}

// next is who gets the next slot, nil when nobody may have one now. Needs g.mu.
func (g *Gateway) next() *waiter {
	if len(g.again) > 0 {
		return g.again[0]
	}
	if g.turns >= maxTurns {
		return nil // a turn ending pumps again
	}
	for w := range worths {
		if g.line[w].Len() > 0 {
			return g.line[w][0]
		}
	}
	return nil
}

// slot waits, inside turn t, for the chat's spacing and a slot of the global budget, for a
// message after the turn's first.
func (g *Gateway) slot(ctx context.Context, t *turn) error {
	c := t.chat
	g.mu.Lock()
	wait := time.Until(laterOf(c.next, c.notBefore))
	g.mu.Unlock()
	if wait > 0 {
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
	granted := make(chan struct{})
	w := &waiter{worth: t.worth, seq: t.seq, grant: func() { close(granted) }}
	g.mu.Lock()
	g.again = append(g.again, w)
	g.pump()
	g.mu.Unlock()
	select {
	case <-granted:
		return nil
	case <-ctx.Done():
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-granted:
		return nil
	default:
		g.again = slices.DeleteFunc(g.again, func(x *waiter) bool { return x == w })
		return ctx.Err()
	}
}

// pending counts the calls queued for the chat.
func (c *chat) pending() int { return len(c.sends) + len(c.edits) }

// head is the chat's next call: its oldest new message, or else its oldest edit.
func (c *chat) head() *posted {
	if len(c.sends) > 0 {
		return c.sends[0]
	}
	return c.edits[0]
}

// best is the worth the chat waits at: that of the most worthy call it has queued, since its
// next call stands before it.
func (c *chat) best() worth {
	best := edit
	for _, p := range c.sends {
		best = min(best, p.worth)
	}
	return best
}

func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
