package store

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// EntryType names a ledger row.
type EntryType string

const (
	EntryGrant    EntryType = "grant"    // free credits: the start bonus
	EntryPurchase EntryType = "purchase" // bought with Telegram Stars, keyed by telegram_payment_charge_id
	EntryHold     EntryType = "hold"     // a job's price reserved at confirmation
	EntryCapture  EntryType = "capture"  // a delivered job's hold turned into spending
	EntryRelease  EntryType = "release"  // a failed job's hold given back
	EntryAdjust   EntryType = "adjust"   // an operator's correction
)

// Entry is one row of the credit ledger. Amount is the change to the balance and Held the change to
// the credits held by jobs in flight, so that balance = Σ Amount and held = Σ Held for every user.
type Entry struct {
	Seq    uint64    `json:"seq"`
	UserID int64     `json:"user_id"`
	Type   EntryType `json:"type"`
	Amount int64     `json:"amount"`
	Held   int64     `json:"held"`
	JobID  uint64    `json:"job_id,omitempty"`
	Key    string    `json:"key,omitempty"` // idempotency key: a second row with the same key is refused
	Note   string    `json:"note,omitempty"`
	By     int64     `json:"by,omitempty"` // the operator who made an adjust
	At     time.Time `json:"at"`
}

var (
	// ErrInsufficient means the available balance (balance − held) does not cover the request.
	ErrInsufficient = errors.New("not enough credits")
	// ErrDuplicate means a ledger row with the same idempotency key exists: the operation already happened.
	ErrDuplicate = errors.New("already recorded")
	// ErrOutOfRange means a row moves more than MaxAmount credits, or would leave a balance or
	// held credits beyond MaxBalance: it is refused and nothing changes.
	ErrOutOfRange = errors.New("credits out of range")
)

// The ledger's bounds. One row moves at most MaxAmount credits — a billion, far past any price,
// pack or grant — and a balance or the credits held stay within ±MaxBalance, so no sum the
// ledger or Check makes comes near overflowing an int64.
const (
	MaxAmount  = 1_000_000_000
	MaxBalance = 1_000_000_000_000
)

// post is the only place that writes the ledger. It appends e for u, applies it to u's cached
// balance and held credits and refuses anything out of the ledger's bounds or that would let
// available credits go negative. The caller saves u in the same transaction.
func (s *Store) post(tx *bolt.Tx, u *User, e Entry) (Entry, error) {
	keys := tx.Bucket(bucketKeys)
	if e.Key != "" && keys.Get([]byte(e.Key)) != nil {
		return Entry{}, ErrDuplicate
	}
	if outside(e.Amount, MaxAmount) || outside(e.Held, MaxAmount) {
		return Entry{}, fmt.Errorf("store: ledger: user %d: a %s of %d credits (held %d): %w: one row moves at most %d",
			u.ID, e.Type, e.Amount, e.Held, ErrOutOfRange, int64(MaxAmount))
	}
	// With the row bounded, a sum can only wrap around from a stored value already far beyond
	// the bounds, and then lands far beyond them too.
	balance, held := u.Balance+e.Amount, u.Held+e.Held
	if outside(balance, MaxBalance) || outside(held, MaxBalance) {
		return Entry{}, fmt.Errorf("store: ledger: user %d: a %s of %d credits would leave balance %d, held %d: %w: at most %d",
			u.ID, e.Type, e.Amount, balance, held, ErrOutOfRange, int64(MaxBalance))
	}
	if held < 0 {
		return Entry{}, fmt.Errorf("store: ledger: user %d would hold %d credits", u.ID, held)
	}
	if (e.Amount < 0 || e.Held > 0) && balance-held < 0 {
		return Entry{}, ErrInsufficient
	}
	ledger := tx.Bucket(bucketLedger)
	seq, err := ledger.NextSequence()
	if err != nil {
		return Entry{}, err
	}
	e.Seq, e.UserID, e.At = seq, u.ID, s.now().UTC()
	if err := put(ledger, u64key(seq), e); err != nil {
		return Entry{}, err
	}
	if err := tx.Bucket(bucketUserLedger).Put(append(i64key(u.ID), u64key(seq)...), nil); err != nil {
		return Entry{}, err
	}
	if e.Key != "" {
		if err := keys.Put([]byte(e.Key), u64key(seq)); err != nil {
			return Entry{}, err
		}
	}
	u.Balance, u.Held = balance, held
	return e, nil
}

// outside reports whether v is beyond ±bound. It compares without negating v, which for
// math.MinInt64 would stay negative.
func outside(v, bound int64) bool { return v > bound || v < -bound }

// Ledger returns up to limit of the user's most recent rows, newest first; limit ≤ 0 returns all.
func (s *Store) Ledger(uid int64, limit int) ([]Entry, error) {
	var out []Entry
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		out, err = newest[Entry](tx, bucketUserLedger, bucketLedger, uid, limit)
		return err
	})
	return out, err
}

// newest reads up to limit (≤ 0: all) of a user's records, newest first, through a per-user index
// bucket (uid ‖ key → nil) into the data bucket.
func newest[T any](tx *bolt.Tx, index, data []byte, uid int64, limit int) ([]T, error) {
	var out []T
	b := tx.Bucket(data)
	err := eachNewest(tx.Bucket(index), i64key(uid), func(key []byte) (bool, error) {
		v, ok, err := get[T](b, key)
		if err != nil || !ok {
			return false, err
		}
		out = append(out, v)
		return limit <= 0 || len(out) < limit, nil
	})
	return out, err
}

// eachNewest walks the keys of an index bucket that start with prefix, newest (largest) first, and
// calls fn with the rest of each key until fn says stop.
func eachNewest(b *bolt.Bucket, prefix []byte, fn func(rest []byte) (bool, error)) error {
	c := b.Cursor()
	end := append(append([]byte{}, prefix...), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
	k, _ := c.Seek(end)
	if k == nil {
		k, _ = c.Last()
	} else if bytes.Compare(k, end) > 0 {
		k, _ = c.Prev()
	}
	for ; k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Prev() {
		more, err := fn(k[len(prefix):])
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// KeyExists reports whether a ledger row with the idempotency key exists.
func (s *Store) KeyExists(key string) (bool, error) {
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		ok = tx.Bucket(bucketKeys).Get([]byte(key)) != nil
		return nil
	})
	return ok, err
}
