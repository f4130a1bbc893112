package store

import (
	"crypto/rand"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// keyInbound names, in the meta bucket, the secret the bot derives the URLs it hands out from:
// the per-job KIE callback secrets and the Telegram webhook's secret token.
var keyInbound = []byte("inbound_key")

// InboundKey returns the bot's 32-byte secret for authenticating requests that reach it from
// outside, creating it the first time. It lives in the data file, so callback URLs handed to KIE
// before a restart, or before a backup was restored, stay valid.
func (s *Store) InboundKey() ([]byte, error) {
	var key []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		key = clone(tx.Bucket(bucketMeta).Get(keyInbound))
		return nil
	})
	if err != nil || key != nil {
		return key, err
	}
	if s.readOnly {
		return nil, fmt.Errorf("store: inbound key: not created yet and the file is open read-only")
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMeta)
		if key = clone(b.Get(keyInbound)); key != nil {
			return nil // another caller created it first
		}
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return err
		}
		return b.Put(keyInbound, key)
	})
	if err != nil {
		return nil, fmt.Errorf("store: inbound key: %w", err)
	}
	return key, nil
}

// clone copies a value out of a bbolt page, which is only valid inside its transaction.
func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}
