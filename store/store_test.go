package store

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"neurocards/messages"
	"neurocards/testkit"
)

func open(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// grant gives a new user credits, like the start bonus.
func grant(t *testing.T, s *Store, uid, n int64) {
	t.Helper()
	if _, err := s.WithUser(uid, func(tx *UserTx) error {
		_, err := tx.Post(Entry{Type: EntryGrant, Amount: n, Key: "start:" + string(rune('a'+uid))})
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

func startJob(t *testing.T, s *Store, uid, price int64) (messages.Job, error) {
	t.Helper()
	var j messages.Job
	_, err := s.WithUser(uid, func(tx *UserTx) error {
		var err error
		j, err = tx.StartJob(messages.Job{Kind: "video", Price: price}, time.Hour)
		return err
	})
	return j, err
}

// balances checks the ledger invariant: cached balance and held equal the sums of the rows.
func balances(t *testing.T, s *Store, uid int64) (balance, held int64) {
	t.Helper()
	u, _, err := s.User(uid)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := s.Ledger(uid, 0)
	if err != nil {
		t.Fatal(err)
	}
	var sb, sh int64
	for _, e := range rows {
		sb += e.Amount
		sh += e.Held
	}
	if sb != u.Balance || sh != u.Held {
		t.Fatalf("ledger says balance %d held %d, user says %d/%d", sb, sh, u.Balance, u.Held)
	}
	return u.Balance, u.Held
}

func TestHoldThenCaptureOnce(t *testing.T) {
	s := open(t)
	grant(t, s, 1, 20)
	j, err := startJob(t, s, 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	if b, h := balances(t, s, 1); b != 20 || h != 10 {
		t.Fatalf("after hold: balance %d held %d", b, h)
	}
	j.Stage, j.Outcome = messages.StageDelivered, messages.OutcomeDone
	if _, err := finish(s, j); err != nil {
		t.Fatal(err)
	}
	j.Outcome = messages.OutcomeFailed
	if _, err := finish(s, j); !errors.Is(err, ErrFinished) {
		t.Fatalf("second finish: %v, want ErrFinished", err)
	}
	if b, h := balances(t, s, 1); b != 10 || h != 0 {
		t.Fatalf("after capture: balance %d held %d", b, h)
	}
	got, _, _ := s.Job(j.ID)
	if got.Outcome != messages.OutcomeDone {
		t.Fatalf("outcome %q", got.Outcome)
	}
	if active, _ := s.ActiveJobs(); len(active) != 1 || !active[0].Terminal() {
		t.Fatalf("after finish the seller is still to be told: %+v", active)
	}
	if err := s.MarkNotified(got); err != nil {
		t.Fatal(err)
	}
	if active, _ := s.ActiveJobs(); len(active) != 0 {
		t.Fatalf("active jobs after the seller was told: %d", len(active))
	}
}

func TestReleaseGivesCreditsBack(t *testing.T) {
	s := open(t)
	grant(t, s, 1, 20)
	j, _ := startJob(t, s, 1, 10)
	j.Outcome = messages.OutcomeFailed
	if _, err := finish(s, j); err != nil {
		t.Fatal(err)
	}
	if b, h := balances(t, s, 1); b != 20 || h != 0 {
		t.Fatalf("after release: balance %d held %d", b, h)
	}
	rows, _ := s.Ledger(1, 10)
	if len(rows) != 3 || rows[0].Type != EntryRelease || rows[1].Type != EntryHold || rows[2].Type != EntryGrant {
		t.Fatalf("ledger newest first: %+v", rows)
	}
}

func TestHoldThatDoesNotFitCreatesNothing(t *testing.T) {
	s := open(t)
	grant(t, s, 1, 12)
	if _, err := startJob(t, s, 1, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := startJob(t, s, 1, 3); !errors.Is(err, ErrInsufficient) {
		t.Fatalf("second hold: %v, want ErrInsufficient", err)
	}
	jobs, _ := s.Jobs(1, 0)
	if len(jobs) != 1 {
		t.Fatalf("jobs: %d, want 1", len(jobs))
	}
	if b, h := balances(t, s, 1); b != 12 || h != 10 {
		t.Fatalf("balance %d held %d", b, h)
	}
}

func TestIdempotencyKeyRefusesReplay(t *testing.T) {
	s := open(t)
	post := func() error {
		_, err := s.WithUser(1, func(tx *UserTx) error {
			_, err := tx.Post(Entry{Type: EntryPurchase, Amount: 50, Key: "charge:abc"})
			return err
		})
		return err
	}
	if err := post(); err != nil {
		t.Fatal(err)
	}
	if err := post(); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("replay: %v, want ErrDuplicate", err)
	}
	if b, _ := balances(t, s, 1); b != 50 {
		t.Fatalf("balance %d, want 50", b)
	}
}

func TestJobRowsOnlyFromLifecycle(t *testing.T) {
	s := open(t)
	grant(t, s, 1, 20)
	for _, typ := range []EntryType{EntryHold, EntryCapture, EntryRelease} {
		_, err := s.WithUser(1, func(tx *UserTx) error {
			_, err := tx.Post(Entry{Type: typ, Amount: -5, Held: 5})
			return err
		})
		if want := "store: " + string(typ) + " rows are written by the job lifecycle only"; err == nil || err.Error() != want {
			t.Errorf("a %s row posted outside a job: %v, want %q", typ, err, want)
		}
	}
	if b, h := balances(t, s, 1); b != 20 || h != 0 {
		t.Errorf("balance %d held %d after refused rows, want 20/0", b, h)
	}
}

func TestSaveRefusesAFinishedJob(t *testing.T) {
	s := open(t)
	grant(t, s, 1, 20)
	j, _ := startJob(t, s, 1, 10)
	stale := j
	j.Outcome = messages.OutcomeFailed
	if _, err := finish(s, j); err != nil {
		t.Fatal(err)
	}
	stale.Stage = messages.StageSubmitted
	got, err := s.SaveJob(stale)
	if !errors.Is(err, ErrFinished) || got.Outcome != messages.OutcomeFailed {
		t.Fatalf("save of a stale copy: %v, %q", err, got.Outcome)
	}
}

func TestHistoryNewestFirst(t *testing.T) {
	s := open(t)
	grant(t, s, 1, 100)
	grant(t, s, 2, 100)
	for range 3 {
		startJob(t, s, 1, 1)
		startJob(t, s, 2, 1)
	}
	jobs, _ := s.Jobs(1, 2)
	if len(jobs) != 2 || jobs[0].ID <= jobs[1].ID || jobs[0].UserID != 1 {
		t.Fatalf("jobs: %+v", jobs)
	}
	active, _ := s.ActiveJobsOf(2)
	if len(active) != 3 {
		t.Fatalf("active of user 2: %d", len(active))
	}
}

func TestOffsetOnlyMovesForward(t *testing.T) {
	s := open(t)
	for _, id := range []int64{5, 9, 7} {
		if err := s.SetOffset(id); err != nil {
			t.Fatal(err)
		}
	}
	if off, _ := s.Offset(); off != 9 {
		t.Fatalf("offset %d, want 9", off)
	}
}

func TestSecondOpenFailsFast(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = Open(dir, Options{LockTimeout: 100 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
}

// finish ends a job in its seller's transaction, as the seller's session does: an outcome of
// done is a delivery, failed a failure.
func finish(s *Store, j messages.Job) (messages.Job, error) {
	switch {
	case j.Outcome == messages.OutcomeDone:
		j.Stage, j.Failure = messages.StageDelivered, nil
	case j.Outcome == messages.OutcomeFailed && j.Failure == nil:
		j.Failure = &messages.Failure{Class: messages.Internal, Reason: messages.ReasonInternal}
	}
	j.Outcome = messages.OutcomeNone
	var out messages.Job
	_, err := s.WithUser(j.UserID, func(tx *UserTx) error {
		var err error
		out, err = tx.Finish(j)
		return err
	})
	return out, err
}

// TestOpenMakesTheDataDirPrivate: a data directory others may write to is made private, with a
// warning; a private one is left alone, without a word.
func TestOpenMakesTheDataDirPrivate(t *testing.T) {
	for _, mode := range []os.FileMode{0o777, 0o770, 0o755, 0o700} {
		dir := filepath.Join(t.TempDir(), "data")
		if err := os.Mkdir(dir, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, mode); err != nil { // past the umask
			t.Fatal(err)
		}
		var logs testkit.Buffer
		s, err := Open(dir, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		fi, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		want, warned := mode, mode&0o022 != 0
		if warned {
			want = 0o700
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("a %v data dir is %v after Open, want %v", mode, got, want)
		}
		if said := strings.Contains(logs.String(), "level=WARN") && strings.Contains(logs.String(), dir); said != warned {
			t.Errorf("a %v data dir: warned %v, want %v:\n%s", mode, said, warned, logs.String())
		}
	}
}
