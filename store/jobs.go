package store

import (
	"encoding/binary"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"neurocards/messages"
)

// ErrFinished means the job is already terminal: a late or repeated result changes nothing.
var ErrFinished = errors.New("job already finished")

// ErrNoJob means there is no job with that id.
var ErrNoJob = errors.New("no such job")

// Job returns the job with the given id.
func (s *Store) Job(id uint64) (messages.Job, bool, error) {
	var (
		j  messages.Job
		ok bool
	)
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		j, ok, err = get[messages.Job](tx.Bucket(bucketJobs), u64key(id))
		return err
	})
	return j, ok, err
}

// liveJob reads a job that has not ended: ErrNoJob when there is none, ErrFinished (with the
// job) when it has ended.
func liveJob(b *bolt.Bucket, id uint64) (messages.Job, error) {
	j, ok, err := get[messages.Job](b, u64key(id))
	switch {
	case err != nil:
		return j, err
	case !ok:
		return j, ErrNoJob
	case j.Terminal():
		return j, ErrFinished
	}
	return j, nil
}

// SaveJob persists a job that is still in flight. It refuses to touch a terminal job, so an actor
// acting on a stale copy learns that the job ended elsewhere.
func (s *Store) SaveJob(j messages.Job) (messages.Job, error) {
	if j.Terminal() {
		return j, fmt.Errorf("store: job %d: only its seller's session ends a job (UserTx.Finish)", j.ID)
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketJobs)
		cur, err := liveJob(b, j.ID)
		if errors.Is(err, ErrFinished) {
			j = cur
		}
		if err != nil {
			return err
		}
		j.UpdatedAt = s.now().UTC()
		return put(b, u64key(j.ID), j)
	})
	return j, err
}

// Finish ends one of this seller's jobs as its job actor decided: a job delivered (stage
// delivered) is done and its hold captured; a job with a failure is failed and its hold released
// — in this transaction, with the terminal record, the active index and the notice still owed to
// the seller. A job that already ended is returned as stored with ErrFinished, so each hold is
// captured or released exactly once.
func (t *UserTx) Finish(j messages.Job) (messages.Job, error) {
	jobs := t.tx.Bucket(bucketJobs)
	cur, err := liveJob(jobs, j.ID)
	if err != nil {
		return cur, err
	}
	if cur.UserID != t.User.ID {
		return cur, fmt.Errorf("store: job %d is not user %d's", j.ID, t.User.ID)
	}
	e := Entry{JobID: j.ID, Key: finishKey(j.ID), Held: -cur.Price}
	switch {
	case j.Stage == messages.StageDelivered && j.Failure == nil:
		j.Outcome, e.Type, e.Amount = messages.OutcomeDone, EntryCapture, -cur.Price
	case j.Failure != nil:
		j.Outcome, e.Type = messages.OutcomeFailed, EntryRelease
	default:
		return cur, fmt.Errorf("store: job %d has no outcome to finish with", j.ID)
	}
	if _, err := t.s.post(t.tx, &t.User, e); err != nil {
		return cur, fmt.Errorf("store: job %d: %s: %w", j.ID, e.Type, err)
	}
	now := t.s.now().UTC()
	j.Price, j.UserID, j.Parked = cur.Price, cur.UserID, false
	j.UpdatedAt, j.FinishedAt = now, now
	if j.StatusMessageID == 0 {
		j.StatusMessageID = cur.StatusMessageID
	}
	if err := put(jobs, u64key(j.ID), j); err != nil {
		return cur, err
	}
	key := userJobKey(cur.UserID, j.ID)
	if err := t.tx.Bucket(bucketActive).Delete(key); err != nil {
		return cur, err
	}
	// The seller is told after this commits; until MarkNotified a restart tells them again.
	if err := t.tx.Bucket(bucketNotices).Put(key, nil); err != nil {
		return cur, err
	}
	return j, nil
}

// SetStatusMessage records the id of a job's status message, ended or not, so a restart can
// still edit it.
func (s *Store) SetStatusMessage(id uint64, messageID int) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketJobs)
		j, ok, err := get[messages.Job](b, u64key(id))
		if err != nil || !ok {
			return err
		}
		j.StatusMessageID = messageID
		return put(b, u64key(id), j)
	})
}

// MarkNotified records that the seller has been told how the job ended (the failure message and
// the status message's last edit were sent, or tried).
func (s *Store) MarkNotified(j messages.Job) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketNotices).Delete(userJobKey(j.UserID, j.ID))
	})
}

// ActiveJobs returns every job that is not terminal, and every ended job whose seller was not yet
// told, for recovery at start.
func (s *Store) ActiveJobs() ([]messages.Job, error) {
	var out []messages.Job
	err := s.db.View(func(tx *bolt.Tx) error {
		jobs := tx.Bucket(bucketJobs)
		return forEachKey(tx, func(k []byte) error {
			j, ok, err := get[messages.Job](jobs, k[8:])
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("store: active job %d has no record", binary.BigEndian.Uint64(k[8:]))
			}
			out = append(out, j)
			return nil
		})
	})
	return out, err
}

// ActiveJobsOf returns the user's jobs that are not terminal or whose end the seller was not told.
func (s *Store) ActiveJobsOf(uid int64) ([]messages.Job, error) {
	var out []messages.Job
	err := s.db.View(func(tx *bolt.Tx) error {
		jobs := tx.Bucket(bucketJobs)
		for _, b := range [][]byte{bucketActive, bucketNotices} {
			err := eachNewest(tx.Bucket(b), i64key(uid), func(id []byte) (bool, error) {
				j, ok, err := get[messages.Job](jobs, id)
				if ok {
					out = append(out, j)
				}
				return true, err
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// forEachKey calls fn with every key of the active and notices indexes (uid ‖ job id).
func forEachKey(tx *bolt.Tx, fn func(k []byte) error) error {
	for _, b := range [][]byte{bucketActive, bucketNotices} {
		if err := tx.Bucket(b).ForEach(func(k, _ []byte) error { return fn(k) }); err != nil {
			return err
		}
	}
	return nil
}

// Jobs returns up to limit of the user's most recent jobs, newest first.
func (s *Store) Jobs(uid int64, limit int) ([]messages.Job, error) {
	var out []messages.Job
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		out, err = newest[messages.Job](tx, bucketUserJobs, bucketJobs, uid, limit)
		return err
	})
	return out, err
}
