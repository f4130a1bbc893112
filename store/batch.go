package store

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// group commits concurrent writes together: while one transaction is being written and fsynced,
// the writes that arrive wait, and the next transaction carries all of them, so a burst of saves
// shares fsyncs instead of queueing for one each. A write that finds nothing in progress is
// committed at once — unlike bbolt's Batch, which holds even a lone write back for MaxBatchDelay
// (10 ms) in case company comes.
type group struct {
	mu      sync.Mutex
	pending []*write
	leading bool // a goroutine is committing; the pending writes go in its next transaction
}

// write is one caller's function waiting for its transaction.
type write struct {
	fn   func(*bolt.Tx) error
	done chan error // nil once durable, the commit's error, or errSolo
}

// errSolo tells a writer that its function failed inside a group: it runs again on its own, so
// the error it returns is its own and not the effect of another write in the same transaction.
var errSolo = errors.New("store: run the write on its own")

// batch runs fn in a read-write transaction that it may share with other writes, and returns
// once that transaction is durable. When another function in the group fails, the transaction
// is rolled back and run again without it, so fn may run more than once: it must only change
// the transaction and its own results. A failing (or panicking) fn is run again on its own, in
// the caller's goroutine, and that run decides: all or nothing, and no other write's failure is
// ever fn's.
func (s *Store) batch(fn func(*bolt.Tx) error) error {
	w := &write{fn: fn, done: make(chan error, 1)}
	g := &s.group
	g.mu.Lock()
	g.pending = append(g.pending, w)
	lead := !g.leading
	g.leading = true
	g.mu.Unlock()
	if lead {
		s.lead()
	}
	if err := <-w.done; !errors.Is(err, errSolo) {
		return err
	}
	return s.update(true, fn)
}

// update runs fn in a read-write transaction of its own, in its turn (turns.go): job progress
// when jobs is set, a seller's transaction otherwise.
func (s *Store) update(jobs bool, fn func(*bolt.Tx) error) error {
	s.turns.take(jobs)
	defer s.turns.give()
	return s.db.Update(fn)
}

// lead commits everything pending in one transaction. Writes that arrived meanwhile get a new
// leader at once, so the caller that led returns as soon as its own write is durable.
func (s *Store) lead() {
	g := &s.group
	g.mu.Lock()
	ws := g.pending
	g.pending = nil
	g.mu.Unlock()
	s.commit(ws)
	g.mu.Lock()
	g.leading = len(g.pending) > 0
	more := g.leading
	g.mu.Unlock()
	if more {
		go s.lead()
	}
}

// commit runs ws in one transaction and tells each how it went. A function that fails is taken
// out and told to run on its own; the rest run again, since the failed one may have written
// before it failed.
func (s *Store) commit(ws []*write) {
	for len(ws) > 0 {
		failed := -1
		err := s.update(true, func(tx *bolt.Tx) error {
			for i, w := range ws {
				if err := safely(w.fn, tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed >= 0 {
			ws[failed].done <- errSolo
			ws = slices.Delete(ws, failed, failed+1)
			continue
		}
		for _, w := range ws {
			w.done <- err
		}
		return
	}
}

// safely runs fn, turning a panic into an error: the leader commits for others and must not die
// of one caller's bug. The caller's solo run panics again, in its own goroutine.
func safely(fn func(*bolt.Tx) error, tx *bolt.Tx) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("store: write panicked: %v", v)
		}
	}()
	return fn(tx)
}
