// Package store keeps users, jobs, the credit ledger, payments and the Telegram update offset in one
// bbolt file. Every invariant about money is enforced inside a single read-write transaction.
//
// Who writes what: a seller's record, their ledger rows, their holds, captures and releases are
// written only through a UserTx (WithUser), and only the seller's session actor opens one — it is
// the single writer of its seller. A job actor writes its own progress (SaveJob: stage, task id,
// attempts, status message) but never money, and its generator records a task the moment KIE
// creates it (RecordTask); the poller writes the update offset. Everyone else only reads.
// Concurrent writes of job progress and the offset share commits (batch.go).
package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

var (
	bucketUsers      = []byte("users")       // uid → User
	bucketJobs       = []byte("jobs")        // job id → messages.Job
	bucketUserJobs   = []byte("user_jobs")   // uid ‖ job id → nil, for a seller's history
	bucketActive     = []byte("active")      // job id → uid, for jobs not yet terminal
	bucketLedger     = []byte("ledger")      // seq → Entry
	bucketUserLedger = []byte("user_ledger") // uid ‖ seq → nil, for a seller's statement
	bucketKeys       = []byte("ledger_keys") // idempotency key → seq
	bucketMeta       = []byte("meta")
	bucketNotices    = []byte("notices")   // uid ‖ job id → nil, for ended jobs whose seller is not yet told
	bucketGenTimes   = []byte("gen_times") // model → the seconds its latest results took
	allBuckets       = [][]byte{bucketUsers, bucketJobs, bucketUserJobs, bucketActive, bucketLedger, bucketUserLedger, bucketKeys, bucketMeta, bucketNotices, bucketGenTimes}
)

// ErrLocked means another process has the data file open.
var ErrLocked = errors.New("the data file is in use by another neurocards process")

// FileName is the bbolt file inside the data directory.
const FileName = "neurocards.db"

// Store is the bbolt-backed state of the bot. It is safe for concurrent use.
type Store struct {
	db        *bolt.DB
	now       func() time.Time
	readOnly  bool
	taskSaved atomic.Pointer[TaskSaved] // OnTaskSaved's watcher
	group     group                     // concurrent writes committed together (batch.go)
	turns     turns                     // job progress and sellers' transactions take turns (turns.go)
	// unrecorded holds a place for every KIE task on its way to the disk (TaskSlot).
	unrecorded chan struct{}
}

// Options tune Open.
type Options struct {
	ReadOnly    bool
	LockTimeout time.Duration // how long to wait for another process to let go of the file; default 1 s
	Now         func() time.Time
	// Logger is told when Open had to make the data directory private; nil: slog.Default().
	Logger *slog.Logger
}

// Open opens (creating if needed) the data file in dir. A data directory that other users may
// write to (where they could replace the file or the results) is made private (0700) with a
// warning; one that cannot be is refused.
func Open(dir string, opt Options) (*Store, error) {
	if opt.LockTimeout <= 0 {
		opt.LockTimeout = time.Second
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if !opt.ReadOnly {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("store: data dir: %w", err)
		}
		if err := makePrivate(dir, opt.Logger); err != nil {
			return nil, err
		}
	}
	return OpenFile(filepath.Join(dir, FileName), opt)
}

// makePrivate takes group and world write access away from an existing data directory:
// MkdirAll keeps whatever mode it finds. Tightening is safe — the bot needs nothing from other
// users — and friendlier than refusing to start.
func makePrivate(dir string, log *slog.Logger) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("store: data dir: %w", err)
	}
	was := fi.Mode().Perm()
	if was&0o022 == 0 {
		return nil
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("store: data dir %s is writable by other users (%v) and could not be made private: %w", dir, was, err)
	}
	if log == nil {
		log = slog.Default()
	}
	log.Warn("the data directory was writable by other users; it is now private (0700)", "dir", dir, "was", was.String())
	return nil
}

// OpenFile opens the data file at path.
func OpenFile(path string, opt Options) (*Store, error) {
	if opt.LockTimeout <= 0 {
		opt.LockTimeout = time.Second
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.ReadOnly {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opt.LockTimeout, ReadOnly: opt.ReadOnly})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("store: %s: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	s := &Store{db: db, now: opt.Now, readOnly: opt.ReadOnly, unrecorded: make(chan struct{}, Unrecorded)}
	if !opt.ReadOnly {
		err = db.Update(func(tx *bolt.Tx) error {
			for _, b := range allBuckets {
				if _, err := tx.CreateBucketIfNotExists(b); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("store: init: %w", err)
		}
	}
	return s, nil
}

// Now is the store's clock, in UTC.
func (s *Store) Now() time.Time { return s.now().UTC() }

// Close closes the data file.
func (s *Store) Close() error { return s.db.Close() }

// Path is the data file's path.
func (s *Store) Path() string { return s.db.Path() }

func u64key(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

func i64key(v int64) []byte { return u64key(uint64(v)) }

func userJobKey(uid int64, jobID uint64) []byte {
	return append(i64key(uid), u64key(jobID)...)
}

func get[T any](b *bolt.Bucket, key []byte) (T, bool, error) {
	var v T
	raw := b.Get(key)
	if raw == nil {
		return v, false, nil
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, false, fmt.Errorf("store: decode %T %x: %w", v, key, err)
	}
	return v, true, nil
}

func put(b *bolt.Bucket, key []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("store: encode: %w", err)
	}
	return b.Put(key, raw)
}

// Offset is the id of the last Telegram update whose effect is persisted (0 when none).
func (s *Store) Offset() (int64, error) {
	var off int64
	err := s.db.View(func(tx *bolt.Tx) error {
		if raw := tx.Bucket(bucketMeta).Get([]byte("offset")); raw != nil {
			off = int64(binary.BigEndian.Uint64(raw))
		}
		return nil
	})
	return off, err
}

// SetOffset records that every update up to and including id has been handled. It never moves back.
func (s *Store) SetOffset(id int64) error {
	return s.batch(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMeta)
		if raw := b.Get([]byte("offset")); raw != nil && int64(binary.BigEndian.Uint64(raw)) >= id {
			return nil
		}
		return b.Put([]byte("offset"), i64key(id))
	})
}
