package store

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Backup writes a consistent copy of the data file to w while the store stays in use: one read
// transaction, so writers carry on. Keep w fast (a local file): while the transaction is open
// bbolt cannot grow its memory map, so a write that needs more room waits for it.
func (s *Store) Backup(w io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("store: backup: %w", err)
	}
	return n, nil
}

// WriteBackup stores a copy of a data file at path, atomically: copy writes the bytes to a
// temporary file next to path, which is synced, opened as a data file and checked by bbolt, and
// only then renamed over path. A copy that is cut short or does not open leaves path untouched.
// The returned Report is `neurocards check` of the copy.
func WriteBackup(path string, copy func(w io.Writer) (int64, error)) (Report, int64, error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".part-*")
	if err != nil {
		return Report{}, 0, fmt.Errorf("store: backup: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	n, err := copy(tmp)
	if err != nil {
		return Report{}, n, fmt.Errorf("store: backup: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return Report{}, n, fmt.Errorf("store: backup: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return Report{}, n, fmt.Errorf("store: backup: %w", err)
	}
	r, err := verifyCopy(tmp.Name())
	if err != nil {
		return r, n, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return r, n, fmt.Errorf("store: backup: %w", err)
	}
	done = true
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return r, n, nil
}

// verifyCopy opens a copy read-only and runs Check on it. A copy bbolt finds inconsistent is an
// error; ledger violations are only reported, since the copy holds what the data file held.
func verifyCopy(path string) (Report, error) {
	s, err := OpenFile(path, Options{ReadOnly: true, LockTimeout: time.Second})
	if err != nil {
		return Report{}, fmt.Errorf("store: backup: the copy does not open: %w", err)
	}
	defer s.Close()
	r, err := s.Check()
	if err != nil {
		return r, fmt.Errorf("store: backup: the copy does not read: %w", err)
	}
	var broken []string
	for _, v := range r.Violations {
		if strings.HasPrefix(v, "bbolt: ") {
			broken = append(broken, v)
		}
	}
	if len(broken) > 0 {
		return r, errors.New("store: backup: the copy is inconsistent: " + strings.Join(broken, "; "))
	}
	return r, nil
}
