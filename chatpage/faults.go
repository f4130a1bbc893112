package chatpage

import (
	"fmt"
	"net/http"
	"time"

	"neurocards/testkit/kiefake"
	"neurocards/testkit/tgfake"
)

// kieFailure is how one of the next KIE tasks will end.
type kieFailure struct {
	label   string
	outcome kiefake.Outcome
}

// kieFailures are the panel's "KIE fails the next task" buttons, by fault name.
var kieFailures = map[string]kieFailure{
	"kie-policy":   {"content policy", kiefake.Outcome{Fail: true, FailCode: "400", FailMsg: "Your prompt was flagged by Website as violating content policies"}},
	"kie-internal": {"internal error", kiefake.Outcome{Fail: true, FailCode: "500", FailMsg: "Internal Error, Please try again later."}},
}

// demoPace is how long a task KIE runs for the page takes: a few polls waiting, a few
// generating, so the seller's status message can be seen changing.
var demoPace = kiefake.Script{Waiting: 2, Generating: 3}

// tooManyCalls and tooManyWait are the fault "Telegram answers 429": the next calls to the
// seller's chat are told to wait.
const (
	tooManyCalls = 3
	tooManyWait  = 2 // seconds, parameters.retry_after
)

// kieScript scripts every createTask: the next queued failure, or a task that succeeds after a
// few polls.
func (p *Page) kieScript(n int, model string, _ map[string]any) kiefake.Script {
	p.mu.Lock()
	defer p.mu.Unlock()
	sc := demoPace
	if len(p.kieFails) > 0 {
		f := p.kieFails[0]
		p.kieFails = p.kieFails[1:]
		sc.Outcome = f.outcome
		p.noteLocked(0, true, "KIE task #%d (%s) will fail: %s", n, model, f.label)
		p.notifyLocked()
	}
	return sc
}

// fault makes the world misbehave on the person's request.
func (p *Page) fault(w http.ResponseWriter, r *http.Request, s Seller) {
	name := r.PathValue("fault")
	if f, ok := kieFailures[name]; ok {
		p.mu.Lock()
		p.kieFails = append(p.kieFails, f)
		p.noteLocked(0, false, "The next KIE task will fail: %s", f.label)
		p.notifyLocked()
		p.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
		return
	}
	switch name {
	case "kie-down", "kie-up":
		down := name == "kie-down"
		p.env.KIE.SetDown(down)
		p.mu.Lock()
		p.kieDown = down
		p.mu.Unlock()
		if down {
			p.note(0, true, "KIE is down: every call has its connection closed")
		} else {
			p.note(0, false, "KIE is back up")
		}
	case "telegram-429":
		p.env.Telegram.Fail("", s.ID, tooManyCalls, tgfake.Reply{Status: http.StatusTooManyRequests, RetryAfter: tooManyWait})
		p.note(s.ID, false, "Telegram will answer the next %d calls to %s's chat with 429, retry after %d s", tooManyCalls, s.Name, tooManyWait)
	case "block", "unblock":
		block := name == "block"
		p.mu.Lock()
		if block {
			p.blocked[s.ID] = true
		} else {
			delete(p.blocked, s.ID)
		}
		p.mu.Unlock()
		if block {
			p.env.Telegram.Block(s.ID)
			p.note(s.ID, true, "%s blocked the bot: sends to the chat get 403", s.Name)
		} else {
			p.env.Telegram.Unblock(s.ID)
			p.note(s.ID, false, "%s unblocked the bot", s.Name)
		}
	case "restart":
		if !p.restart() {
			httpError(w, http.StatusConflict, "The bot is already restarting.")
			return
		}
	default:
		httpError(w, http.StatusNotFound, fmt.Sprintf("There is no fault %q.", name))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// restart stops the bot gracefully and starts it again on the same data, in the background; it
// reports false when a restart is already under way.
func (p *Page) restart() bool {
	p.mu.Lock()
	if p.restarting {
		p.mu.Unlock()
		return false
	}
	p.restarting = true
	p.botErr = ""
	p.noteLocked(0, false, "Restarting the bot: a graceful stop, then a start on the same data")
	p.notifyLocked()
	p.mu.Unlock()
	p.bg.Add(1)
	go func() {
		defer p.bg.Done()
		start := time.Now()
		err := p.env.Restart()
		p.mu.Lock()
		defer p.mu.Unlock()
		p.restarting = false
		if err != nil {
			p.botErr = err.Error()
			p.noteLocked(0, true, "The restart failed: %v", err)
			p.log.Error("chat page: restart failed", "err", err)
		} else {
			p.noteLocked(0, false, "The bot is back after %v", time.Since(start).Round(time.Millisecond))
		}
		p.notifyLocked()
	}()
	return true
}
