package store

import "sync"

// turns orders the store's write transactions between two kinds of writer: job progress (the
// group commits of batch.go, a task id among them) and sellers' transactions (WithUser, one
// transaction per update or settlement). bbolt lets one writer in at a time, in no promised
// order, so in a burst a group carrying a task id queued behind dozens of sellers'
// transactions, an fsync each. With turns the two kinds alternate whenever both wait: a task id
// waits for at most one seller's transaction, and sellers are never starved by job saves.
type turns struct {
	mu    sync.Mutex
	busy  bool
	jobs  []chan struct{} // waiting job writes, first come first served
	users []chan struct{} // waiting sellers' transactions, first come first served
	// usersNext: the last turn was job progress's, so a waiting seller goes next.
	usersNext bool
}

// take waits for a turn to write: job progress when jobs is set, a seller's transaction otherwise.
func (t *turns) take(jobs bool) {
	t.mu.Lock()
	if !t.busy {
		t.busy = true
		t.usersNext = jobs
		t.mu.Unlock()
		return
	}
	ch := make(chan struct{})
	if jobs {
		t.jobs = append(t.jobs, ch)
	} else {
		t.users = append(t.users, ch)
	}
	t.mu.Unlock()
	<-ch
}

// give ends a turn and hands the next one on: to the kind whose turn it is when both wait, else
// to whoever waits.
func (t *turns) give() {
	t.mu.Lock()
	defer t.mu.Unlock()
	var next chan struct{}
	switch {
	case len(t.users) > 0 && (t.usersNext || len(t.jobs) == 0):
		next, t.users = t.users[0], t.users[1:]
		t.usersNext = false
	case len(t.jobs) > 0:
		next, t.jobs = t.jobs[0], t.jobs[1:]
		t.usersNext = true
	default:
		t.busy = false
		return
	}
	close(next)
}
