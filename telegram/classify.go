package telegram

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/go-telegram/bot"
	"github.com/sony/gobreaker/v2"

	"neurocards/messages"
)

// Classify turns a Telegram error into a failure class, a retry-after and a reason. It is the one
// place that knows what Telegram's errors mean. The library's struct errors need errors.As: its
// Is* helpers fail on wrapped errors.
func Classify(err error) messages.Failure {
	var (
		tmr  *bot.TooManyRequestsError
		mig  *bot.MigrateError
		herr *HTTPError
		nerr net.Error
		uerr *url.Error
	)
	detail := ""
	if err != nil {
		detail = err.Error()
	}
	f := func(c messages.Class, r messages.Reason, code string) messages.Failure {
		return messages.Failure{Class: c, Reason: r, Code: code, Detail: detail}
	}
	switch {
	case err == nil:
		return messages.Failure{}
	case errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests):
		return f(messages.Transient, messages.ReasonUpstreamDown, "breaker")
	case errors.Is(err, context.Canceled):
		return f(messages.Transient, messages.ReasonUpstream, "canceled")
	case errors.As(err, &tmr):
		out := f(messages.Transient, messages.ReasonUpstream, "429")
		out.RetryAfter = retryAfter(tmr)
		return out
	case errors.Is(err, bot.ErrorForbidden):
		return f(messages.User, messages.ReasonBlocked, "403")
	case errors.As(err, &mig):
		return f(messages.Operator, messages.ReasonDelivery, "400 migrate")
	case errors.Is(err, ErrTooLarge):
		return f(messages.User, messages.ReasonPhotoTooLarge, "too large")
	case errors.Is(err, bot.ErrorBadRequest):
		if strings.Contains(strings.ToLower(detail), "file is too big") {
			return f(messages.User, messages.ReasonPhotoTooLarge, "400")
		}
		// A 400 on a send may be a bad file that a fresh download fixes; the attempt budget bounds it.
		return f(messages.Transient, messages.ReasonDelivery, "400")
	case errors.Is(err, bot.ErrorUnauthorized):
		return f(messages.Operator, messages.ReasonUnavailable, "401")
	case errors.Is(err, bot.ErrorNotFound):
		return f(messages.Operator, messages.ReasonUnavailable, "404")
	case errors.Is(err, bot.ErrorConflict):
		return f(messages.Operator, messages.ReasonUnavailable, "409")
	case errors.As(err, &herr) && herr.Status == 404:
		return f(messages.Transient, messages.ReasonUpstream, "http 404")
	case errors.As(err, &herr):
		return f(messages.Transient, messages.ReasonUpstreamDown, fmt.Sprintf("http %d", herr.Status))
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &nerr) && nerr.Timeout():
		return f(messages.Transient, messages.ReasonUpstreamDown, "timeout")
	case errors.As(err, &uerr), errors.As(err, &nerr):
		return f(messages.Transient, messages.ReasonUpstreamDown, "network")
	case strings.Contains(detail, "Request Entity Too Large"), strings.Contains(detail, " 413 "):
		return f(messages.Operator, messages.ReasonDelivery, "413")
	default:
		// 5xx, an HTML error page from a proxy, anything that is not an answer about our
		// request: Telegram is not answering. Jobs wait for it without using attempts.
		return f(messages.Transient, messages.ReasonUpstreamDown, "other")
	}
}

// ClassifyPhoto is Classify for fetching the seller's photo: a file Telegram says it does not
// have is the seller's to send again, not our configuration.
func ClassifyPhoto(err error) messages.Failure {
	f := Classify(err)
	var herr *HTTPError
	if (f.Class == messages.Operator && f.Code == "404") || (errors.As(err, &herr) && herr.Status == 404) {
		f.Class, f.Reason = messages.User, messages.ReasonBadPhoto
	}
	return f
}

// ClassifyResult is Classify for sending a finished result: "too big" is about our file, not the
// seller's photo.
func ClassifyResult(err error) messages.Failure {
	f := Classify(err)
	if f.Reason == messages.ReasonPhotoTooLarge {
		f.Class, f.Reason = messages.Operator, messages.ReasonDelivery
	}
	return f
}

// IsMessageGone reports an edit of a message that no longer exists (the seller deleted it):
// nothing to retry.
func IsMessageGone(err error) bool {
	return err != nil && errors.Is(err, bot.ErrorBadRequest) && strings.Contains(err.Error(), "message to edit not found")
}

// MaxRetryAfter bounds how long a 429 makes anything wait. Telegram asks for seconds, at most a
// few minutes in practice; a larger (or overflowing) retry_after from a broken proxy or a lying
// server would otherwise park a chat or a job until its deadline.
const MaxRetryAfter = 5 * time.Minute

// retryAfter is the one reading of a 429's retry_after: at least a second, at most MaxRetryAfter.
func retryAfter(tmr *bot.TooManyRequestsError) time.Duration {
	s := max(tmr.RetryAfter, 1)
	if s >= int(MaxRetryAfter/time.Second) {
		return MaxRetryAfter
	}
	return time.Duration(s) * time.Second
}

// IsNotModified reports Telegram's answer to an edit that changes nothing, which is a success.
func IsNotModified(err error) bool {
	return err != nil && errors.Is(err, bot.ErrorBadRequest) && strings.Contains(err.Error(), "message is not modified")
}

// countsAgainstBreaker says whether an error means Telegram itself is unwell. Answers about our
// request (400, 403, a migrated chat) show the service is up.
func countsAgainstBreaker(err error) bool {
	var mig *bot.MigrateError
	switch {
	case errors.Is(err, bot.ErrorBadRequest), errors.Is(err, bot.ErrorForbidden), errors.As(err, &mig):
		return false
	case errors.Is(err, ErrTooLarge):
		return false
	}
	return true
}
