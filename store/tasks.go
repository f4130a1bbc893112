package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"neurocards/messages"
)

// ErrStaleTask means the job no longer waits for the task of that generation attempt: the
// attempt ran out of time or the job's failure was decided. The task is not recorded.
var ErrStaleTask = errors.New("the job no longer waits for this attempt's task")

// Unrecorded is how many KIE tasks may be on their way at once — createTask sent, or answered
// and its id not yet on disk (TaskSlot). Each is a task a crash at that moment pays for twice.
const Unrecorded = 2

// TaskSlot waits for a place among the Unrecorded tasks on their way, for a generator about to
// send createTask, and returns the function that gives it back once the task is recorded (or
// none was created). KIE's createTask has no idempotency key: a crash pays again for every task
// KIE has answered and the disk does not hold yet. A short way to the disk is not enough on its
// own: jobs that move together (a burst, a group commit) send createTask together, and their
// answers arrive within a fraction of one fsync — so this bounds how many can be at risk at
// once, whatever the timing. ctx ends the wait.
func (s *Store) TaskSlot(ctx context.Context) (func(), error) {
	select {
	case s.unrecorded <- struct{}{}:
		var once sync.Once
		return func() { once.Do(func() { <-s.unrecorded }) }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("store: waiting to create a task: %w", ctx.Err())
	}
}

// RecordTask stores the task KIE created for a job's generation attempt (its GenAttempts when
// the attempt began), from where createTask's answer arrives and before anything else is done
// with it: KIE has no idempotency key, so a crash before this commit pays for a second task. The
// job goes to stage submitted with the task id and the photo's upload URL, and counts the task
// (TasksCreated) — what the job itself records when it hears TaskCreated, so its later saves
// carry the same values, and SaveJob keeps them until it has. Recording the same task again
// changes nothing; ErrFinished: the job has ended; ErrStaleTask: the job is not in uploading
// for that attempt, without a task and without a failure — exactly when the job would ignore
// the task too. Concurrent calls share a commit with other job saves.
func (s *Store) RecordTask(id uint64, attempt int, uploadURL, taskID string) error {
	if taskID == "" {
		return fmt.Errorf("store: job %d: no task id to record", id)
	}
	asked := time.Now()
	return s.batch(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketJobs)
		j, err := liveJob(b, id)
		switch {
		case err != nil:
			return err
		case j.TaskID == taskID:
			return nil
		case j.Stage != messages.StageUploading || j.TaskID != "" || j.Failure != nil || j.GenAttempts != attempt:
			return fmt.Errorf("store: job %d in %s (attempt %d) for attempt %d's task: %w", id, j.Stage, j.GenAttempts, attempt, ErrStaleTask)
		}
		cur := j
		j.Stage, j.TaskID, j.UploadURL = messages.StageSubmitted, taskID, uploadURL
		j.TasksCreated++
		j.UpdatedAt = s.now().UTC()
		j.Reached = reached(cur, j.Stage, j.UpdatedAt)
		s.noteTask(tx, id, "", taskID, asked)
		return put(b, u64key(id), j)
	})
}

// keepTask keeps in j, a job actor's copy about to be written, the task a generator recorded
// that the copy has not heard of yet: more tasks are counted on the record than in the copy.
// A generation that failed and dropped its task counts the same number and is written as is.
func keepTask(j *messages.Job, stored messages.Job) {
	if stored.TasksCreated > j.TasksCreated {
		j.Stage, j.TaskID, j.TasksCreated, j.UploadURL = stored.Stage, stored.TaskID, stored.TasksCreated, stored.UploadURL
	}
}

// TaskSaved is told that a job's KIE task id is on disk: the commit that first stored it has
// been fsynced. asked is when RecordTask was called for it (wall time), zero when the job's own
// save stored it.
type TaskSaved func(jobID uint64, taskID string, asked time.Time)

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
func (s *Store) noteTask(tx *bolt.Tx, jobID uint64, was, now string, asked time.Time) {
	if now == "" || now == was {
		return
	}
	tx.OnCommit(func() {
		if fn := s.taskSaved.Load(); fn != nil {
			(*fn)(jobID, now, asked)
		}
	})
}
