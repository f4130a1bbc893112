package store

import (
	"errors"
	"math"
	"testing"

	"neurocards/messages"
)

// TestLedgerRefusesOutOfRangeAmounts: a row beyond the bounds — or whose sum would wrap around —
// is refused with ErrOutOfRange and changes nothing, whichever way it arrives.
func TestLedgerRefusesOutOfRangeAmounts(t *testing.T) {
	s := open(t)
	grant(t, s, 1, 20)
	for _, amount := range []int64{MaxAmount + 1, -MaxAmount - 1, math.MaxInt64, math.MinInt64, math.MinInt64 + 1} {
		if _, _, err := adjust(s, 1, amount, "", "operator", 900); !errors.Is(err, ErrOutOfRange) {
			t.Errorf("adjust %d: %v, want ErrOutOfRange", amount, err)
		}
		if _, err := s.WithUser(1, func(tx *UserTx) error {
			_, err := tx.Post(Entry{Type: EntryGrant, Amount: amount})
			return err
		}); !errors.Is(err, ErrOutOfRange) {
			t.Errorf("grant %d: %v, want ErrOutOfRange", amount, err)
		}
	}
	if _, err := startJob(t, s, 1, math.MaxInt64); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("a job priced %d: %v, want ErrOutOfRange", int64(math.MaxInt64), err)
	}
	if b, h := balances(t, s, 1); b != 20 || h != 0 {
		t.Fatalf("balance %d held %d after refused rows, want 20/0", b, h)
	}
	if rows, _ := s.Ledger(1, 0); len(rows) != 1 {
		t.Errorf("%d ledger rows, want only the grant", len(rows))
	}
	if jobs, _ := s.Jobs(1, 0); len(jobs) != 0 {
		t.Errorf("%d jobs created by a refused hold", len(jobs))
	}
	checkClean(t, s)
}

// TestLedgerBoundsAreInclusive: exactly MaxAmount in a row and exactly MaxBalance on a balance
// are fine; one credit more is not.
func TestLedgerBoundsAreInclusive(t *testing.T) {
	s := open(t)
	if _, err := s.WithUser(1, func(tx *UserTx) error {
		for range MaxBalance / MaxAmount {
			if _, err := tx.Post(Entry{Type: EntryAdjust, Amount: MaxAmount}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if b, _ := balances(t, s, 1); b != MaxBalance {
		t.Fatalf("balance %d, want %d", b, int64(MaxBalance))
	}
	if _, _, err := adjust(s, 1, 1, "", "", 900); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("one credit past MaxBalance: %v, want ErrOutOfRange", err)
	}
	j, err := startJob(t, s, 1, MaxAmount)
	if err != nil {
		t.Fatalf("a hold of MaxAmount: %v", err)
	}
	j.Outcome = messages.OutcomeDone
	if _, err := finish(s, j); err != nil {
		t.Fatal(err)
	}
	if _, _, err := adjust(s, 1, -MaxAmount, "", "", 900); err != nil {
		t.Errorf("taking back MaxAmount: %v", err)
	}
	if b, h := balances(t, s, 1); b != MaxBalance-2*MaxAmount || h != 0 {
		t.Errorf("balance %d held %d, want %d/0", b, h, int64(MaxBalance-2*MaxAmount))
	}
	checkClean(t, s)
}

// TestLedgerRefusesAStoredBalanceOutOfRange: a balance already beyond the bounds (a file
// edited by hand) takes no row that would wrap it around.
func TestLedgerRefusesAStoredBalanceOutOfRange(t *testing.T) {
	s := open(t)
	grant(t, s, 1, 20)
	if _, err := s.WithUser(1, func(tx *UserTx) error {
		tx.User.Balance = math.MaxInt64 - 5
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, amount := range []int64{10, -10} {
		if _, _, err := adjust(s, 1, amount, "", "", 900); !errors.Is(err, ErrOutOfRange) {
			t.Errorf("adjust %d of a balance near MaxInt64: %v, want ErrOutOfRange", amount, err)
		}
	}
	if _, err := startJob(t, s, 1, 5); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("a hold on a balance near MaxInt64: %v, want ErrOutOfRange", err)
	}
}

func checkClean(t *testing.T, s *Store) {
	t.Helper()
	r, err := s.Check()
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range r.Violations {
		t.Errorf("check: %s", v)
	}
}
