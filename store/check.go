package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"

	bolt "go.etcd.io/bbolt"

	"neurocards/messages"
)

// Report is what `neurocards check` finds in a data file.
type Report struct {
	Users       int
	Jobs        int
	ByStage     map[string]int // in-flight jobs by stage, terminal ones by outcome
	Held        int64          // credits held by jobs in flight
	Balance     int64          // credits on all balances
	LedgerRows  int
	Offset      int64
	Violations  []string
	TaskRepeats int // jobs that created more KIE tasks than generation attempts (paid twice)
	// Jobs with more than one hold, capture or release row: money moved twice for one job.
	DoubleHolds, DoubleCaptures, DoubleReleases int
}

// Check verifies every invariant of the data: bbolt's own consistency (on a file opened read-only:
// a live file's free list moves under a reader), balance = Σ ledger and
// held = Σ holds for every user, no negative available balance, one hold per job and, once
// terminal, exactly one capture or release, no ledger row pointing at nothing.
func (s *Store) Check() (Report, error) {
	r := Report{ByStage: map[string]int{}}
	err := s.db.View(func(tx *bolt.Tx) error {
		if s.readOnly {
			for err := range tx.Check() {
				r.Violations = append(r.Violations, "bbolt: "+err.Error())
			}
		}
		type sums struct{ balance, held int64 }
		users := map[int64]User{}
		ledger := map[int64]*sums{}
		type jobRows struct{ holds, captures, releases int }
		rows := map[uint64]*jobRows{}
		jobs := map[uint64]messages.Job{}

		err := tx.Bucket(bucketUsers).ForEach(func(k, v []byte) error {
			var u User
			if err := json.Unmarshal(v, &u); err != nil {
				r.Violations = append(r.Violations, fmt.Sprintf("user %x: %v", k, err))
				return nil
			}
			users[u.ID] = u
			return nil
		})
		if err != nil {
			return err
		}
		err = tx.Bucket(bucketJobs).ForEach(func(k, v []byte) error {
			var j messages.Job
			if err := json.Unmarshal(v, &j); err != nil {
				r.Violations = append(r.Violations, fmt.Sprintf("job %x: %v", k, err))
				return nil
			}
			jobs[j.ID] = j
			return nil
		})
		if err != nil {
			return err
		}
		err = tx.Bucket(bucketLedger).ForEach(func(k, v []byte) error {
			var e Entry
			if err := json.Unmarshal(v, &e); err != nil {
				r.Violations = append(r.Violations, fmt.Sprintf("ledger row %x: %v", k, err))
				return nil
			}
			r.LedgerRows++
			if _, ok := users[e.UserID]; !ok {
				r.Violations = append(r.Violations, fmt.Sprintf("ledger row %d: user %d does not exist", e.Seq, e.UserID))
			}
			sm := ledger[e.UserID]
			if sm == nil {
				sm = &sums{}
				ledger[e.UserID] = sm
			}
			sm.balance += e.Amount
			sm.held += e.Held
			switch e.Type {
			case EntryHold, EntryCapture, EntryRelease:
				j, ok := jobs[e.JobID]
				if !ok {
					r.Violations = append(r.Violations, fmt.Sprintf("ledger row %d: %s of job %d, which does not exist", e.Seq, e.Type, e.JobID))
					return nil
				}
				if j.UserID != e.UserID {
					r.Violations = append(r.Violations, fmt.Sprintf("ledger row %d: %s of job %d by user %d, but the job is user %d's", e.Seq, e.Type, e.JobID, e.UserID, j.UserID))
				}
				jr := rows[e.JobID]
				if jr == nil {
					jr = &jobRows{}
					rows[e.JobID] = jr
				}
				switch e.Type {
				case EntryHold:
					jr.holds++
				case EntryCapture:
					jr.captures++
				default:
					jr.releases++
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		r.Users = len(users)
		for id, u := range users {
			sm := ledger[id]
			if sm == nil {
				sm = &sums{}
			}
			if sm.balance != u.Balance {
				r.Violations = append(r.Violations, fmt.Sprintf("user %d: balance %d but the ledger sums to %d", id, u.Balance, sm.balance))
			}
			if sm.held != u.Held {
				r.Violations = append(r.Violations, fmt.Sprintf("user %d: holds %d but the ledger sums to %d", id, u.Held, sm.held))
			}
			if u.Balance-u.Held < 0 {
				r.Violations = append(r.Violations, fmt.Sprintf("user %d: available balance is negative (%d − %d)", id, u.Balance, u.Held))
			}
			r.Balance += u.Balance
		}
		active := tx.Bucket(bucketActive)
		r.Jobs = len(jobs)
		for id, j := range jobs {
			jr := rows[id]
			if jr == nil {
				jr = &jobRows{}
			}
			isActive := active.Get(userJobKey(j.UserID, id)) != nil
			if j.Terminal() {
				r.ByStage[string(j.Outcome)]++
				if jr.captures+jr.releases != 1 {
					r.Violations = append(r.Violations, fmt.Sprintf("job %d: %s with %d captures and %d releases, want exactly one", id, j.Outcome, jr.captures, jr.releases))
				}
				if (j.Outcome == messages.OutcomeDone) != (jr.captures == 1) {
					r.Violations = append(r.Violations, fmt.Sprintf("job %d: outcome %s does not match its ledger (%d captures)", id, j.Outcome, jr.captures))
				}
				if isActive {
					r.Violations = append(r.Violations, fmt.Sprintf("job %d: terminal but still listed as active", id))
				}
			} else {
				r.ByStage[string(j.Stage)]++
				r.Held += j.Price
				if jr.captures+jr.releases != 0 {
					r.Violations = append(r.Violations, fmt.Sprintf("job %d: in flight but already has %d captures and %d releases", id, jr.captures, jr.releases))
				}
				if !isActive {
					r.Violations = append(r.Violations, fmt.Sprintf("job %d: in flight but not listed as active", id))
				}
			}
			if jr.holds != 1 {
				r.Violations = append(r.Violations, fmt.Sprintf("job %d: %d holds, want exactly one", id, jr.holds))
			}
			r.DoubleHolds += btoi(jr.holds > 1)
			r.DoubleCaptures += btoi(jr.captures > 1)
			r.DoubleReleases += btoi(jr.releases > 1)
			if j.TasksCreated > j.GenAttempts {
				r.TaskRepeats++
			}
		}
		if raw := tx.Bucket(bucketMeta).Get([]byte("offset")); raw != nil {
			r.Offset = int64(binary.BigEndian.Uint64(raw))
		}
		return nil
	})
	sort.Strings(r.Violations)
	return r, err
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
