package kie

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"time"
)

// The headers KIE signs a callback with when webhookHmacKey is on (kie-api.md §5).
const (
	HeaderTimestamp = "X-Webhook-Timestamp"
	HeaderSignature = "X-Webhook-Signature"
)

// ErrBadSignature means a callback's signature headers are missing or do not match the key.
var ErrBadSignature = errors.New("kie: callback signature does not match")

// ErrStaleSignature means a callback's signed timestamp is too far from now: a replay, or a clock
// far off.
var ErrStaleSignature = errors.New("kie: callback timestamp is stale")

// VerifySignature checks a callback's X-Webhook-Timestamp and X-Webhook-Signature headers:
// the signature must be base64(HMAC-SHA256(taskId + "." + timestamp, key)), compared in constant
// time, and the timestamp (Unix seconds) within maxAge of now either way. The signature covers
// only the task id and the time, not the body, so a verified callback is still only a hint.
func VerifySignature(key []byte, taskID, timestamp, signature string, now time.Time, maxAge time.Duration) error {
	if len(key) == 0 || taskID == "" || timestamp == "" || signature == "" {
		return ErrBadSignature
	}
	got, err := base64.StdEncoding.DecodeString(signature)
	if err != nil {
		return ErrBadSignature
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(taskID + "." + timestamp))
	if !hmac.Equal(got, m.Sum(nil)) {
		return ErrBadSignature
	}
	secs, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(secs, 0)); d > maxAge || d < -maxAge {
		return ErrStaleSignature
	}
	return nil
}
