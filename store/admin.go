package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"neurocards/messages"
)

// ErrAlreadyReleased means a job failed and its hold went back already: there is nothing to refund.
var ErrAlreadyReleased = errors.New("job failed; its credits were already released")

// Adjust posts an operator's correction (an adjust row, made by by) to an existing user. A
// negative amount never takes the balance below what jobs in flight hold (ErrInsufficient); a
// key used before gives ErrDuplicate.
func (s *Store) Adjust(uid, amount int64, key, note string, by int64) (User, Entry, error) {
	var (
		u User
		e Entry
	)
	err := s.db.Update(func(tx *bolt.Tx) error {
		users := tx.Bucket(bucketUsers)
		cur, ok, err := get[User](users, i64key(uid))
		if err != nil {
			return err
		}
		if !ok {
			return ErrNoUser
		}
		if e, err = s.post(tx, &cur, Entry{Type: EntryAdjust, Amount: amount, Key: key, Note: note, By: by}); err != nil {
			return err
		}
		u = cur
		return put(users, i64key(uid), cur)
	})
	return u, e, err
}

// JobRefund is what an operator's refund of a job did.
type JobRefund struct {
	Job      messages.Job // the job as it is now
	Released bool         // the job was in flight: it failed as cancelled and its hold went back
	Adjust   Entry        // the job was delivered: this row gave its price back
	User     User         // the seller after the refund
}

// RefundJob gives a seller back what a job cost, once. A job in flight ends as failed (operator,
// cancelled) and its hold is released — its actor learns that at its next save and stops. A
// delivered job gets one adjust row of +price keyed by the job (ErrDuplicate the second time).
// A failed job's credits went back when it failed (ErrAlreadyReleased).
func (s *Store) RefundJob(id uint64, by int64) (JobRefund, error) {
	j, ok, err := s.Job(id)
	if err != nil {
		return JobRefund{}, err
	}
	if !ok {
		return JobRefund{}, ErrNoJob
	}
	if !j.Terminal() {
		fj, err := s.FailJob(id, messages.Failure{Class: messages.Operator, Reason: messages.ReasonCancelled, Detail: fmt.Sprintf("refunded by operator %d", by)})
		switch {
		case err == nil:
			u, _, err := s.User(fj.UserID)
			return JobRefund{Job: fj, Released: true, User: u}, err
		case errors.Is(err, ErrFinished):
			j = fj // it ended meanwhile: refund it as it ended
		default:
			return JobRefund{}, err
		}
	}
	if j.Outcome != messages.OutcomeDone {
		return JobRefund{Job: j}, ErrAlreadyReleased
	}
	r := JobRefund{Job: j}
	err = s.db.Update(func(tx *bolt.Tx) error {
		users := tx.Bucket(bucketUsers)
		u, ok, err := get[User](users, i64key(j.UserID))
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("store: job %d: user %d missing", j.ID, j.UserID)
		}
		e, err := s.post(tx, &u, Entry{Type: EntryAdjust, Amount: j.Price, JobID: j.ID, Key: RefundJobKey(j.ID), Note: "refund of a delivered job", By: by})
		if err != nil {
			return err
		}
		r.Adjust, r.User = e, u
		return put(users, i64key(u.ID), u)
	})
	return r, err
}

// Stats is the shape of the business since a moment: what an operator asks "how is today going".
type Stats struct {
	Sellers      int // everyone who ever wrote to the bot
	Jobs         int // jobs created since
	JobsDone     int
	JobsFailed   int
	JobsInFlight int
	Purchases    int
	CreditsSold  int64 // credits bought with Stars since
	CreditsSpent int64 // credits captured by delivered jobs since
	Adjusted     int64 // operators' grants, refunds and charge-backs since (adjust rows, net)
}

// Stats counts sellers, and jobs and money since the given moment.
func (s *Store) Stats(since time.Time) (Stats, error) {
	var st Stats
	err := s.db.View(func(tx *bolt.Tx) error {
		st.Sellers = tx.Bucket(bucketUsers).Stats().KeyN
		c := tx.Bucket(bucketJobs).Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			j, err := decode[messages.Job](k, v)
			if err != nil {
				return err
			}
			if j.CreatedAt.Before(since) {
				break
			}
			st.Jobs++
			switch j.Outcome {
			case messages.OutcomeDone:
				st.JobsDone++
			case messages.OutcomeFailed:
				st.JobsFailed++
			default:
				st.JobsInFlight++
			}
		}
		c = tx.Bucket(bucketLedger).Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			e, err := decode[Entry](k, v)
			if err != nil {
				return err
			}
			if e.At.Before(since) {
				break
			}
			switch e.Type {
			case EntryPurchase:
				st.Purchases++
				st.CreditsSold += e.Amount
			case EntryCapture:
				st.CreditsSpent -= e.Amount
			case EntryAdjust:
				st.Adjusted += e.Amount
			}
		}
		return nil
	})
	return st, err
}

func decode[T any](k, v []byte) (T, error) {
	var x T
	if err := json.Unmarshal(v, &x); err != nil {
		return x, fmt.Errorf("store: decode %T %x: %w", x, k, err)
	}
	return x, nil
}
