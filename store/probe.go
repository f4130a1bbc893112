package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Probe checks that the data file takes a write: it commits one small key, as every change does.
// /readyz asks it; a full disk, a read-only file or a closed store fail it.
func (s *Store) Probe() error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		raw, err := s.now().UTC().MarshalBinary()
		if err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put([]byte("probe"), raw)
	})
	if err != nil {
		return fmt.Errorf("store: write probe: %w", err)
	}
	return nil
}
