package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

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
		return j, fmt.Errorf("store: job %d: use FinishJob to end a job", j.ID)
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
		j.Reached = reached(cur, j.Stage, j.UpdatedAt)
		return put(b, u64key(j.ID), j)
	})
	return j, err
}

// FinishJob ends a job with j.Outcome: done captures the hold, failed releases it, in the same
// transaction that stores the terminal job. A job that already ended is returned unchanged with
// ErrFinished, so each hold is captured or released exactly once.
func (s *Store) FinishJob(j messages.Job) (messages.Job, error) {
	if !j.Terminal() {
		return j, fmt.Errorf("store: job %d: FinishJob needs an outcome", j.ID)
	}
	return s.finish(j.ID, func(messages.Job) messages.Job { return j })
}

// FailJob fails a job in flight with f as it is stored now, releasing its hold: for an operator's
// refund or a job whose actor crashed. A live actor learns at its next save that the job ended.
func (s *Store) FailJob(id uint64, f messages.Failure) (messages.Job, error) {
	return s.finish(id, func(cur messages.Job) messages.Job {
		cur.Outcome, cur.Failure, cur.Parked = messages.OutcomeFailed, &f, false
		return cur
	})
}

// finish ends job id with what end makes of the stored job, in one transaction: the terminal job,
// the capture or release, the active index, and the notice still owed to the seller.
func (s *Store) finish(id uint64, end func(cur messages.Job) messages.Job) (messages.Job, error) {
	var j messages.Job
	err := s.db.Update(func(tx *bolt.Tx) error {
		jobs, users := tx.Bucket(bucketJobs), tx.Bucket(bucketUsers)
		cur, err := liveJob(jobs, id)
		if errors.Is(err, ErrFinished) {
			j = cur
		}
		if err != nil {
			return err
		}
		j = end(cur)
		u, ok, err := get[User](users, i64key(cur.UserID))
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("store: job %d: user %d missing", id, cur.UserID)
		}
		e := Entry{JobID: id, Key: finishKey(id), Held: -cur.Price}
		switch j.Outcome {
		case messages.OutcomeDone:
			e.Type, e.Amount = EntryCapture, -cur.Price
		case messages.OutcomeFailed:
			e.Type = EntryRelease
		default:
			return fmt.Errorf("store: job %d: unknown outcome %q", id, j.Outcome)
		}
		if _, err := s.post(tx, &u, e); err != nil {
			return fmt.Errorf("store: job %d: %s: %w", id, e.Type, err)
		}
		now := s.now().UTC()
		j.ID, j.Price, j.UserID = id, cur.Price, cur.UserID
		j.UpdatedAt, j.FinishedAt = now, now
		j.Reached = reached(cur, j.Stage, now)
		if err := put(jobs, u64key(id), j); err != nil {
			return err
		}
		if err := tx.Bucket(bucketActive).Delete(userJobKey(cur.UserID, id)); err != nil {
			return err
		}
		// The seller is told after this commits; until MarkNotified a restart tells them again.
		if err := tx.Bucket(bucketNotices).Put(userJobKey(cur.UserID, id), nil); err != nil {
			return err
		}
		return put(users, i64key(u.ID), u)
	})
	return j, err
}

// reached is cur's stage times with stage recorded at now when it differs from cur's. A job is
// queued from its creation.
func reached(cur messages.Job, stage messages.Stage, now time.Time) messages.StageTimes {
	r := cur.Reached
	if r.Queued.IsZero() {
		r.Queued = cur.CreatedAt
	}
	if stage != cur.Stage {
		r.Set(stage, now)
	}
	return r
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
