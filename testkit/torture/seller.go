package torture

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"neurocards/testkit/harness"
	"neurocards/testkit/tgfake"
)

// How long a seller waits for an answer to a step before doing it again (a reply can be lost to
// a kill after its update was handled), and how often at most.
const (
	stepWait  = 10 * time.Second
	stepTries = 5
)

// seller plays one seller: /start, then rounds of ordering a job and waiting to hear how it ended.
type seller struct {
	r    *run
	s    *tgfake.Seller
	id   int64
	lang string

	photo   []byte
	mu      sync.Mutex
	updates []int64           // every update the seller caused
	heard   map[uint64]string // job id → "result" or "failure", as the seller learnt it
	jobs    int
	// nudges counts steps the seller had to repeat because no answer came.
	nudges int
	err    error
}

func newSeller(r *run, id int64, i int) *seller {
	lang := "ru"
	if i%3 == 2 {
		lang = "en"
	}
	return &seller{
		r: r, id: id, lang: lang,
		s:     r.tg.Seller(id, lang, fmt.Sprintf("Seller%d", id)),
		photo: harness.Photo(640+8*(i%10), 800),
		heard: map[uint64]string{},
	}
}

// outcome is how the seller learnt that a job ended.
type outcome struct {
	job    uint64
	result bool // a file; false: a failure message with a retry button
	kind   string
	msgID  int
}

// play runs rounds until keepGoing says stop; the round in progress is always finished, so the
// seller hears the end of every job they started.
func (sl *seller) play(ctx context.Context, keepGoing func() bool) {
	greeting, err := sl.step(ctx, "the greeting", 0, hasPrefix("k:"), func() error { sl.sent(sl.s.Send("/start")); return nil })
	if err != nil {
		sl.err = err
		return
	}
	after := greeting.ID
	var prev *outcome
	for round := 0; round == 0 || keepGoing(); round++ {
		if ctx.Err() != nil {
			return
		}
		kind := "card"
		if sl.r.chance(0.4) {
			kind = "video"
		}
		var out outcome
		switch {
		case prev != nil && prev.result && sl.r.chance(0.3):
			out, err = sl.again(ctx, prev.kind)
		case prev != nil && !prev.result && sl.r.chance(0.6):
			out, err = sl.retry(ctx, prev)
		default:
			out, err = sl.order(ctx, kind, after)
		}
		if err != nil {
			sl.err = err
			return
		}
		prev, after = &out, out.msgID
		// A pause before the next order, as a person reads the result.
		if !sleep(ctx, sl.r.between(0, 700*time.Millisecond)) {
			return
		}
	}
}

// order is the whole flow: kind, photo, text or skip, Generate (sometimes tapped twice), then
// the wait for the result.
func (sl *seller) order(ctx context.Context, kind string, after int) (outcome, error) {
	confirm, err := sl.prepare(ctx, kind, after)
	if err != nil {
		return outcome{}, err
	}
	return sl.generate(ctx, kind, confirm, sl.r.chance(0.3))
}

// prepare goes up to the confirmation: kind, photo, text or skip. It returns the confirmation,
// whose Generate button orders the job.
func (sl *seller) prepare(ctx context.Context, kind string, after int) (tgfake.Message, error) {
	ask, err := sl.step(ctx, "the photo request", after, textHas("📸"), func() error { return sl.tap("k:" + kind) })
	if err != nil {
		return tgfake.Message{}, err
	}
	askText, err := sl.step(ctx, "the description request", ask.ID, hasPrefix("skip:"), func() error {
		sl.sent(sl.s.SendPhoto(sl.photo, 0, 0, ""))
		return nil
	})
	if err != nil {
		return tgfake.Message{}, err
	}
	skip := askText.Button("skip:")
	return sl.step(ctx, "the confirmation", askText.ID, hasPrefix("ok:"), func() error {
		if sl.r.chance(0.3) {
			return sl.tap(skip)
		}
		sl.sent(sl.s.Send(fmt.Sprintf("Товар %d: кружка керамическая, 350 мл", sl.id)))
		return nil
	})
}

// generate taps Generate on the confirmation (twice when double is set, as an impatient seller
// does) and waits for the job's status message, then for how the job ended.
func (sl *seller) generate(ctx context.Context, kind string, confirm tgfake.Message, double bool) (outcome, error) {
	ok := confirm.Button("ok:")
	_, err := sl.step(ctx, "the status message", confirm.ID, isStatus(kind), func() error {
		if err := sl.tap(ok); err != nil {
			return err
		}
		if double {
			double = false
			return sl.tap(ok)
		}
		return nil
	})
	if err != nil {
		return outcome{}, err
	}
	return sl.awaitOutcome(ctx, kind, confirm.ID)
}

// again taps "🔁 again" under the last result: a new job at once with the same photo and text.
// A tap is never repeated: each one is a new job by design.
func (sl *seller) again(ctx context.Context, kind string) (outcome, error) {
	after := sl.lastID()
	if err := sl.tapPrefix("again:" + kind + ":"); err != nil {
		return outcome{}, err
	}
	return sl.awaitOutcome(ctx, kind, after)
}

