package store

import (
	"bytes"
	"encoding/binary"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"neurocards/messages"
)

// The read-only queries of the operator's dashboard. Each reads in one short transaction and is
// bounded: a page of at most MaxPage rows, a scan of at most its own limit of records.

// MaxPage is the most rows a paged query returns.
const MaxPage = 200

func pageSize(limit int) int {
	if limit <= 0 || limit > MaxPage {
		return MaxPage
	}
	return limit
}

// InFlight counts the jobs not yet ended.
type InFlight struct {
	ByStage map[messages.Stage]int
	Parked  int // of them, waiting in queued for KIE to come back
	Total   int
}

// InFlight counts the jobs not yet ended, by stage, as stored.
func (s *Store) InFlight() (InFlight, error) {
	n := InFlight{ByStage: map[messages.Stage]int{}}
	err := s.db.View(func(tx *bolt.Tx) error {
		jobs := tx.Bucket(bucketJobs)
		return tx.Bucket(bucketActive).ForEach(func(k, _ []byte) error {
			j, ok, err := get[messages.Job](jobs, k[8:])
			if err != nil || !ok || j.Terminal() {
				return err
			}
			n.ByStage[j.Stage]++
			n.Total++
			if j.Parked {
				n.Parked++
			}
			return nil
		})
	})
	return n, err
}

// EachJobSince calls fn with every job created at or after since, newest first, up to limit
// jobs (≤ 0: MaxScan); truncated says the limit cut the walk short.
func (s *Store) EachJobSince(since time.Time, limit int, fn func(j messages.Job)) (truncated bool, err error) {
	if limit <= 0 {
		limit = MaxScan
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketJobs).Cursor()
		n := 0
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			j, err := decode[messages.Job](k, v)
			if err != nil {
				return err
			}
			if j.CreatedAt.Before(since) {
				return nil
			}
			if n == limit {
				truncated = true
				return nil
			}
			n++
			fn(j)
		}
		return nil
	})
	return truncated, err
}

// MaxScan is the most records one dashboard query reads.
const MaxScan = 50000

// JobFilter selects jobs; an empty field matches every job.
type JobFilter struct {
	UserID  int64
	Stage   messages.Stage
	Outcome string // "done", "failed", or "in_flight"
	Kind    string
}

// OutcomeInFlight is the JobFilter outcome of jobs not yet ended.
const OutcomeInFlight = "in_flight"

func (f JobFilter) match(j messages.Job) bool {
	switch {
	case f.UserID != 0 && j.UserID != f.UserID,
		f.Stage != "" && j.Stage != f.Stage,
		f.Kind != "" && j.Kind != f.Kind:
		return false
	case f.Outcome == OutcomeInFlight:
		return !j.Terminal()
	case f.Outcome != "":
		return string(j.Outcome) == f.Outcome
	}
	return true
}

// FindJobs returns up to limit jobs that match f, newest first, among those with an id below
// before (0: from the newest). next is the id to pass as before for the following page, 0 when
// there is none; a page may come back short of limit when MaxScan jobs were read without filling
// it, and next then goes on from where the scan stopped.
func (s *Store) FindJobs(f JobFilter, before uint64, limit int) (jobs []messages.Job, next uint64, err error) {
	limit = pageSize(limit)
	err = s.db.View(func(tx *bolt.Tx) error {
		data := tx.Bucket(bucketJobs)
		if f.UserID != 0 {
			return eachBefore(tx.Bucket(bucketUserJobs), i64key(f.UserID), before, func(id []byte) (bool, error) {
				if len(jobs) == limit {
					next = binary.BigEndian.Uint64(id) + 1
					return false, nil
				}
				j, ok, err := get[messages.Job](data, id)
				if err != nil || !ok {
					return err == nil, err
				}
				if f.match(j) {
					jobs = append(jobs, j)
				}
				return true, nil
			})
		}
		c := data.Cursor()
		k, v := c.Last()
		if before > 0 {
			k, v = c.Seek(u64key(before))
			k, v = prevOrLast(c, k, v)
		}
		for scanned := 0; k != nil; k, v = c.Prev() {
			if len(jobs) == limit || scanned == MaxScan {
				next = binary.BigEndian.Uint64(k) + 1
				return nil
			}
			scanned++
			j, err := decode[messages.Job](k, v)
			if err != nil {
				return err
			}
			if f.match(j) {
				jobs = append(jobs, j)
			}
		}
		return nil
	})
	return jobs, next, err
}

