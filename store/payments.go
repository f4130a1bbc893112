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
	Resumed  bool  // this try had already taken them (a re-delivered command): nothing new was taken
}

// PurchaseOf returns the purchase row of a payment, or ErrNoPurchase: the buyer's id tells whose
// session takes the credits back.
func (s *Store) PurchaseOf(chargeID string) (Entry, error) {
	e, ok, err := s.EntryByKey(PurchaseKey(chargeID))
	if err == nil && (!ok || e.Type != EntryPurchase) {
		err = ErrNoPurchase
	}
	return e, err
}

// ChargeBack takes back all the credits of this seller's payment, in one adjust row, before its
// Stars are refunded — so they cannot be spent meanwhile. It refuses with ErrInsufficient when the
// seller no longer has them available, and with ErrDuplicate when another try's charge-back of
// this payment stands. attempt names the try (the operator's command; a word without ':', not
// "undo"): the same try again finds its own charge-back and returns it, and a try whose Stars
// refund failed is undone by UndoChargeBack so a later one can be made.
func (t *UserTx) ChargeBack(chargeID, attempt string, by int64) (ChargeBack, error) {
	var cb ChargeBack
	if !validAttempt(attempt) {
		return cb, fmt.Errorf("store: charge-back of %s: attempt %q must be a word without ':'", chargeID, attempt)
	}
	p, ok, err := entryByKey(t.tx, PurchaseKey(chargeID))
	if err != nil {
		return cb, err
	}
	if !ok || p.Type != EntryPurchase || p.UserID != t.User.ID {
		return cb, ErrNoPurchase
	}
	cb.Purchase = p
	standing, err := standingChargeBack(t.tx, chargeID)
	if err != nil {
		return cb, err
	}
	switch standing {
	case "":
	case chargeBackKey(chargeID, attempt):
		e, _, err := entryByKey(t.tx, standing)
		cb.Adjust, cb.Resumed = e, true
		return cb, err
	default:
		return cb, ErrDuplicate
	}
	if t.User.Available() < p.Amount {
		return cb, ErrInsufficient
	}
	cb.Adjust, err = t.s.post(t.tx, &t.User, Entry{Type: EntryAdjust, Amount: -p.Amount, Key: chargeBackKey(chargeID, attempt), Note: "stars refund", By: by})
	return cb, err
}

// UndoChargeBack gives back the credits a try took when its Stars refund failed.
func (t *UserTx) UndoChargeBack(chargeID, attempt string, by int64) (Entry, error) {
	take, ok, err := entryByKey(t.tx, chargeBackKey(chargeID, attempt))
	if err != nil {
		return Entry{}, err
	}
	if !ok || take.UserID != t.User.ID {
		return Entry{}, ErrNoPurchase
	}
	return t.s.post(t.tx, &t.User, Entry{Type: EntryAdjust, Amount: -take.Amount, Key: chargeBackKey(chargeID, attempt) + undoSuffix, Note: "stars refund failed; credits back", By: by})
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
