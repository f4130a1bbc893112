package store

import (
	bolt "go.etcd.io/bbolt"
)

// TaskSaved is told that a job's KIE task id is on disk: the commit that first stored it has
// been fsynced.
type TaskSaved func(jobID uint64, taskID string)

// OnTaskSaved makes fn hear of every task id once it is durable, after the commit that first
// stored it — what a benchmark measures against KIE's answer. nil stops it. fn runs on the
// committing goroutine and must be quick.
func (s *Store) OnTaskSaved(fn TaskSaved) {
	if fn == nil {
		s.taskSaved.Store(nil)
		return
	}
	s.taskSaved.Store(&fn)
}

// noteTask arranges for the OnTaskSaved watcher to hear of taskID once tx has committed, when tx
// stores it for the first time.
func (s *Store) noteTask(tx *bolt.Tx, jobID uint64, was, now string) {
	if now == "" || now == was {
		return
	}
	tx.OnCommit(func() {
		if fn := s.taskSaved.Load(); fn != nil {
			(*fn)(jobID, now)
		}
	})
}