// prevOrLast steps a cursor that Seek put at the first key ≥ the bound back to the last key
// below it.
func prevOrLast(c *bolt.Cursor, k, v []byte) ([]byte, []byte) {
	if k == nil {
		return c.Last()
	}
	return c.Prev()
}

// LedgerPage returns up to limit of the user's ledger rows with a sequence number below before
// (0: from the newest), newest first; next is the before of the following page, 0 when none.
func (s *Store) LedgerPage(uid int64, before uint64, limit int) (rows []Entry, next uint64, err error) {
	limit = pageSize(limit)
	err = s.db.View(func(tx *bolt.Tx) error {
		data := tx.Bucket(bucketLedger)
		return eachBefore(tx.Bucket(bucketUserLedger), i64key(uid), before, func(seq []byte) (bool, error) {
			if len(rows) == limit {
				next = binary.BigEndian.Uint64(seq) + 1
				return false, nil
			}
			e, ok, err := get[Entry](data, seq)
			if ok {
				rows = append(rows, e)
			}
			return err == nil, err
		})
	})
	return rows, next, err
}

// eachBefore walks the keys of an index bucket that start with prefix and whose rest (a
// big-endian id) is below before (0: all), largest first, until fn says stop.
func eachBefore(b *bolt.Bucket, prefix []byte, before uint64, fn func(rest []byte) (bool, error)) error {
	if before == 0 {
		return eachNewest(b, prefix, fn)
	}
	c := b.Cursor()
	k, _ := c.Seek(append(append([]byte{}, prefix...), u64key(before)...))
	k, _ = prevOrLast(c, k, nil)
	for ; k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Prev() {
		more, err := fn(k[len(prefix):])
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// JobLedger returns the ledger rows a job produced, in order: its hold, its capture or release,
// and an operator's refund of it.
func (s *Store) JobLedger(id uint64) ([]Entry, error) {
	var rows []Entry
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, key := range []string{holdKey(id), finishKey(id), RefundJobKey(id)} {
			e, ok, err := entryByKey(tx, key)
			if err != nil {
				return err
			}
			if ok {
				rows = append(rows, e)
			}
		}
		return nil
	})
	return rows, err
}

// FindUsers returns up to limit sellers whose first name contains q (case-insensitive; empty q:
// every seller), in id order after the id after (0: from the first). next is the after of the
// following page, 0 when none; a page may come back short when MaxScan sellers were read.
func (s *Store) FindUsers(q string, after int64, limit int) (users []User, next int64, err error) {
	limit = pageSize(limit)
	q = strings.ToLower(strings.TrimSpace(q))
	err = s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketUsers).Cursor()
		k, v := c.First()
		if after != 0 {
			k, v = c.Seek(i64key(after))
			if k != nil && bytes.Equal(k, i64key(after)) {
				k, v = c.Next()
			}
		}
		var last int64
		for scanned := 0; k != nil; k, v = c.Next() {
			if len(users) == limit || scanned == MaxScan {
				next = last
				return nil
			}
			scanned++
			u, err := decode[User](k, v)
			if err != nil {
				return err
			}
			last = u.ID
			if q == "" || strings.Contains(strings.ToLower(u.FirstName), q) {
				users = append(users, u)
			}
		}
		return nil
	})
	return users, next, err
}
