package store

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"neurocards/messages"
)

// BenchmarkSaveJob measures job saves per second on the real bbolt file with fsync, with 1, 10
// and 100 writers saving at the same time, each its own job, as job actors do in a burst.
//
//	go test -run '^$' -bench SaveJob -benchtime 2000x ./store
func BenchmarkSaveJob(b *testing.B) {
	for _, writers := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			s, err := Open(b.TempDir(), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			jobs := make([]messages.Job, writers)
			for i := range jobs {
				uid := int64(i + 1)
				_, err := s.WithUser(uid, func(tx *UserTx) error {
					if _, err := tx.Post(Entry{Type: EntryGrant, Amount: 100, Key: fmt.Sprintf("start:%d", uid)}); err != nil {
						return err
					}
					jobs[i], err = tx.StartJob(messages.Job{Kind: "video", Price: 10, Stage: messages.StageQueued}, time.Hour)
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			errs := make(chan error, writers)
			for w, j := range jobs {
				n := b.N / writers
				if w < b.N%writers {
					n++
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range n {
						j.StatusMessageID = i + 1
						if _, err := s.SaveJob(j); err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			close(errs)
			for err := range errs {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "saves/s")
		})
	}
}
