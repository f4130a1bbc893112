package store

import "neurocards/messages"

// Ledger returns up to limit of this user's most recent ledger rows, newest first, as this
// transaction sees them; limit ≤ 0 returns all.
func (t *UserTx) Ledger(limit int) ([]Entry, error) {
	var out []Entry
	ledger := t.tx.Bucket(bucketLedger)
	err := eachNewest(t.tx.Bucket(bucketUserLedger), i64key(t.User.ID), func(seq []byte) (bool, error) {
		e, ok, err := get[Entry](ledger, seq)
		if err != nil || !ok {
			return false, err
		}
		out = append(out, e)
		return limit <= 0 || len(out) < limit, nil
	})
	return out, err
}

// Jobs returns up to limit of this user's most recent jobs, newest first; limit ≤ 0 returns all.
func (t *UserTx) Jobs(limit int) ([]messages.Job, error) {
	var out []messages.Job
	jobs := t.tx.Bucket(bucketJobs)
	err := eachNewest(t.tx.Bucket(bucketUserJobs), i64key(t.User.ID), func(id []byte) (bool, error) {
		j, ok, err := get[messages.Job](jobs, id)
		if err != nil || !ok {
			return false, err
		}
		out = append(out, j)
		return limit <= 0 || len(out) < limit, nil
	})
	return out, err
}

// KeyExists reports whether a ledger row with the idempotency key exists, as this transaction
// sees it.
func (t *UserTx) KeyExists(key string) bool {
	return t.tx.Bucket(bucketKeys).Get([]byte(key)) != nil
}
