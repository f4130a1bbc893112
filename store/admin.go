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

// Adjust posts an operator's correction (an adjust row, made by by) to this seller. A negative
// amount never takes the balance below what jobs in flight hold (ErrInsufficient); a key used
// before gives ErrDuplicate.
func (t *UserTx) Adjust(amount int64, key, note string, by int64) (Entry, error) {
	return t.s.post(t.tx, &t.User, Entry{Type: EntryAdjust, Amount: amount, Key: key, Note: note, By: by})
}

// RefundDelivered gives back a delivered job's price in one adjust row keyed by the job, once
// (ErrDuplicate the second time). A failed job's credits went back when it failed
// (ErrAlreadyReleased); a job in flight is cancelled by its session, not refunded here.
func (t *UserTx) RefundDelivered(id uint64, by int64) (messages.Job, Entry, error) {
	j, ok, err := t.Job(id)
	switch {
	case err != nil:
		return j, Entry{}, err
	case !ok || j.UserID != t.User.ID:
		return j, Entry{}, ErrNoJob
	case j.Outcome == messages.OutcomeFailed:
		return j, Entry{}, ErrAlreadyReleased
	case j.Outcome != messages.OutcomeDone:
		return j, Entry{}, fmt.Errorf("store: job %d is still in flight", id)
	}
	e, err := t.s.post(t.tx, &t.User, Entry{Type: EntryAdjust, Amount: j.Price, JobID: j.ID, Key: RefundJobKey(j.ID), Note: "refund of a delivered job", By: by})
	return j, e, err
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
