package store

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"neurocards/messages"
)

// waitFor waits until cond holds, checking every millisecond; it fails the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("%s: not within 10s", what)
		}
	}
}

func pending(s *Store) int {
	s.group.mu.Lock()
	defer s.group.mu.Unlock()
	return len(s.group.pending)
}

// Writes that arrive while a commit is under way share the next transaction; one that fails or
// panics there is taken out and runs on its own, so it neither fails the others nor loses its
// own error, and nothing it wrote survives.
func TestBatchSharesACommitAndIsolatesFailures(t *testing.T) {
	s := open(t)
	release := make(chan struct{})
	var blocker sync.WaitGroup
	blocker.Add(1)
	go func() {
		defer blocker.Done()
		s.batch(func(tx *bolt.Tx) error { <-release; return nil })
	}()
	waitFor(t, "the first write to hold the commit", func() bool {
		s.group.mu.Lock()
		defer s.group.mu.Unlock()
		return s.group.leading && len(s.group.pending) == 0
	})

	errBroken := errors.New("broken write")
	type result struct {
		err      error
		panicked any
		txid     int
	}
	write := func(key string, fail error, panics bool) func(tx *bolt.Tx) error {
		return func(tx *bolt.Tx) error {
			if err := tx.Bucket(bucketMeta).Put([]byte(key), []byte("x")); err != nil {
				return err
			}
			if panics {
				panic("bug in " + key)
			}
			return fail
		}
	}
	keys := []struct {
		key    string
		fail   error
		panics bool
	}{{"ok1", nil, false}, {"broken", errBroken, false}, {"ok2", nil, false}, {"panics", nil, true}}
	results := make([]result, len(keys))
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { results[i].panicked = recover() }()
			fn := write(k.key, k.fail, k.panics)
			results[i].err = s.batch(func(tx *bolt.Tx) error {
				results[i].txid = tx.ID()
				return fn(tx)
			})
		}()
	}
	waitFor(t, "four writes to queue behind the commit", func() bool { return pending(s) == len(keys) })
	close(release)
	wg.Wait()
	blocker.Wait()

	if results[0].err != nil || results[2].err != nil {
		t.Fatalf("the good writes failed: %v, %v", results[0].err, results[2].err)
	}
	if results[0].txid != results[2].txid {
		t.Errorf("the good writes committed in transactions %d and %d, want one shared", results[0].txid, results[2].txid)
	}
	if !errors.Is(results[1].err, errBroken) {
		t.Errorf("the broken write returned %v, want its own error", results[1].err)
	}
	if results[3].panicked != "bug in panics" {
		t.Errorf("the panicking write: recovered %v, err %v; want its panic in its own goroutine", results[3].panicked, results[3].err)
	}
	s.db.View(func(tx *bolt.Tx) error {
		for _, k := range keys {
			got := tx.Bucket(bucketMeta).Get([]byte(k.key)) != nil
			if want := k.fail == nil && !k.panics; got != want {
				t.Errorf("key %s stored: %v, want %v", k.key, got, want)
			}
		}
		return nil
	})
}

// Job saves from many writers at once are all on disk when SaveJob returns: the file reopened
// has every one.
func TestConcurrentSavesAreDurable(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const writers = 40
	jobs := make([]messages.Job, writers)
	for i := range jobs {
		uid := int64(i + 1)
		if _, err := s.WithUser(uid, func(tx *UserTx) error {
			if _, err := tx.Post(Entry{Type: EntryGrant, Amount: 10, Key: fmt.Sprintf("start:%d", uid)}); err != nil {
				return err
			}
			jobs[i], err = tx.StartJob(messages.Job{Kind: "card", Price: 3}, time.Hour)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers*3)
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 1; n <= 3; n++ {
				j.StatusMessageID = 100*i + n
				if _, err := s.SaveJob(j); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i, j := range jobs {
		got := stored(t, s, j.ID)
		if got.StatusMessageID != 100*i+3 {
			t.Errorf("job %d: status message %d after reopening, want %d", j.ID, got.StatusMessageID, 100*i+3)
		}
	}
	if r, err := s.Check(); err != nil || len(r.Violations) > 0 {
		t.Fatalf("check: %v %v", err, r.Violations)
	}
}