// retry taps "🔁 retry" under a failure message.
func (sl *seller) retry(ctx context.Context, failed *outcome) (outcome, error) {
	after := sl.lastID()
	if err := sl.tap(fmt.Sprintf("retry:%d", failed.job)); err != nil {
		return outcome{}, err
	}
	return sl.awaitOutcome(ctx, failed.kind, after)
}

// awaitOutcome waits for the end of a job the seller has not heard about yet: its result file,
// or the failure message with its retry button.
func (sl *seller) awaitOutcome(ctx context.Context, kind string, after int) (outcome, error) {
	wctx, cancel := context.WithTimeout(ctx, sl.r.opt.JobTimeout+30*time.Second)
	defer cancel()
	var out outcome
	_, err := sl.s.WaitNew(wctx, after, func(m tgfake.Message) bool {
		if id, ok := resultJob(m); ok && sl.heard[id] == "" {
			out = outcome{job: id, result: true, kind: kind, msgID: m.ID}
			return true
		}
		if id, ok := failedJob(m); ok && sl.heard[id] == "" {
			out = outcome{job: id, kind: kind, msgID: m.ID}
			return true
		}
		return false
	})
	if err != nil {
		return out, fmt.Errorf("seller %d heard nothing about their job: %w", sl.id, err)
	}
	sl.jobs++
	sl.heard[out.job] = "failure"
	if out.result {
		sl.heard[out.job] = "result"
	}
	return out, nil
}

// step does act and waits for the answer; when none comes in time it does act again, as a
// seller taps a button again when the bot seems not to have noticed.
func (sl *seller) step(ctx context.Context, what string, after int, want func(tgfake.Message) bool, act func() error) (tgfake.Message, error) {
	for try := 1; ; try++ {
		if err := act(); err != nil {
			return tgfake.Message{}, err
		}
		wctx, cancel := context.WithTimeout(ctx, stepWait)
		m, err := sl.s.WaitNew(wctx, after, want)
		cancel()
		if err == nil {
			return m, nil
		}
		if ctx.Err() != nil || try == stepTries {
			return m, fmt.Errorf("seller %d: no %s after %d tries: %w", sl.id, what, try, err)
		}
		sl.nudges++
	}
}

func (sl *seller) tap(data string) error {
	id, err := sl.s.Tap(data)
	if err == nil {
		sl.sent(id)
	}
	return err
}

func (sl *seller) tapPrefix(prefix string) error {
	id, err := sl.s.TapPrefix(prefix)
	if err == nil {
		sl.sent(id)
	}
	return err
}

// sent remembers an update the seller caused, for the chaos to deliver again.
func (sl *seller) sent(id int64) {
	sl.mu.Lock()
	sl.updates = append(sl.updates, id)
	sl.mu.Unlock()
}

// resendOne makes Telegram deliver one of the seller's earlier updates again, as it does when
// a bot died before confirming it. The bot must give it no second effect.
func (sl *seller) resendOne() bool {
	sl.mu.Lock()
	n := len(sl.updates)
	var id int64
	if n > 0 {
		id = sl.updates[sl.r.intn(n)]
	}
	sl.mu.Unlock()
	if id == 0 {
		return false
	}
	sl.s.Resend(id)
	return true
}

func (sl *seller) lastID() int {
	msgs := sl.s.Messages()
	if len(msgs) == 0 {
		return 0
	}
	return msgs[len(msgs)-1].ID
}

var resultName = regexp.MustCompile(`^(\d+)\.[a-z0-9]+$`)

// resultJob recognises a delivered result: the file is named <job id>.<ext>.
func resultJob(m tgfake.Message) (uint64, bool) {
	if !m.FromBot || m.File == nil || !isFileMethod(m.Method) {
		return 0, false
	}
	return jobOfFile(m.File.Name)
}

func jobOfFile(name string) (uint64, bool) {
	sm := resultName.FindStringSubmatch(name)
	if sm == nil {
		return 0, false
	}
	id, err := strconv.ParseUint(sm[1], 10, 64)
	return id, err == nil
}

func isFileMethod(method string) bool {
	return method == "sendVideo" || method == "sendPhoto" || method == "sendDocument"
}

// failedJob recognises a failure message by its retry:<job> button.
func failedJob(m tgfake.Message) (uint64, bool) {
	data := m.Button("retry:")
	if !m.FromBot || data == "" {
		return 0, false
	}
	id, err := strconv.ParseUint(strings.TrimPrefix(data, "retry:"), 10, 64)
	return id, err == nil
}

func hasPrefix(prefix string) func(tgfake.Message) bool {
	return func(m tgfake.Message) bool { return m.FromBot && m.Button(prefix) != "" }
}

func textHas(s string) func(tgfake.Message) bool {
	return func(m tgfake.Message) bool { return m.FromBot && strings.Contains(m.Text, s) }
}

// isStatus recognises the message that answers Generate: text with the "again" button.
func isStatus(kind string) func(tgfake.Message) bool {
	return func(m tgfake.Message) bool {
		return m.FromBot && m.Method == "sendMessage" && m.Button("again:"+kind) != ""
	}
}

// sleep pauses for d unless ctx ends first; it reports whether the pause ran its course.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
