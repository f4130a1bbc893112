package store

import "neurocards/messages"

// Ledger returns up to limit of this user's most recent ledger rows, newest first, as this
// transaction sees them; limit ≤ 0 returns all.
func (t *UserTx) Ledger(limit int) ([]Entry, error) {
	return newest[Entry](t.tx, bucketUserLedger, bucketLedger, t.User.ID, limit)
}

// Jobs returns up to limit of this user's most recent jobs, newest first; limit ≤ 0 returns all.
func (t *UserTx) Jobs(limit int) ([]messages.Job, error) {
	return newest[messages.Job](t.tx, bucketUserJobs, bucketJobs, t.User.ID, limit)
}

// KeyExists reports whether a ledger row with the idempotency key exists, as this transaction
// sees it.
func (t *UserTx) KeyExists(key string) bool {
	return t.tx.Bucket(bucketKeys).Get([]byte(key)) != nil
}
