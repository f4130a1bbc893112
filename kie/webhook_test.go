package kie

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"testing"
	"time"
)

// sign is KIE's signature, written out from the documentation rather than shared with the code.
func sign(key, taskID, ts string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(taskID + "." + ts))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func TestVerifySignature(t *testing.T) {
	now := time.Unix(1_780_000_000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	old := strconv.FormatInt(now.Add(-6*time.Minute).Unix(), 10)
	ahead := strconv.FormatInt(now.Add(6*time.Minute).Unix(), 10)
	for _, tc := range []struct {
		name              string
		key, task, ts, sg string
		want              error
	}{
		{"valid", "k", "task1", ts, sign("k", "task1", ts), nil},
		{"a minute old", "k", "task1", strconv.FormatInt(now.Add(-time.Minute).Unix(), 10), sign("k", "task1", strconv.FormatInt(now.Add(-time.Minute).Unix(), 10)), nil},
		{"another key", "k", "task1", ts, sign("other", "task1", ts), ErrBadSignature},
		{"another task", "k", "task1", ts, sign("k", "task2", ts), ErrBadSignature},
		{"another time", "k", "task1", ts, sign("k", "task1", old), ErrBadSignature},
		{"stale", "k", "task1", old, sign("k", "task1", old), ErrStaleSignature},
		{"from the future", "k", "task1", ahead, sign("k", "task1", ahead), ErrStaleSignature},
		{"no signature", "k", "task1", ts, "", ErrBadSignature},
		{"no timestamp", "k", "task1", "", sign("k", "task1", ""), ErrBadSignature},
		{"not base64", "k", "task1", ts, "%%%", ErrBadSignature},
		{"not a number", "k", "task1", "soon", sign("k", "task1", "soon"), ErrBadSignature},
		{"truncated", "k", "task1", ts, sign("k", "task1", ts)[:20], ErrBadSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := VerifySignature([]byte(tc.key), tc.task, tc.ts, tc.sg, now, 5*time.Minute)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestParseCallbackAcceptsEitherTaskIDSpelling(t *testing.T) {
	rec, err := ParseCallback([]byte(`{"code":200,"msg":"ok","data":{"task_id":"abc","state":"success","resultJson":"{\"resultUrls\":[\"https://x/y.mp4\"]}"}}`))
	if err != nil || rec.TaskID != "abc" {
		t.Fatalf("record %+v, err %v", rec, err)
	}
}
