package actors

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"github.com/anthdm/hollywood/actor"
	"golang.org/x/time/rate"

	"neurocards/clock"
	"neurocards/kie"
	"neurocards/messages"
)

// Line is the queue of jobs waiting to create a KIE task. KIE allows about CreatePer10s
// createTask calls per ten seconds, and none while its breaker is open: the line hands out that
// budget one job at a time (messages.SlotGranted), fairly — every seller's first waiting job goes
// before anyone's second, and among equals the oldest job first — so a burst, or the end of an
// outage, never becomes a thundering herd. A job that waits knows its place and an estimate of
// its start. The line is memory only: at a restart every job in flight joins again.
type Line struct {
	clock   clock.Clock
	limiter *rate.Limiter
	every   time.Duration // the budget's pace: one createTask per every
	recheck time.Duration // how often an open breaker is looked at again
	open    func() string // the KIE breaker's state
	parked  func(n int)   // told how many jobs wait because KIE is not answering

	mu      sync.Mutex
	engine  *actor.Engine
	waiting []*inLine          // sorted by key
	byJob   map[uint64]*inLine // the same entries, by job
	ranks   map[int64]int      // jobs each seller has in the line
	timer   clock.Timer        // the next grant, when one is armed
	probing time.Time          // when the last half-open probe was granted
}

type inLine struct {
	job     uint64
	seller  int64
	rank    int       // how many of the seller's jobs were in the line when it joined
	created time.Time // the job's confirmation: oldest first
	pid     *actor.PID
}

func (a *inLine) key(b *inLine) int {
	return cmp.Or(cmp.Compare(a.rank, b.rank), a.created.Compare(b.created), cmp.Compare(a.job, b.job))
}

// NewLine makes a line that grants at most per10s createTask calls in any ten seconds on clk
// (kie.NewCreateLimiter: the one place KIE's limit is kept), none while breaker says "open" and
// one per recheck while it says "half-open".
func NewLine(clk clock.Clock, per10s int, recheck time.Duration, breaker func() string, parked func(n int)) *Line {
	limiter := kie.NewCreateLimiter(per10s)
	every := time.Duration(float64(time.Second) / float64(limiter.Limit()))
	if parked == nil {
		parked = func(int) {}
	}
	return &Line{
		clock: clk, every: every, recheck: recheck, open: breaker, parked: parked, limiter: limiter,
		byJob: map[uint64]*inLine{}, ranks: map[int64]int{},
	}
}

// Attach gives the line the engine it sends grants through; the router attaches it at start.
func (l *Line) Attach(e *actor.Engine) {
	l.mu.Lock()
	l.engine = e
	l.mu.Unlock()
}

// Join puts a job in the line (once: joining again keeps its place) and grants at once if the
// budget allows.
func (l *Line) Join(j messages.Job, pid *actor.PID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.byJob[j.ID]; ok {
		return
	}
	e := &inLine{job: j.ID, seller: j.UserID, rank: l.ranks[j.UserID], created: j.CreatedAt, pid: pid}
	i, _ := slices.BinarySearchFunc(l.waiting, e, (*inLine).key)
	l.waiting = slices.Insert(l.waiting, i, e)
	l.byJob[j.ID] = e
	l.ranks[j.UserID]++
	l.grant()
}

// Leave takes a job out of the line (it ended, or stopped); a job not in it is ignored.
func (l *Line) Leave(jobID uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.remove(jobID)
}

func (l *Line) remove(jobID uint64) *inLine {
	e, ok := l.byJob[jobID]
	if !ok {
		return nil
	}
	if i, found := slices.BinarySearchFunc(l.waiting, e, (*inLine).key); found {
		l.waiting = slices.Delete(l.waiting, i, i+1)
	}
	delete(l.byJob, jobID)
	if l.ranks[e.seller]--; l.ranks[e.seller] <= 0 {
		delete(l.ranks, e.seller)
	}
	return e
}

// Position is the job's place in the line (1 is next) and when it should start; ok is false when
// it is not in the line.
func (l *Line) Position(jobID uint64) (pos int, eta time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.byJob[jobID]
	if !ok {
		return 0, 0, false
	}
	i, _ := slices.BinarySearchFunc(l.waiting, e, (*inLine).key)
	return i + 1, l.wait(i), true
}

// Wait is how long a seller's first job confirmed now would wait for its turn.
func (l *Line) Wait() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	ahead, _ := slices.BinarySearchFunc(l.waiting, &inLine{rank: 0, created: l.clock.Now().Add(time.Hour * 24 * 365)}, (*inLine).key)
	return l.wait(ahead)
}

// wait estimates the wait of the job with n jobs ahead of it: the budget the line has now covers
// the first of them, then one per every.
func (l *Line) wait(n int) time.Duration {
	tokens := int(l.limiter.TokensAt(l.clock.Now()))
	if n < tokens {
		return 0
	}
	return time.Duration(n-tokens+1) * l.every
}

// Len is how many jobs wait.
func (l *Line) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.waiting)
}

// grant hands out what the budget allows now and arms the next grant. Needs l.mu.
func (l *Line) grant() {
	if l.timer != nil || l.engine == nil {
		return // a grant is armed; it takes what has joined since
	}
	now, state := l.clock.Now(), l.open()
	if state == "closed" {
		l.parked(0)
	} else {
		l.parked(len(l.waiting))
	}
	for len(l.waiting) > 0 {
		switch state {
		case "open":
			l.arm(l.recheck)
			return
		case "half-open":
			// One request probes KIE; the rest wait for its answer rather than bounce off.
			if now.Sub(l.probing) < l.recheck {
				l.arm(l.recheck - now.Sub(l.probing))
				return
			}
			l.probing = now
		}
		r := l.limiter.ReserveN(now, 1)
		if d := r.DelayFrom(now); d > 0 {
			r.CancelAt(now)
			l.arm(d)
			return
		}
		e := l.waiting[0]
		l.remove(e.job)
		l.engine.Send(e.pid, messages.SlotGranted{})
	}
}

// arm schedules the next grant. Needs l.mu.
func (l *Line) arm(d time.Duration) {
	l.timer = l.clock.AfterFunc(d, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.timer = nil
		l.grant()
	})
}
