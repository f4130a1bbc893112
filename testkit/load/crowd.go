package load

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"neurocards/testkit"
	"neurocards/testkit/tgfake"
)

// crowd is every seller of a run. Each plays one order — /start, "video", the photo, "skip",
// Generate — by answering the bot's messages as the fake Telegram reports them, so thousands of
// sellers cost no goroutine and no polling of the transcript.
type crowd struct {
	tg    *tgfake.Server
	photo []byte

	mu      sync.Mutex
	sellers map[int64]*seller
	order   []*seller
	count   tally
	changed chan struct{} // closed and replaced when count changes
}

// seller is one seller's progress through their order.
type seller struct {
	s         *tgfake.Seller
	step      step
	confirmed time.Time // when they tapped Generate
	delivered time.Time // when the video reached their chat
	failure   string    // what the bot said instead of a video
}

type step int

const (
	started   step = iota // sent /start, waits for the menu
	chose                 // tapped "video", waits for the photo request
	sentPhoto             // waits for the description request
	skipped               // tapped "skip", waits for the confirmation
	confirmed             // tapped Generate, waits for the video
	delivered             // the video arrived
	failed                // the bot told them the job failed
)

// firstSeller is the first seller's user id; the rest follow it.
const firstSeller = 500_000

func newCrowd(tg *tgfake.Server, n int) *crowd {
	c := &crowd{tg: tg, photo: testkit.Photo(640, 800), sellers: make(map[int64]*seller, n), changed: make(chan struct{})}
	for i := range n {
		id := int64(firstSeller + i)
		lang := "ru"
		if i%3 == 2 {
			lang = "en"
		}
		sl := &seller{s: tg.Seller(id, lang, fmt.Sprintf("Load%d", i))}
		c.sellers[id] = sl
		c.order = append(c.order, sl)
	}
	tg.OnEvent(c.hear)
	return c
}

// start has seller i write /start.
func (c *crowd) start(i int) { c.order[i].s.Send("/start") }

// hear moves a seller on when the bot's message is the one their step waits for. The fake
// delivers events one at a time, so a seller never acts twice on the same message.
func (c *crowd) hear(ev tgfake.Event) {
	if ev.Kind != "bot.send" {
		return
	}
	c.mu.Lock()
	act := c.next(ev)
	c.mu.Unlock()
	if act != nil {
		act()
	}
}

// next records what the message means for its seller and returns what they do about it. Needs c.mu.
func (c *crowd) next(ev tgfake.Event) func() {
	sl, m := c.sellers[ev.ChatID], ev.Message
	if sl == nil {
		return nil
	}
	if m.Button("retry:") != "" && sl.step < delivered {
		sl.step, sl.failure = failed, firstLine(m.Text)
		c.count.failed++
		c.wake()
		return nil
	}
	switch sl.step {
	case started:
		if m.Button("k:video") != "" {
			sl.step = chose
			return func() { sl.s.Tap("k:video") }
		}
	case chose:
		if strings.Contains(m.Text, "📸") {
			sl.step = sentPhoto
			return func() { sl.s.SendPhoto(c.photo, 640, 800, "") }
		}
	case sentPhoto:
		if skip := m.Button("skip:"); skip != "" {
			sl.step = skipped
			return func() { sl.s.Tap(skip) }
		}
	case skipped:
		if ok := m.Button("ok:"); ok != "" {
			sl.step, sl.confirmed = confirmed, time.Now()
			c.count.confirmed++
			c.wake()
			return func() { sl.s.Tap(ok) }
		}
	case confirmed:
		if m.Method == "sendVideo" {
			sl.step, sl.delivered = delivered, ev.At
			c.count.delivered++
			c.wake()
		}
	}
	return nil
}

// wake tells those waiting on the tally that it changed. Needs c.mu.
func (c *crowd) wake() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// tally counts the sellers who tapped Generate, got their video, or heard of a failure.
type tally struct{ confirmed, delivered, failed int }

func (t tally) finished() int { return t.delivered + t.failed }

func (c *crowd) tally() (tally, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.count, c.changed
}

// waits are the confirm → video times of the sellers who got their video.
func (c *crowd) waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Duration
	for _, sl := range c.order {
		if sl.step == delivered {
			out = append(out, sl.delivered.Sub(sl.confirmed))
		}
	}
	return out
}

// failures are what the sellers whose job failed were told, by text, with how many.
func (c *crowd) failures() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for _, sl := range c.order {
		if sl.step == failed {
			out[sl.failure]++
		}
	}
	return out
}

// stuck names a few sellers who did not finish, with the step they are at.
func (c *crowd) stuck(limit int) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	names := []string{"waiting for the menu", "waiting for the photo request", "waiting for the description request",
		"waiting for the confirmation", "waiting for the video"}
	for _, sl := range c.order {
		if sl.step < delivered && len(out) < limit {
			out = append(out, fmt.Sprintf("seller %d: %s", sl.s.ID(), names[sl.step]))
		}
	}
	return out
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
