package store

import (
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"neurocards/messages"
)

// AllJobs returns every job, terminal or not, in id order: what a crash test reads from a data
// file to see which stage each job had reached.
func (s *Store) AllJobs() ([]messages.Job, error) {
	var out []messages.Job
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketJobs).ForEach(func(k, v []byte) error {
			var j messages.Job
			if err := json.Unmarshal(v, &j); err != nil {
				return fmt.Errorf("store: decode job %x: %w", k, err)
			}
			out = append(out, j)
			return nil
		})
	})
	return out, err
}

// AllUsers returns every user in id order.
func (s *Store) AllUsers() ([]User, error) {
	var out []User
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketUsers).ForEach(func(k, v []byte) error {
			var u User
			if err := json.Unmarshal(v, &u); err != nil {
				return fmt.Errorf("store: decode user %x: %w", k, err)
			}
			out = append(out, u)
			return nil
		})
	})
	return out, err
}
