package store

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// ErrNoPurchase means no purchase row carries that telegram_payment_charge_id.
var ErrNoPurchase = errors.New("no such purchase")

// PurchaseKey is the idempotency key of the purchase row for one Telegram Stars payment, so a
// replayed successful_payment credits nothing.
func PurchaseKey(chargeID string) string { return "purchase:" + chargeID }

// ChargeBackKey is the key of the adjust row that takes back the credits of a refunded payment.
func ChargeBackKey(chargeID string) string { return "refund:charge:" + chargeID }

// RefundJobKey is the key of the adjust row that gives back the price of a delivered job.
func RefundJobKey(jobID uint64) string { return "refund:job:" + strconv.FormatUint(jobID, 10) }

// Purchase credits a paid pack to this user, once per charge id: a second call with the same
// charge id returns ErrDuplicate and changes nothing.
func (t *UserTx) Purchase(chargeID string, credits int64, note string) (Entry, error) {
	if chargeID == "" {
		return Entry{}, errors.New("store: purchase without a charge id")
	}
	return t.Post(Entry{Type: EntryPurchase, Amount: credits, Key: PurchaseKey(chargeID), Note: note})
}

// EntryByKey returns the ledger row recorded under an idempotency key.
func (s *Store) EntryByKey(key string) (Entry, bool, error) {
	var (
		e  Entry
		ok bool
	)
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		e, ok, err = entryByKey(tx, key)
		return err
	})
	return e, ok, err
}

func entryByKey(tx *bolt.Tx, key string) (Entry, bool, error) {
	seq := tx.Bucket(bucketKeys).Get([]byte(key))
	if seq == nil {
		return Entry{}, false, nil
	}
	return get[Entry](tx.Bucket(bucketLedger), seq)
}

// ChargeBack is what taking back a payment's credits did.
type ChargeBack struct {
	Purchase Entry // the purchase row of the payment
	Adjust   Entry // the row that took the credits back
	User     User  // the buyer after the change
	Resumed  bool  // this try had already taken them (a re-delivered command): nothing new was taken
}

// ChargeBack takes back all the credits of a payment, in one adjust row, before its Stars are
// refunded — so the buyer cannot spend them meanwhile. It refuses with ErrInsufficient when the
// buyer no longer has them available, and with ErrDuplicate when another try's charge-back of
// this payment stands. attempt names the try (the operator's command; a word without ':', not
// "undo"): the same try again finds its own charge-back and returns it, and a try whose Stars
// refund failed is undone by UndoChargeBack so a later one can be made.
func (s *Store) ChargeBack(chargeID, attempt string, by int64) (ChargeBack, error) {
	var cb ChargeBack
	if !validAttempt(attempt) {
		return cb, fmt.Errorf("store: charge-back of %s: attempt %q must be a word without ':'", chargeID, attempt)
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		p, ok, err := entryByKey(tx, PurchaseKey(chargeID))
		if err != nil {
			return err
		}
		if !ok || p.Type != EntryPurchase {
			return ErrNoPurchase
		}
		cb.Purchase = p
		standing, err := standingChargeBack(tx, chargeID)
		if err != nil {
			return err
		}
		users := tx.Bucket(bucketUsers)
		u, ok, err := get[User](users, i64key(p.UserID))
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("store: purchase %s: user %d missing", chargeID, p.UserID)
		}
		switch standing {
		case "":
		case chargeBackKey(chargeID, attempt):
			e, _, err := entryByKey(tx, standing)
			cb.Adjust, cb.User, cb.Resumed = e, u, true
			return err
		default:
			return ErrDuplicate
		}
		if u.Available() < p.Amount {
			return ErrInsufficient
		}
		e, err := s.post(tx, &u, Entry{Type: EntryAdjust, Amount: -p.Amount, Key: chargeBackKey(chargeID, attempt), Note: "stars refund", By: by})
		if err != nil {
			return err
		}
		cb.Adjust, cb.User = e, u
		return put(users, i64key(u.ID), u)
	})
	return cb, err
}

// UndoChargeBack gives back the credits a try took when its Stars refund failed.
func (s *Store) UndoChargeBack(chargeID, attempt string, by int64) (User, error) {
	var u User
	err := s.db.Update(func(tx *bolt.Tx) error {
		take, ok, err := entryByKey(tx, chargeBackKey(chargeID, attempt))
		if err != nil {
			return err
		}
		if !ok {
			return ErrNoPurchase
		}
		users := tx.Bucket(bucketUsers)
		cur, ok, err := get[User](users, i64key(take.UserID))
		if err != nil || !ok {
			return fmt.Errorf("store: charge-back %s: user %d: %v", chargeID, take.UserID, err)
		}
		if _, err := s.post(tx, &cur, Entry{Type: EntryAdjust, Amount: -take.Amount, Key: chargeBackKey(chargeID, attempt) + undoSuffix, Note: "stars refund failed; credits back", By: by}); err != nil {
			return err
		}
		u = cur
		return put(users, i64key(u.ID), u)
	})
	return u, err
}

const undoSuffix = ":undo"

func chargeBackKey(chargeID, attempt string) string { return ChargeBackKey(chargeID) + ":" + attempt }

// validAttempt says whether attempt can name a try: with no ':' in it and not "undo", a key
// belongs to exactly one charge id, even when charge ids contain ':' or start with each other.
func validAttempt(attempt string) bool {
	return attempt != "" && attempt != "undo" && !strings.Contains(attempt, ":")
}

// chargeBackOf reads key as a charge-back key of chargeID: the attempt it names and whether it
// undoes that attempt. ok is false for any other key, in particular for the keys of a charge id
// that merely starts with chargeID ("C:1" when looking for "C").
func chargeBackOf(chargeID, key string) (attempt string, undo, ok bool) {
	rest, found := strings.CutPrefix(key, ChargeBackKey(chargeID)+":")
	if !found {
		return "", false, false
	}
	attempt, undo = strings.CutSuffix(rest, undoSuffix)
	return attempt, undo, validAttempt(attempt)
}

// standingChargeBack returns the key of the charge-back of this payment that has not been undone,
// or "".
func standingChargeBack(tx *bolt.Tx, chargeID string) (string, error) {
	prefix := []byte(ChargeBackKey(chargeID) + ":")
	undone := map[string]bool{}
	var takes []string
	c := tx.Bucket(bucketKeys).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		attempt, undo, ok := chargeBackOf(chargeID, string(k))
		switch {
		case !ok: // another charge id's, sharing the prefix
		case undo:
			undone[attempt] = true
		default:
			takes = append(takes, attempt)
		}
	}
	for _, a := range takes {
		if !undone[a] {
			return chargeBackKey(chargeID, a), nil
		}
	}
	return "", nil
}
