package admin

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"neurocards/messages"
	"neurocards/metrics"
	"neurocards/store"
)

// BenchmarkOverview is the cost of `/` and of a /metrics scrape over a day of jobs: every job
// created today is read once per page, and every job in flight once per scrape.
//
//	go test -run '^$' -bench Overview -benchtime 20x ./admin
func BenchmarkOverview(b *testing.B) {
	for _, n := range []int{1000, 20000} {
		st, err := store.Open(b.TempDir(), store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		for uid := int64(1); uid <= int64(n/500); uid++ {
			if _, err := st.WithUser(uid, func(tx *store.UserTx) error {
				if _, err := tx.Post(store.Entry{Type: store.EntryGrant, Amount: 1 << 20, Key: fmt.Sprint("g", uid)}); err != nil {
					return err
				}
				for range 500 {
					if _, err := tx.StartJob(messages.Job{Kind: "card", Model: "google/nano-banana-edit", Price: 3, Product: "Ceramic mug, 350 ml"}, time.Hour); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				b.Fatal(err)
			}
		}
		m := metrics.New()
		m.WatchInFlight(func() (map[messages.Stage]int, error) {
			c, err := st.InFlight()
			return c.ByStage, err
		})
		srv, err := Listen(Config{Addr: "127.0.0.1:0", Token: token, Store: st, Metrics: m, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			b.Fatal(err)
		}
		h := srv.Handler()
		for name, path := range map[string]string{"overview": "/", "metrics": "/metrics"} {
			b.Run(fmt.Sprintf("%s/%d-jobs", name, n), func(b *testing.B) {
				for b.Loop() {
					req := httptest.NewRequest(http.MethodGet, path, nil)
					req.Header.Set("Authorization", "Bearer "+token)
					w := httptest.NewRecorder()
					h.ServeHTTP(w, req)
					if w.Code != http.StatusOK {
						b.Fatalf("%s: %d", path, w.Code)
					}
				}
			})
		}
		srv.ln.Close()
		st.Close()
	}
}
