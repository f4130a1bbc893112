package store

import (
	"errors"
	"fmt"
	"strconv"

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

// ChargeBack is what taking back a refunded payment's credits did.
type ChargeBack struct {
	Purchase Entry // the purchase row of the payment
	Adjust   Entry // the row that took the credits back
	Taken    int64 // credits taken back: the purchase, or what was still available if less
	User     User  // the buyer after the change
}

// ChargeBack takes back the credits of a payment whose Stars were refunded, in one adjust row
// keyed by the charge id: a second call returns ErrDuplicate. It never takes more than the buyer
// has available (balance − held): credits already held by jobs in flight or spent stay spent,
// and Taken says how much was taken.
func (s *Store) ChargeBack(chargeID string, by int64) (ChargeBack, error) {
	var cb ChargeBack
	err := s.db.Update(func(tx *bolt.Tx) error {
		p, ok, err := entryByKey(tx, PurchaseKey(chargeID))
		if err != nil {
			return err
		}
		if !ok || p.Type != EntryPurchase {
			return ErrNoPurchase
		}
		if tx.Bucket(bucketKeys).Get([]byte(ChargeBackKey(chargeID))) != nil {
			return ErrDuplicate
		}
		users := tx.Bucket(bucketUsers)
		u, ok, err := get[User](users, i64key(p.UserID))
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("store: purchase %s: user %d missing", chargeID, p.UserID)
		}
		take := max(min(p.Amount, u.Available()), 0)
		note := "stars refunded"
		if take < p.Amount {
			note = fmt.Sprintf("stars refunded; %d of %d credits were already used", p.Amount-take, p.Amount)
		}
		e, err := s.post(tx, &u, Entry{Type: EntryAdjust, Amount: -take, Key: ChargeBackKey(chargeID), Note: note, By: by})
		if err != nil {
			return err
		}
		cb = ChargeBack{Purchase: p, Adjust: e, Taken: take, User: u}
		return put(users, i64key(u.ID), u)
	})
	return cb, err
}
