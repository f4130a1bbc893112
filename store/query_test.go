package store

import (
	"fmt"
	"testing"
	"time"

	"neurocards/messages"
)

// clock is a store clock a test moves by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func openAt(t *testing.T, c *clock) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), Options{Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestStageTimesAreRecordedWhenTheStageChanges: each stage's moment is the first save at that
// stage; a save at the same stage keeps it; the end records delivered.
func TestStageTimesAreRecordedWhenTheStageChanges(t *testing.T) {
	c := &clock{time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)}
	s := openAt(t, c)
	grant(t, s, 1, 20)
	j, err := startJob(t, s, 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	t0 := c.t
	step := func(stage messages.Stage, after time.Duration) {
		t.Helper()
		c.t = c.t.Add(after)
		j.Stage = stage
		if j, err = s.SaveJob(j); err != nil {
			t.Fatal(err)
		}
	}
	step(messages.StageUploading, time.Second)
	step(messages.StageSubmitted, time.Second)
	step(messages.StageSubmitted, time.Minute) // a poll: same stage
	step(messages.StageGenerated, time.Minute)
	step(messages.StageDownloaded, time.Second)
	c.t = c.t.Add(2 * time.Second)
	j.Stage, j.Outcome = messages.StageDelivered, messages.OutcomeDone
	if _, err := finish(s, j); err != nil {
		t.Fatal(err)
	}
	got, _, err := s.Job(j.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := messages.StageTimes{
		Queued:     t0,
		Uploading:  t0.Add(time.Second),
		Submitted:  t0.Add(2 * time.Second),
		Generated:  t0.Add(2*time.Second + 2*time.Minute),
		Downloaded: t0.Add(3*time.Second + 2*time.Minute),
		Delivered:  t0.Add(5*time.Second + 2*time.Minute),
	}
	for _, st := range messages.Stages {
		if !got.Reached.At(st).Equal(want.At(st)) {
			t.Errorf("%s reached at %v, want %v", st, got.Reached.At(st), want.At(st))
		}
	}
}

// TestInFlightCountsByStage: ended jobs are not in flight; a parked one is counted as such.
func TestInFlightCountsByStage(t *testing.T) {
	s := open(t)
	grant(t, s, 1, 100)
	var jobs []messages.Job
	for range 4 {
		j, err := startJob(t, s, 1, 10)
		if err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, j)
	}
	jobs[0].Stage = messages.StageSubmitted
	jobs[1].Parked = true
	for _, j := range jobs[:2] {
		if _, err := s.SaveJob(j); err != nil {
			t.Fatal(err)
		}
	}
	jobs[3].Failure = &messages.Failure{Class: messages.User, Reason: messages.ReasonBadPhoto}
	if _, err := finish(s, jobs[3]); err != nil {
		t.Fatal(err)
	}
	n, err := s.InFlight()
	if err != nil {
		t.Fatal(err)
	}
	if n.Total != 3 || n.ByStage[messages.StageQueued] != 2 || n.ByStage[messages.StageSubmitted] != 1 || n.Parked != 1 {
		t.Errorf("in flight: %+v", n)
	}
}

// TestPagesWalkEverythingOnce: the ledger, a seller's jobs, all jobs and all sellers come back
// newest first (sellers by id), in pages that together hold every row exactly once.
func TestPagesWalkEverythingOnce(t *testing.T) {
	s := open(t)
	for uid := int64(1); uid <= 5; uid++ {
		if _, err := s.WithUser(uid, func(tx *UserTx) error {
			tx.User.FirstName = fmt.Sprintf("Seller %d", uid)
			for i := range 7 {
				if _, err := tx.Post(Entry{Type: EntryGrant, Amount: 10, Key: fmt.Sprintf("g:%d:%d", uid, i)}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, err := startJob(t, s, uid, 1); err != nil {
				t.Fatal(err)
			}
		}
	}

	var seqs []uint64
	for before, pages := uint64(0), 0; ; pages++ {
		rows, next, err := s.LedgerPage(3, before, 4)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range rows {
			if e.UserID != 3 {
				t.Fatalf("row of user %d", e.UserID)
			}
			seqs = append(seqs, e.Seq)
		}
		if next == 0 {
			break
		}
		before = next
	}
	if len(seqs) != 10 || !descending(seqs) {
		t.Errorf("ledger pages: %v", seqs)
	}

	walk := func(f JobFilter) []uint64 {
		var ids []uint64
		for before := uint64(0); ; {
			jobs, next, err := s.FindJobs(f, before, 4)
			if err != nil {
				t.Fatal(err)
			}
			for _, j := range jobs {
				ids = append(ids, j.ID)
			}
			if next == 0 {
				return ids
			}
			before = next
		}
	}
	if ids := walk(JobFilter{}); len(ids) != 15 || !descending(ids) {
		t.Errorf("all jobs: %v", ids)
	}
	if ids := walk(JobFilter{UserID: 2}); len(ids) != 3 || !descending(ids) {
		t.Errorf("seller 2's jobs: %v", ids)
	}
	if ids := walk(JobFilter{Outcome: "done"}); len(ids) != 0 {
		t.Errorf("done jobs: %v", ids)
	}
	if ids := walk(JobFilter{Outcome: OutcomeInFlight, Kind: "video", Stage: messages.StageQueued}); len(ids) != 15 {
		t.Errorf("queued video jobs: %v", ids)
	}

	var found []int64
	for after := int64(0); ; {
		users, next, err := s.FindUsers("", after, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range users {
			found = append(found, u.ID)
		}
		if next == 0 {
			break
		}
		after = next
	}
	if fmt.Sprint(found) != "[1 2 3 4 5]" {
		t.Errorf("sellers: %v", found)
	}
	if users, _, _ := s.FindUsers("seller 4", 0, 10); len(users) != 1 || users[0].ID != 4 {
		t.Errorf("search by name: %+v", users)
	}
}

func descending(ids []uint64) bool {
	for i := 1; i < len(ids); i++ {
		if ids[i] >= ids[i-1] {
			return false
		}
	}
	return true
}

// TestJobLedgerIsTheJobsRows: a delivered and refunded job shows its hold, capture and refund.
func TestJobLedgerIsTheJobsRows(t *testing.T) {
	s := open(t)
	grant(t, s, 1, 20)
	j, err := startJob(t, s, 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := startJob(t, s, 1, 3); err != nil {
		t.Fatal(err)
	}
	j.Stage, j.Outcome = messages.StageDelivered, messages.OutcomeDone
	if _, err := finish(s, j); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WithUser(1, func(tx *UserTx) error { _, _, err := tx.RefundDelivered(j.ID, 900); return err }); err != nil {
		t.Fatal(err)
	}
	rows, err := s.JobLedger(j.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range rows {
		got = append(got, fmt.Sprintf("%s%+d/%+d", e.Type, e.Amount, e.Held))
	}
	if fmt.Sprint(got) != "[hold+0/+10 capture-10/-10 adjust+10/+0]" {
		t.Errorf("job rows: %v", got)
	}
}

// TestProbeNeedsAWritableFile: a read-only store fails the write probe.
func TestProbeNeedsAWritableFile(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Probe(); err != nil {
		t.Fatalf("probe: %v", err)
	}
	s.Close()
	ro, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if err := ro.Probe(); err == nil {
		t.Error("a read-only store passed the write probe")
	}
}
