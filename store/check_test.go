package store

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"neurocards/messages"
)

// healthyFile writes a data file with seller 1 (20 credits granted), job inFlight (price 5,
// held) and job done (price 3, captured): balance 17, held 5. It returns the file's path.
func healthyFile(t *testing.T) (path string, inFlight, done uint64) {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	grant(t, s, 1, 20)
	j1, err := startJob(t, s, 1, 5)
	if err != nil {
		t.Fatal(err)
	}
	j2, err := startJob(t, s, 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	j2.Stage, j2.Outcome = messages.StageDelivered, messages.OutcomeDone
	if _, err := finish(s, j2); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, FileName), j1.ID, j2.ID
}

// tamper changes the file with bbolt directly, as a bug or a hand edit would.
func tamper(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

// checkFile runs Check as `neurocards check` does: on the file opened read-only.
func checkFile(t *testing.T, path string) Report {
	t.Helper()
	s, err := OpenFile(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := s.Check()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// addRow appends a ledger row without touching the user, as a bug would.
func addRow(tx *bolt.Tx, e Entry) error {
	ledger := tx.Bucket(bucketLedger)
	seq, err := ledger.NextSequence()
	if err != nil {
		return err
	}
	e.Seq = seq
	if err := put(ledger, u64key(seq), e); err != nil {
		return err
	}
	return tx.Bucket(bucketUserLedger).Put(append(i64key(e.UserID), u64key(seq)...), nil)
}

func editUser(tx *bolt.Tx, uid int64, fn func(*User)) error {
	b := tx.Bucket(bucketUsers)
	u, _, err := get[User](b, i64key(uid))
	if err != nil {
		return err
	}
	fn(&u)
	return put(b, i64key(uid), u)
}

func editJob(tx *bolt.Tx, id uint64, fn func(*messages.Job)) error {
	b := tx.Bucket(bucketJobs)
	j, _, err := get[messages.Job](b, u64key(id))
	if err != nil {
		return err
	}
	fn(&j)
	return put(b, u64key(id), j)
}

// nextSeq is the sequence the next ledger row gets: the healthy file has four rows.
const nextSeq = 5

// TestCheckFindsEveryViolation: each thing Check looks for, broken on purpose in a healthy file,
// is reported in words an operator can act on; the healthy file itself has none.
func TestCheckFindsEveryViolation(t *testing.T) {
	path, _, _ := healthyFile(t)
	if r := checkFile(t, path); len(r.Violations) != 0 || r.Users != 1 || r.Jobs != 2 || r.Balance != 17 || r.Held != 5 || r.LedgerRows != 4 {
		t.Fatalf("the healthy file: %+v", r)
	}
	cases := []struct {
		name  string
		spoil func(tx *bolt.Tx, inFlight, done uint64) error
		want  func(inFlight, done uint64) []string
	}{
		{"a user record that does not decode",
			func(tx *bolt.Tx, _, _ uint64) error { return tx.Bucket(bucketUsers).Put(i64key(9), []byte("{")) },
			func(_, _ uint64) []string { return []string{"user 0000000000000009: unexpected end of JSON input"} }},
		{"a job record that does not decode",
			func(tx *bolt.Tx, _, _ uint64) error { return tx.Bucket(bucketJobs).Put(u64key(99), []byte("[]")) },
			func(_, _ uint64) []string {
				return []string{"job 0000000000000063: json: cannot unmarshal array into Go value of type messages.Job"}
			}},
		{"a ledger row that does not decode",
			func(tx *bolt.Tx, _, _ uint64) error { return tx.Bucket(bucketLedger).Put(u64key(99), []byte("x")) },
			func(_, _ uint64) []string {
				return []string{"ledger row 0000000000000063: invalid character 'x' looking for beginning of value"}
			}},
		{"a ledger row of a user who does not exist",
			func(tx *bolt.Tx, _, _ uint64) error { return addRow(tx, Entry{UserID: 2, Type: EntryGrant, Amount: 5}) },
			func(_, _ uint64) []string {
				return []string{fmt.Sprintf("ledger row %d: user 2 does not exist", nextSeq)}
			}},
		{"a hold of a job that does not exist",
			func(tx *bolt.Tx, _, _ uint64) error { return addRow(tx, Entry{UserID: 1, Type: EntryHold, JobID: 99}) },
			func(_, _ uint64) []string {
				return []string{fmt.Sprintf("ledger row %d: hold of job 99, which does not exist", nextSeq)}
			}},
		{"a capture by another user than the job's",
			func(tx *bolt.Tx, _, done uint64) error {
				if err := editUser(tx, 2, func(u *User) { u.ID = 2 }); err != nil {
					return err
				}
				return addRow(tx, Entry{UserID: 2, Type: EntryCapture, JobID: done})
			},
			func(_, done uint64) []string {
				return []string{
					fmt.Sprintf("job %d: done with 2 captures and 0 releases, want exactly one", done),
					fmt.Sprintf("job %d: outcome done does not match its ledger (2 captures)", done),
					fmt.Sprintf("ledger row %d: capture of job %d by user 2, but the job is user 1's", nextSeq, done),
				}
			}},
		{"a balance that is not the sum of the ledger",
			func(tx *bolt.Tx, _, _ uint64) error { return editUser(tx, 1, func(u *User) { u.Balance = 18 }) },
			func(_, _ uint64) []string { return []string{"user 1: balance 18 but the ledger sums to 17"} }},
		{"held credits that are not the sum of the holds",
			func(tx *bolt.Tx, _, _ uint64) error { return editUser(tx, 1, func(u *User) { u.Held = 6 }) },
			func(_, _ uint64) []string { return []string{"user 1: holds 6 but the ledger sums to 5"} }},
		{"a negative available balance",
			func(tx *bolt.Tx, _, _ uint64) error {
				if err := addRow(tx, Entry{UserID: 1, Type: EntryAdjust, Amount: -13}); err != nil {
					return err
				}
				return editUser(tx, 1, func(u *User) { u.Balance = 4 })
			},
			func(_, _ uint64) []string { return []string{"user 1: available balance is negative (4 − 5)"} }},
		{"a job ended without a capture or release",
			func(tx *bolt.Tx, inFlight, _ uint64) error {
				if err := tx.Bucket(bucketActive).Delete(userJobKey(1, inFlight)); err != nil {
					return err
				}
				return editJob(tx, inFlight, func(j *messages.Job) { j.Outcome = messages.OutcomeFailed })
			},
			func(inFlight, _ uint64) []string {
				return []string{fmt.Sprintf("job %d: failed with 0 captures and 0 releases, want exactly one", inFlight)}
			}},
		{"an outcome the ledger contradicts",
			func(tx *bolt.Tx, _, done uint64) error {
				return editJob(tx, done, func(j *messages.Job) { j.Outcome = messages.OutcomeFailed })
			},
			func(_, done uint64) []string {
				return []string{fmt.Sprintf("job %d: outcome failed does not match its ledger (1 captures)", done)}
			}},
		{"an ended job still listed as active",
			func(tx *bolt.Tx, _, done uint64) error { return tx.Bucket(bucketActive).Put(userJobKey(1, done), nil) },
			func(_, done uint64) []string {
				return []string{fmt.Sprintf("job %d: terminal but still listed as active", done)}
			}},
		{"a job in flight that was already captured",
			func(tx *bolt.Tx, inFlight, _ uint64) error {
				return addRow(tx, Entry{UserID: 1, Type: EntryCapture, JobID: inFlight})
			},
			func(inFlight, _ uint64) []string {
				return []string{fmt.Sprintf("job %d: in flight but already has 1 captures and 0 releases", inFlight)}
			}},
		{"a job in flight not listed as active",
			func(tx *bolt.Tx, inFlight, _ uint64) error {
				return tx.Bucket(bucketActive).Delete(userJobKey(1, inFlight))
			},
			func(inFlight, _ uint64) []string {
				return []string{fmt.Sprintf("job %d: in flight but not listed as active", inFlight)}
			}},
		{"a job held twice",
			func(tx *bolt.Tx, inFlight, _ uint64) error {
				return addRow(tx, Entry{UserID: 1, Type: EntryHold, JobID: inFlight})
			},
			func(inFlight, _ uint64) []string {
				return []string{fmt.Sprintf("job %d: 2 holds, want exactly one", inFlight)}
			}},
		{"a job never held",
			func(tx *bolt.Tx, inFlight, _ uint64) error {
				return tx.Bucket(bucketLedger).Delete(u64key(2)) // the first job's hold: it held 0 since
			},
			func(inFlight, _ uint64) []string {
				return []string{
					fmt.Sprintf("job %d: 0 holds, want exactly one", inFlight),
					"user 1: holds 5 but the ledger sums to 0",
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path, inFlight, done := healthyFile(t)
			tamper(t, path, func(tx *bolt.Tx) error { return c.spoil(tx, inFlight, done) })
			got := checkFile(t, path).Violations
			want := c.want(inFlight, done)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("violations:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
		})
	}
}

// TestCheckCountsMoneyMovedTwice: a second capture and a second release of one job count in
// the report's doubles, which the crash test reads.
func TestCheckCountsMoneyMovedTwice(t *testing.T) {
	path, inFlight, done := healthyFile(t)
	tamper(t, path, func(tx *bolt.Tx) error {
		for _, e := range []Entry{
			{UserID: 1, Type: EntryHold, JobID: done},
			{UserID: 1, Type: EntryCapture, JobID: done},
			{UserID: 1, Type: EntryRelease, JobID: inFlight},
			{UserID: 1, Type: EntryRelease, JobID: inFlight},
		} {
			if err := addRow(tx, e); err != nil {
				return err
			}
		}
		return nil
	})
	r := checkFile(t, path)
	if r.DoubleHolds != 1 || r.DoubleCaptures != 1 || r.DoubleReleases != 1 || len(r.Violations) == 0 {
		t.Errorf("doubles: holds %d, captures %d, releases %d; violations %v", r.DoubleHolds, r.DoubleCaptures, r.DoubleReleases, r.Violations)
	}
}

// TestCheckFindsABrokenFile: a page bbolt can neither reach nor finds free — here one dropped
// from the free list — is reported by bbolt's own check.
func TestCheckFindsABrokenFile(t *testing.T) {
	path, _, _ := healthyFile(t)
	dropFreePage(t, path)
	r := checkFile(t, path)
	if len(r.Violations) != 1 || !strings.HasPrefix(r.Violations[0], "bbolt: page ") || !strings.HasSuffix(r.Violations[0], ": unreachable unfreed") {
		t.Errorf("violations: %q, want one page unreachable and unfreed", r.Violations)
	}
}

// dropFreePage removes the last page id from the file's free list, which bbolt writes as one
// page: a header (id u64, flags u16, count u16, overflow u32) and the ids. The free list's page
// id is in the newer of the two meta pages, whose checksum does not cover the free list.
func dropFreePage(t *testing.T, path string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const (
		header      = 16
		metaPgSize  = header + 8  // after magic and version
		metaFree    = header + 32 // after page size, flags and the root bucket (16)
		metaTxID    = header + 48 // after the free list page id and the high-water mark
		flagFreeLst = 0x10
	)
	pageSize := int(binary.LittleEndian.Uint32(raw[metaPgSize:]))
	newer := 0
	if binary.LittleEndian.Uint64(raw[pageSize+metaTxID:]) > binary.LittleEndian.Uint64(raw[metaTxID:]) {
		newer = pageSize
	}
	freePage := int(binary.LittleEndian.Uint64(raw[newer+metaFree:]))
	at := freePage * pageSize
	if flags := binary.LittleEndian.Uint16(raw[at+8:]); flags != flagFreeLst {
		t.Fatalf("page %d has flags %#x, not a free list", freePage, flags)
	}
	count := binary.LittleEndian.Uint16(raw[at+10:])
	if count == 0 || count == 0xffff {
		t.Fatalf("free list of %d ids: this test needs a short, non-empty one", count)
	}
	binary.LittleEndian.PutUint16(raw[at+10:], count-1)
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
}
