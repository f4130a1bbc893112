package conversation

import (
	"encoding/json"
	"testing"

	"github.com/go-telegram/bot/models"

	"neurocards/config"
	"neurocards/messages"
	"neurocards/store"
)

// FuzzHandle: whole Telegram updates, as JSON from the wire, through the conversation. Whatever
// arrives, it never panics, never lets a seller hold more than they have, and starts a job only
// with a price held for it.
func FuzzHandle(f *testing.F) {
	for _, seed := range []string{
		`{"update_id":11,"message":{"message_id":1,"from":{"id":42,"language_code":"ru"},"chat":{"id":42,"type":"private"},"text":"/start"}}`,
		`{"update_id":11,"callback_query":{"id":"q","from":{"id":42},"data":"ok:5","message":{"message_id":9,"date":1,"chat":{"id":42,"type":"private"}}}}`,
		`{"update_id":11,"callback_query":{"id":"q","from":{"id":42},"data":"again:card:3","message":{"message_id":0,"date":0,"chat":{"id":42,"type":"private"}}}}`,
		`{"update_id":11,"message":{"message_id":1,"from":{"id":42},"chat":{"id":42,"type":"private"},"photo":[{"file_id":"a","width":100000,"height":100000,"file_size":56}]}}`,
		`{"update_id":11,"message":{"message_id":1,"from":{"id":42},"chat":{"id":42,"type":"private"},"document":{"file_id":"d","mime_type":"image/png","file_size":-5}}}`,
		`{"update_id":11,"message":{"message_id":1,"from":{"id":42},"chat":{"id":42,"type":"private"},"successful_payment":{"currency":"XTR","total_amount":-50,"invoice_payload":"pack:10:x","telegram_payment_charge_id":"c"}}}`,
		`{"update_id":11,"message":{"message_id":1,"from":{"id":42},"chat":{"id":42,"type":"private"},"text":"Свеча"}}`,
	} {
		f.Add([]byte(seed), uint8(0))
		f.Add([]byte(seed), uint8(3))
	}
	cfg := config.Defaults()
	steps := []store.DraftStep{store.DraftNone, store.DraftPhoto, store.DraftText, store.DraftConfirm, store.DraftConsumed}
	f.Fuzz(func(t *testing.T, raw []byte, state uint8) {
		var u models.Update
		if json.Unmarshal(raw, &u) != nil {
			return
		}
		seller := seller(draft(steps[int(state)%len(steps)]), func(s *store.User) { s.Held = int64(state % 21) })
		r, err := Handle(cfg, seller, state%2 == 0, facts{jobs: []messages.Job{doneJob(3), failedJob(4, 0)}}, Input{Update: &u, Now: now})
		if err != nil {
			return
		}
		if r.User.Held > r.User.Balance {
			t.Fatalf("holds %d over a balance of %d after %s", r.User.Held, r.User.Balance, raw)
		}
		held := r.User.Held - seller.Held
		for _, e := range r.Effects {
			if s, ok := e.(StartJob); ok {
				if s.Job.Price <= 0 {
					t.Fatalf("a job without a price: %+v", s.Job)
				}
				held -= s.Job.Price
			}
		}
		if held != 0 && !r.Seen {
			t.Fatalf("holds changed by %d more than the jobs started", held)
		}
	})
}
