package store

import (
	"errors"
	"testing"
	"time"

	"neurocards/messages"
)

func TestChargeBackTakesAllOrNothingOnce(t *testing.T) {
	s := open(t)
	if _, err := s.WithUser(1, func(tx *UserTx) error {
		_, err := tx.Purchase("ch-1", 10, "pack 10")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	j, err := startJob(t, s, 1, 7)
	if err != nil {
		t.Fatal(err)
	}
	// 7 of the 10 are held by a job: nothing is taken.
	if _, err := chargeBack(s, "ch-1", "u1", 900); !errors.Is(err, ErrInsufficient) {
		t.Fatalf("charge-back of spent credits: %v", err)
	}
	j.Outcome = messages.OutcomeFailed
	if _, err := finish(s, j); err != nil {
		t.Fatal(err)
	}
	cb, err := chargeBack(s, "ch-1", "u2", 900)
	if err != nil || cb.Adjust.Amount != -10 || cb.Adjust.By != 900 || cb.Resumed {
		t.Fatalf("charge-back: %+v %v", cb, err)
	}
	if b, h := balances(t, s, 1); b != 0 || h != 0 {
		t.Fatalf("balance %d held %d, want 0/0", b, h)
	}
	// The same try again resumes; another try is refused while this one stands.
	if again, err := chargeBack(s, "ch-1", "u2", 900); err != nil || !again.Resumed || again.Adjust.Seq != cb.Adjust.Seq {
		t.Fatalf("same try again: %+v %v", again, err)
	}
	if _, err := chargeBack(s, "ch-1", "u3", 900); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("second try: %v", err)
	}
	// Telegram refused the refund: the credits go back and a later try may be made.
	if _, err := undoChargeBack(s, "ch-1", "u2", 900); err != nil {
		t.Fatal(err)
	}
	if b, _ := balances(t, s, 1); b != 10 {
		t.Fatalf("balance after the undo: %d", b)
	}
	if _, err := chargeBack(s, "ch-1", "u3", 900); err != nil {
		t.Fatalf("a try after an undone one: %v", err)
	}
	if _, err := chargeBack(s, "ch-2", "u4", 900); !errors.Is(err, ErrNoPurchase) {
		t.Fatalf("unknown charge: %v", err)
	}
}

func TestPurchaseIsCreditedOncePerCharge(t *testing.T) {
	s := open(t)
	for i, want := range []error{nil, ErrDuplicate} {
		_, err := s.WithUser(1, func(tx *UserTx) error {
			_, err := tx.Purchase("ch-1", 50, "pack 50")
			return err
		})
		if !errors.Is(err, want) || (want == nil && err != nil) {
			t.Fatalf("purchase %d: %v, want %v", i+1, err, want)
		}
	}
	if b, _ := balances(t, s, 1); b != 50 {
		t.Fatalf("balance %d, want 50", b)
	}
	e, ok, err := s.EntryByKey(PurchaseKey("ch-1"))
	if err != nil || !ok || e.Type != EntryPurchase || e.UserID != 1 {
		t.Fatalf("purchase row: %+v %v %v", e, ok, err)
	}
}

func TestRefundDeliveredOnce(t *testing.T) {
	s := open(t)
	grant(t, s, 1, 20)
	refund := func(id uint64) (Entry, error) {
		var e Entry
		_, err := s.WithUser(1, func(tx *UserTx) error {
			var err error
			_, e, err = tx.RefundDelivered(id, 900)
			return err
		})
		return e, err
	}
	failed, _ := startJob(t, s, 1, 10)
	failed.Outcome = messages.OutcomeFailed
	if _, err := finish(s, failed); err != nil {
		t.Fatal(err)
	}
	if _, err := refund(failed.ID); !errors.Is(err, ErrAlreadyReleased) {
		t.Fatalf("refund of a released job: %v", err)
	}
	delivered, _ := startJob(t, s, 1, 10)
	delivered.Outcome = messages.OutcomeDone
	if _, err := finish(s, delivered); err != nil {
		t.Fatal(err)
	}
	e, err := refund(delivered.ID)
	if err != nil || e.Amount != 10 || e.Key != RefundJobKey(delivered.ID) || e.By != 900 {
		t.Fatalf("refund of a delivered job: %+v, %v", e, err)
	}
	if _, err := refund(delivered.ID); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("second refund of a delivered job: %v", err)
	}
	if _, err := refund(99); !errors.Is(err, ErrNoJob) {
		t.Fatalf("refund of no job: %v", err)
	}
	if b, h := balances(t, s, 1); b != 20 || h != 0 {
		t.Fatalf("balance %d held %d", b, h)
	}
	if rep, _ := s.Check(); len(rep.Violations) != 0 {
		t.Fatalf("violations: %v", rep.Violations)
	}
}

