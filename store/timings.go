package store

import (
	"time"

	bolt "go.etcd.io/bbolt"
)

// GenTimesKept is how many of a model's latest generation times the store keeps.
const GenTimesKept = 200

// GenerationTimes returns how long the model's latest results took, oldest first: what the bot
// has learned of the model, kept in the data file so it survives restarts and backups.
func (s *Store) GenerationTimes(model string) ([]time.Duration, error) {
	var secs []float64
	err := s.db.View(func(tx *bolt.Tx) error {
		v, _, err := get[[]float64](tx.Bucket(bucketGenTimes), []byte(model))
		secs = v
		return err
	})
	out := make([]time.Duration, 0, len(secs))
	for _, s := range secs {
		out = append(out, time.Duration(s*float64(time.Second)))
	}
	return out, err
}

// AddGenerationTime records how long one of the model's results took, keeping the latest
// GenTimesKept.
func (s *Store) AddGenerationTime(model string, d time.Duration) error {
	if d <= 0 || model == "" {
		return nil
	}
	return s.batch(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketGenTimes)
		secs, _, err := get[[]float64](b, []byte(model))
		if err != nil {
			return err
		}
		secs = append(secs, d.Seconds())
		if n := len(secs); n > GenTimesKept {
			secs = secs[n-GenTimesKept:]
		}
		return put(b, []byte(model), secs)
	})
}
