package kie

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Error is a failed KIE call. HTTPStatus is set when the HTTP status was not 2xx, Code when the
// body carried a non-200 code; a transport failure leaves both zero and sets Err.
// Nothing in it ever holds the API key: the client scrubs messages before building one.
type Error struct {
	Op         string // "upload", "create task", "record info", "credit", "download"
	HTTPStatus int
	Code       int
	Msg        string
	Err        error
	RetryAfter time.Duration // from a Retry-After header, when the server sent one

	local    bool // failed on our side (reading the photo, writing the result file)
	tooLarge bool // the result file is over the caller's limit
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("kie: ")
	b.WriteString(e.Op)
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, ": http %d", e.HTTPStatus)
	}
	if e.Code != 0 {
		fmt.Fprintf(&b, ": code %d", e.Code)
	}
	if e.Msg != "" {
		b.WriteString(": ")
		b.WriteString(e.Msg)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// errRateLimited marks a createTask that the local limiter would not let out before the ctx deadline.
var errRateLimited = errors.New("local createTask rate limit")

// redacted hides the key in an error's text while keeping the chain for errors.Is and errors.As.
type redacted struct {
	err error
	key string
}

func (r redacted) Error() string { return strings.ReplaceAll(r.err.Error(), r.key, "[redacted]") }
func (r redacted) Unwrap() error { return r.err }

func scrub(s, key string) string {
	if key == "" {
		return s
	}
	return strings.ReplaceAll(s, key, "[redacted]")
}

func scrubErr(err error, key string) error {
	if err == nil || key == "" || !strings.Contains(err.Error(), key) {
		return err
	}
	return redacted{err: err, key: key}
}
