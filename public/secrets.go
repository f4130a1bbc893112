package public

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
)

// jobSecret is the secret in a job's callback URL: HMAC-SHA256 of the job id under the inbound
// key, cut to 128 bits and base64url-encoded (22 characters). Only the bot can make it, so only
// the URL the bot gave KIE for that job opens that job's route.
func jobSecret(key []byte, jobID uint64) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("kie-callback\x00"))
	var id [8]byte
	binary.BigEndian.PutUint64(id[:], jobID)
	m.Write(id[:])
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// webhookSecret is the secret_token given to setWebhook: 43 characters of A-Z a-z 0-9 _ -,
// as Telegram requires, derived so that it survives restarts without being stored twice.
func webhookSecret(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("telegram-webhook\x00"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// sameSecret compares secrets in constant time.
func sameSecret(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}
