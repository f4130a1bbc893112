package store

import (
	"sync"
	"testing"
)

// With job progress and sellers' transactions both waiting, they take turns: a task id waits for
// at most one seller's transaction, and sellers still get theirs.
func TestTurnsAlternate(t *testing.T) {
	var tr turns
	tr.take(true) // a group commit is writing
	var (
		mu    sync.Mutex
		order []string
		wg    sync.WaitGroup
	)
	queue := func(name string, jobs bool, queued func() bool) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr.take(jobs)
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
			tr.give()
		}()
		waitFor(t, name+" to queue", func() bool {
			tr.mu.Lock()
			defer tr.mu.Unlock()
			return queued()
		})
	}
	queue("seller 1", false, func() bool { return len(tr.users) == 1 })
	queue("seller 2", false, func() bool { return len(tr.users) == 2 })
	queue("seller 3", false, func() bool { return len(tr.users) == 3 })
	queue("task id", true, func() bool { return len(tr.jobs) == 1 })
	tr.give()
	wg.Wait()
	want := []string{"seller 1", "task id", "seller 2", "seller 3"}
	for i := range want {
		if i >= len(order) || order[i] != want[i] {
			t.Fatalf("turns went %v, want %v", order, want)
		}
	}
	if tr.busy {
		t.Fatal("nobody writes, but the turn is still taken")
	}
}
