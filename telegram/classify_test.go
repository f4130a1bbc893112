package telegram

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/sony/gobreaker/v2"

	"neurocards/messages"
)

func TestClassify(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("telegram: send video: %w", err) }
	cases := []struct {
		name   string
		err    error
		class  messages.Class
		reason messages.Reason
		retry  time.Duration
	}{
		{"429 carries retry_after", &bot.TooManyRequestsError{Message: "Too Many Requests", RetryAfter: 7}, messages.Transient, messages.ReasonUpstream, 7 * time.Second},
		{"a wrapped 429 still waits", wrap(&bot.TooManyRequestsError{RetryAfter: 2}), messages.Transient, messages.ReasonUpstream, 2 * time.Second},
		{"a day's retry_after is capped", &bot.TooManyRequestsError{RetryAfter: 86400}, messages.Transient, messages.ReasonUpstream, MaxRetryAfter},
		{"an overflowing retry_after is capped", &bot.TooManyRequestsError{RetryAfter: 9223372037}, messages.Transient, messages.ReasonUpstream, MaxRetryAfter},
		{"a negative retry_after waits a second", &bot.TooManyRequestsError{RetryAfter: -5}, messages.Transient, messages.ReasonUpstream, time.Second},
		{"blocked by the user", fmt.Errorf("%w, Forbidden: bot was blocked by the user", bot.ErrorForbidden), messages.User, messages.ReasonBlocked, 0},
		{"remembered block", ErrBlocked, messages.User, messages.ReasonBlocked, 0},
		{"400 on a send is retried within the budget", fmt.Errorf("%w, Bad Request: wrong file identifier", bot.ErrorBadRequest), messages.Transient, messages.ReasonDelivery, 0},
		{"a photo over getFile's limit", fmt.Errorf("%w, Bad Request: file is too big", bot.ErrorBadRequest), messages.User, messages.ReasonPhotoTooLarge, 0},
		{"migrated chat", &bot.MigrateError{MigrateToChatID: 5}, messages.Operator, messages.ReasonDelivery, 0},
		{"revoked token", fmt.Errorf("%w, Unauthorized", bot.ErrorUnauthorized), messages.Operator, messages.ReasonUnavailable, 0},
		{"second poller or webhook", fmt.Errorf("%w, Conflict", bot.ErrorConflict), messages.Operator, messages.ReasonUnavailable, 0},
		{"wrong API URL", fmt.Errorf("%w, Not Found", bot.ErrorNotFound), messages.Operator, messages.ReasonUnavailable, 0},
		{"breaker open", gobreaker.ErrOpenState, messages.Transient, messages.ReasonUpstreamDown, 0},
		{"deadline", wrap(context.DeadlineExceeded), messages.Transient, messages.ReasonUpstreamDown, 0},
		{"connection refused", wrap(&url.Error{Op: "Post", URL: "x", Err: &net.OpError{Op: "dial", Err: errors.New("refused")}}), messages.Transient, messages.ReasonUpstreamDown, 0},
		{"file download 502", &HTTPError{Op: "download", Status: 502}, messages.Transient, messages.ReasonUpstreamDown, 0},
		{"5xx from Telegram", errors.New("error response from telegram for method sendVideo, 502 Bad Gateway"), messages.Transient, messages.ReasonUpstreamDown, 0},
		{"413 upload too large", errors.New("error response from telegram for method sendVideo, 413 Request Entity Too Large"), messages.Operator, messages.ReasonDelivery, 0},
		{"local size limit", fmt.Errorf("telegram: download: %w", ErrTooLarge), messages.User, messages.ReasonPhotoTooLarge, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := Classify(c.err)
			if f.Class != c.class || f.Reason != c.reason || f.RetryAfter != c.retry {
				t.Errorf("Classify = %s/%s retry %v, want %s/%s retry %v", f.Class, f.Reason, f.RetryAfter, c.class, c.reason, c.retry)
			}
		})
	}
}

func TestNotModifiedIsSuccess(t *testing.T) {
	if !IsNotModified(fmt.Errorf("%w, Bad Request: message is not modified: specified new message content", bot.ErrorBadRequest)) {
		t.Error("not recognised")
	}
	if IsNotModified(fmt.Errorf("%w, Bad Request: message to edit not found", bot.ErrorBadRequest)) || IsNotModified(nil) {
		t.Error("false positive")
	}
}

func TestOnlyUpstreamTroubleOpensTheBreaker(t *testing.T) {
	for _, err := range []error{fmt.Errorf("%w, x", bot.ErrorBadRequest), fmt.Errorf("%w, x", bot.ErrorForbidden), &bot.MigrateError{}} {
		if countsAgainstBreaker(err) {
			t.Errorf("%v counts against the breaker", err)
		}
	}
	if !countsAgainstBreaker(errors.New("error response from telegram for method sendMessage, 500 Internal")) {
		t.Error("a 500 does not count against the breaker")
	}
}
