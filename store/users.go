package store

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"neurocards/messages"
)

// DraftStep is where a seller is in ordering a job.
type DraftStep string

const (
	DraftNone     DraftStep = ""
	DraftPhoto    DraftStep = "photo"   // a kind is chosen; waiting for the product photo
	DraftText     DraftStep = "text"    // waiting for the product's name and features (or Skip)
	DraftConfirm  DraftStep = "confirm" // the confirmation with Generate/Cancel is shown
	DraftConsumed DraftStep = "done"    // Generate was tapped: JobID holds the job it made
)

// Draft is the order a seller is putting together. Its ID goes into the confirmation's buttons, so a
// tap on an old confirmation is recognised as stale.
type Draft struct {
	ID      uint64         `json:"id"`
	Kind    string         `json:"kind,omitempty"`
	Step    DraftStep      `json:"step,omitempty"`
	Photo   messages.Photo `json:"photo"`
	Product string         `json:"product,omitempty"`
	JobID   uint64         `json:"job_id,omitempty"`
}

// User is a seller's account. Balance and Held are caches of the ledger, kept in step by post.
type User struct {
	ID         int64  `json:"id"`
	FirstName  string `json:"first_name,omitempty"`
	Lang       string `json:"lang"`
	LangChosen bool   `json:"lang_chosen,omitempty"` // set by /lang; Telegram's language no longer overrides it
	Balance    int64  `json:"balance"`
	Held       int64  `json:"held"`
	Blocked    bool   `json:"blocked,omitempty"`
	Draft      Draft  `json:"draft"`
	DraftSeq   uint64 `json:"draft_seq"`
	LastJobID  uint64 `json:"last_job_id,omitempty"`
	Repeated   []int  `json:"repeated,omitempty"` // messages whose "again"/"redo" button was used, the last RepeatedKept
	// RepeatedJobs are jobs repeated from a button whose message Telegram no longer showed (id 0).
	RepeatedJobs []uint64  `json:"repeated_jobs,omitempty"`
	LastUpdate   int64     `json:"last_update"` // the highest update_id whose effect is persisted
	CreatedAt    time.Time `json:"created_at"`
	SeenAt       time.Time `json:"seen_at"`
}

// RepeatedKept is how many used "again"/"redo" buttons a seller's record remembers.
const RepeatedKept = 32

// Available is what the seller can spend now: balance minus credits held by jobs in flight.
func (u User) Available() int64 { return u.Balance - u.Held }

// ErrNoUser means the user has never talked to the bot.
var ErrNoUser = errors.New("no such user")

// User returns the user with the given Telegram id.
func (s *Store) User(uid int64) (User, bool, error) {
	var (
		u  User
		ok bool
	)
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		u, ok, err = get[User](tx.Bucket(bucketUsers), i64key(uid))
		return err
	})
	return u, ok, err
}

// UserTx is one read-write transaction on one user: the only way to change a user, their ledger or
// to start a job. Everything done through it commits together or not at all.
type UserTx struct {
	s      *Store
	tx     *bolt.Tx
	User   User
	exists bool
}

// Exists reports whether the user was already stored when the transaction began.
func (t *UserTx) Exists() bool { return t.exists }

// WithUser runs fn in one transaction on user uid (a zero User with ID set when new) and saves the
// user when fn returns nil. An error from fn rolls everything back and is returned as is.
func (s *Store) WithUser(uid int64, fn func(t *UserTx) error) (User, error) {
	var out User
	err := s.update(false, func(tx *bolt.Tx) error {
		u, ok, err := get[User](tx.Bucket(bucketUsers), i64key(uid))
		if err != nil {
			return err
		}
		if !ok {
			u = User{ID: uid, CreatedAt: s.now().UTC()}
		}
		t := &UserTx{s: s, tx: tx, User: u, exists: ok}
		if err := fn(t); err != nil {
			return err
		}
		out = t.User
		return put(tx.Bucket(bucketUsers), i64key(uid), t.User)
	})
	return out, err
}

// Post appends a ledger row for this user (grant, purchase or adjust).
func (t *UserTx) Post(e Entry) (Entry, error) {
	switch e.Type {
	case EntryGrant, EntryPurchase, EntryAdjust:
	default:
		return Entry{}, fmt.Errorf("store: %s rows are written by the job lifecycle only", e.Type)
	}
	e.Held = 0
	return t.s.post(t.tx, &t.User, e)
}

// Job reads one job inside the transaction.
func (t *UserTx) Job(id uint64) (messages.Job, bool, error) {
	return get[messages.Job](t.tx.Bucket(bucketJobs), u64key(id))
}

// InFlight counts the user's jobs that are not terminal.
func (t *UserTx) InFlight() (int, error) {
	n := 0
	c := t.tx.Bucket(bucketActive).Cursor()
	prefix := i64key(t.User.ID)
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		n++
	}
	return n, nil
}

// StartJob holds the job's price and stores the job, in this transaction. The job gets its id,
// stage queued and timestamps here; ErrInsufficient means nothing was created.
func (t *UserTx) StartJob(j messages.Job, timeout time.Duration) (messages.Job, error) {
	jobs := t.tx.Bucket(bucketJobs)
	id, err := jobs.NextSequence()
	if err != nil {
		return j, err
	}
	now := t.s.now().UTC()
	j.ID, j.UserID = id, t.User.ID
	j.Stage, j.Outcome = messages.StageQueued, messages.OutcomeNone
	j.CreatedAt, j.UpdatedAt, j.Deadline = now, now, now.Add(timeout)
	if _, err := t.s.post(t.tx, &t.User, Entry{Type: EntryHold, Held: j.Price, JobID: id, Key: holdKey(id)}); err != nil {
		return j, err
	}
	if err := put(jobs, u64key(id), j); err != nil {
		return j, err
	}
	if err := t.tx.Bucket(bucketUserJobs).Put(userJobKey(t.User.ID, id), nil); err != nil {
		return j, err
	}
	if err := t.tx.Bucket(bucketActive).Put(userJobKey(t.User.ID, id), nil); err != nil {
		return j, err
	}
	t.User.LastJobID = id
	return j, nil
}

// MarkRetried records on a failed job which job its retry button started.
func (t *UserTx) MarkRetried(oldID, newID uint64) error {
	jobs := t.tx.Bucket(bucketJobs)
	old, ok, err := get[messages.Job](jobs, u64key(oldID))
	if err != nil {
		return err
	}
	if !ok || old.UserID != t.User.ID || !old.Terminal() {
		return fmt.Errorf("store: job %d cannot be marked retried", oldID)
	}
	old.RetriedBy = newID
	return put(jobs, u64key(oldID), old)
}

func holdKey(id uint64) string   { return fmt.Sprintf("hold:%d", id) }
func finishKey(id uint64) string { return fmt.Sprintf("finish:%d", id) }
