package tgfake

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// receiver is a webhook endpoint that refuses the first `refuse` deliveries of each update.
type receiver struct {
	mu      sync.Mutex
	secrets []string
	got     []int64 // update ids accepted, in order
	seen    map[int64]int
	refuse  int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var u models.Update
	json.NewDecoder(req.Body).Decode(&u)
	r.mu.Lock()
	r.secrets = append(r.secrets, req.Header.Get("X-Telegram-Bot-Api-Secret-Token"))
	r.seen[u.ID]++
	refused := r.seen[u.ID] <= r.refuse
	if !refused {
		r.got = append(r.got, u.ID)
	}
	r.mu.Unlock()
	if refused {
		http.Error(w, "later", http.StatusServiceUnavailable)
	}
}

func TestWebhookDeliversInOrderAndAgainUntilAccepted(t *testing.T) {
	s := newServer(t)
	s.SetWebhookRetry(0)
	rcv := &receiver{seen: map[int64]int{}, refuse: 1}
	hook := httptest.NewServer(rcv)
	defer hook.Close()
	b := newBot(t, s)
	ctx := testCtx(t)

	a, c := s.Seller(1, "ru", "A"), s.Seller(2, "en", "C")
	first := a.Send("one")
	if _, err := b.SetWebhook(ctx, &bot.SetWebhookParams{URL: hook.URL + "/tg", SecretToken: "s3cret_-", AllowedUpdates: []string{"message"}}); err != nil {
		t.Fatal(err)
	}
	second := a.Send("two")
	other := c.Send("three")
	if err := s.WaitWebhook(ctx, func(ds []WebhookDelivery) bool { return okCount(ds) == 3 }); err != nil {
		t.Fatal(err)
	}
	rcv.mu.Lock()
	got, secrets := rcv.got, rcv.secrets
	rcv.mu.Unlock()
	var mine []int64
	for _, id := range got {
		if id != other {
			mine = append(mine, id)
		}
	}
	// The first was refused once: the second waited for it, as a chat's updates go in order.
	if len(mine) != 2 || mine[0] != first || mine[1] != second {
		t.Errorf("chat 1 got %v, want [%d %d]", mine, first, second)
	}
	for _, sec := range secrets {
		if sec != "s3cret_-" {
			t.Errorf("secret header %q", sec)
		}
	}
	if ds := s.WebhookDeliveries(); len(ds) != 6 || ds[0].OK() || ds[0].Status != http.StatusServiceUnavailable {
		t.Errorf("deliveries: %+v", ds)
	}
	if info, ok := s.Webhook(); !ok || info.URL != hook.URL+"/tg" || info.MaxConnections != 40 {
		t.Errorf("webhook: %+v %v", info, ok)
	}
	// getUpdates is refused while a webhook is set, as on Telegram.
	if status, _ := rawCall(ctx, t, s, "getUpdates", map[string]string{}); status != http.StatusConflict {
		t.Errorf("getUpdates with a webhook: %d", status)
	}

	// A re-delivered update reaches the webhook once more.
	a.Resend(first)
	if err := s.WaitWebhook(ctx, func(ds []WebhookDelivery) bool { return okCount(ds) == 4 }); err != nil {
		t.Fatal(err)
	}

	// After deleteWebhook nothing is POSTed; getUpdates has the updates.
	if _, err := b.DeleteWebhook(ctx, &bot.DeleteWebhookParams{}); err != nil {
		t.Fatal(err)
	}
	late := a.Send("four")
	status, r := rawCall(ctx, t, s, "getUpdates", map[string]string{"timeout": "0"})
	var ups []models.Update
	json.Unmarshal(r.Result, &ups)
	if status != http.StatusOK || len(ups) != 1 || ups[0].ID != late {
		t.Errorf("getUpdates after deleteWebhook: %d %+v", status, ups)
	}
}

func TestWebhookRefusesABadSecretToken(t *testing.T) {
	s := newServer(t)
	b := newBot(t, s)
	_, err := b.SetWebhook(testCtx(t), &bot.SetWebhookParams{URL: "http://127.0.0.1:1/x", SecretToken: "no spaces allowed"})
	if err == nil {
		t.Fatal("accepted a secret token with spaces")
	}
	if _, ok := s.Webhook(); ok {
		t.Error("a webhook is set")
	}
}

func okCount(ds []WebhookDelivery) int {
	n := 0
	for _, d := range ds {
		if d.OK() {
			n++
		}
	}
	return n
}
