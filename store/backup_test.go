package store

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestBackupWhileWriting: a backup taken while sellers keep paying is a data file of its own that
// opens, passes check, and holds a consistent state: every job it has has its hold.
func TestBackupWhileWriting(t *testing.T) {
	s := open(t)
	for uid := int64(1); uid <= 4; uid++ {
		grant(t, s, uid, 1000)
	}
	stop, wrote := make(chan struct{}), make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for uid := int64(1); uid <= 4; uid++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := startJob(t, s, uid, 1); err != nil {
					return // out of credits
				}
				once.Do(func() { close(wrote) })
			}
		}()
	}
	// The copies are taken while the writers are at work, not before their first commit.
	select {
	case <-wrote:
	case <-time.After(10 * time.Second):
		t.Fatal("no writer committed a job within 10s")
	}
	path := filepath.Join(t.TempDir(), "copy.db")
	for range 5 {
		r, n, err := WriteBackup(path, func(w io.Writer) (int64, error) { return s.Backup(w) })
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 || r.Users != 4 {
			t.Fatalf("backup of %d bytes with %d users", n, r.Users)
		}
		if len(r.Violations) > 0 {
			t.Fatalf("the copy breaks invariants: %v", r.Violations)
		}
	}
	close(stop)
	wg.Wait()

	copied, err := OpenFile(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer copied.Close()
	jobs, err := copied.AllJobs()
	if err != nil || len(jobs) == 0 {
		t.Fatalf("jobs in the copy: %d, %v", len(jobs), err)
	}
}

// TestWriteBackupKeepsTheTargetOnFailure: a copy cut short, or bytes that are no data file, never
// replace a good backup.
func TestWriteBackupKeepsTheTargetOnFailure(t *testing.T) {
	s := open(t)
	grant(t, s, 1, 20)
	path := filepath.Join(t.TempDir(), "backup.db")
	if _, _, err := WriteBackup(path, func(w io.Writer) (int64, error) { return s.Backup(w) }); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	cut := errors.New("connection reset")
	if _, _, err := WriteBackup(path, func(w io.Writer) (int64, error) {
		n, _ := w.Write(good[:len(good)/2])
		return int64(n), cut
	}); !errors.Is(err, cut) {
		t.Fatalf("a cut copy: err = %v", err)
	}
	if _, _, err := WriteBackup(path, func(w io.Writer) (int64, error) {
		n, err := w.Write(bytes.Repeat([]byte("not a data file "), 1024))
		return int64(n), err
	}); err == nil {
		t.Fatal("garbage was accepted as a backup")
	}
	now, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(now, good) {
		t.Fatalf("the good backup was replaced (err %v)", err)
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*part*"))
	if len(left) > 0 {
		t.Fatalf("temporary files left behind: %v", left)
	}
}

// TestBackupOpensAsADataDirectory: the copy, put in a directory as neurocards.db, is what the bot
// starts on.
func TestBackupOpensAsADataDirectory(t *testing.T) {
	s := open(t)
	grant(t, s, 7, 20)
	if _, err := startJob(t, s, 7, 10); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, _, err := WriteBackup(filepath.Join(dir, FileName), func(w io.Writer) (int64, error) { return s.Backup(w) }); err != nil {
		t.Fatal(err)
	}
	restored, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	u, ok, err := restored.User(7)
	if err != nil || !ok || u.Balance != 20 || u.Held != 10 {
		t.Fatalf("user in the restored data: %+v ok=%v err=%v", u, ok, err)
	}
	active, err := restored.ActiveJobs()
	if err != nil || len(active) != 1 {
		t.Fatalf("jobs to resume in the restored data: %d, %v", len(active), err)
	}
	if r, err := restored.Check(); err != nil || len(r.Violations) > 0 {
		t.Fatal(fmt.Sprint(r.Violations, err))
	}
}