func TestAdjustNeverBelowHeld(t *testing.T) {
	s := open(t)
	grant(t, s, 1, 20)
	if _, err := startJob(t, s, 1, 15); err != nil {
		t.Fatal(err)
	}
	if _, _, err := adjust(s, 1, -6, "a", "", 900); !errors.Is(err, ErrInsufficient) {
		t.Fatalf("adjust below held: %v", err)
	}
	if u, _, err := adjust(s, 1, -5, "b", "", 900); err != nil || u.Available() != 0 {
		t.Fatalf("adjust to zero: %+v %v", u, err)
	}
	if _, _, err := adjust(s, 2, 5, "c", "", 900); !errors.Is(err, ErrNoUser) {
		t.Fatalf("adjust of nobody: %v", err)
	}
}

func TestStatsCountToday(t *testing.T) {
	s := open(t)
	grant(t, s, 1, 20)
	if _, err := s.WithUser(1, func(tx *UserTx) error { _, err := tx.Purchase("ch", 10, ""); return err }); err != nil {
		t.Fatal(err)
	}
	j, _ := startJob(t, s, 1, 10)
	j.Outcome = messages.OutcomeDone
	if _, err := finish(s, j); err != nil {
		t.Fatal(err)
	}
	startJob(t, s, 1, 3)
	st, err := s.Stats(time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := Stats{Sellers: 1, Jobs: 2, JobsDone: 1, JobsInFlight: 1, Purchases: 1, CreditsSold: 10, CreditsSpent: 10}
	if st != want {
		t.Fatalf("stats %+v, want %+v", st, want)
	}
	if st, _ := s.Stats(time.Now().Add(time.Hour)); st.Jobs != 0 || st.CreditsSold != 0 || st.Sellers != 1 {
		t.Fatalf("stats from the future: %+v", st)
	}
}

// chargeBack takes a payment's credits back in its buyer's transaction, as the buyer's session does.
func chargeBack(s *Store, charge, attempt string, by int64) (ChargeBack, error) {
	p, err := s.PurchaseOf(charge)
	if err != nil {
		return ChargeBack{}, err
	}
	var cb ChargeBack
	_, err = s.WithUser(p.UserID, func(tx *UserTx) error {
		var err error
		cb, err = tx.ChargeBack(charge, attempt, by)
		return err
	})
	return cb, err
}

func undoChargeBack(s *Store, charge, attempt string, by int64) (Entry, error) {
	p, err := s.PurchaseOf(charge)
	if err != nil {
		return Entry{}, err
	}
	var e Entry
	_, err = s.WithUser(p.UserID, func(tx *UserTx) error {
		var err error
		e, err = tx.UndoChargeBack(charge, attempt, by)
		return err
	})
	return e, err
}

func adjust(s *Store, uid, amount int64, key, note string, by int64) (User, Entry, error) {
	var e Entry
	u, err := s.WithUser(uid, func(tx *UserTx) error {
		if !tx.Exists() {
			return ErrNoUser
		}
		var err error
		e, err = tx.Adjust(amount, key, note, by)
		return err
	})
	return u, e, err
}

// TestChargeBackMatchesChargeIDsExactly: charge ids are matched whole, never by prefix. After
// charge "C:1" was refunded, charge "C" (and "C:1:undo", "C:undo") can still be refunded.
func TestChargeBackMatchesChargeIDsExactly(t *testing.T) {
	s := open(t)
	charges := []string{"C:1", "C", "C:1:undo", "C:undo", "C:"}
	for i, ch := range charges {
		if _, err := s.WithUser(int64(i+1), func(tx *UserTx) error {
			_, err := tx.Purchase(ch, 10, "pack 10")
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	for i, ch := range charges {
		cb, err := chargeBack(s, ch, "900", 1)
		if err != nil || cb.Resumed || cb.Adjust.Amount != -10 || cb.Adjust.UserID != int64(i+1) {
			t.Errorf("charge-back of %q after the ones before it: %+v, %v", ch, cb, err)
		}
	}
	// The first one's Stars refund failed: undoing it touches no other charge.
	if _, err := undoChargeBack(s, "C:1", "900", 1); err != nil {
		t.Fatal(err)
	}
	for i, ch := range charges[1:] {
		if _, err := chargeBack(s, ch, "901", 1); !errors.Is(err, ErrDuplicate) {
			t.Errorf("a second try on %q: %v, want ErrDuplicate", ch, err)
		}
		if b, _ := balances(t, s, int64(i+2)); b != 0 {
			t.Errorf("buyer of %q has %d credits, want 0", ch, b)
		}
	}
	if _, err := chargeBack(s, "C:1", "901", 1); err != nil {
		t.Errorf("a new try on the undone charge: %v", err)
	}
	for _, attempt := range []string{"", "undo", "9:1"} {
		if _, err := chargeBack(s, "C", attempt, 1); err == nil || errors.Is(err, ErrDuplicate) {
			t.Errorf("attempt %q: %v, want it refused as a name", attempt, err)
		}
	}
}
