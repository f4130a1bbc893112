package messages

import (
	"fmt"
	"time"
)

// Class says who has to act on a failure: retry it, tell the seller, alert the operator, or fix a bug.
type Class string

const (
	// Transient failures are retried with backoff within the attempt budget and the job deadline.
	Transient Class = "transient"
	// User failures are about the seller's input (photo, blocked bot): release, explain, offer a retry.
	User Class = "user"
	// Operator failures need someone with access to the accounts or config (KIE key, balance, model).
	Operator Class = "operator"
	// Internal failures are our bugs: release, apologise, keep the details for the operator.
	Internal Class = "internal"
)

// Reason is a machine code for what went wrong; the texts catalogue turns it into words for the seller.
type Reason string

const (
	ReasonContentPolicy Reason = "content_policy" // KIE refused the photo or prompt on content grounds
	ReasonBadPhoto      Reason = "bad_photo"      // the photo could not be used (format, size, unreadable)
	ReasonPhotoTooSmall Reason = "photo_too_small"
	ReasonPhotoTooLarge Reason = "photo_too_large"
	ReasonUnavailable   Reason = "unavailable"   // generation is switched off or misconfigured on our side
	ReasonUpstream      Reason = "upstream"      // KIE or Telegram failed in a way that may pass
	ReasonUpstreamDown  Reason = "upstream_down" // unreachable, or its breaker is open: nothing was done
	ReasonTimeout       Reason = "timeout"       // an attempt or the whole job ran out of time
	ReasonDelivery      Reason = "delivery"      // Telegram refused the result we tried to send
	ReasonBlocked       Reason = "blocked"       // the seller blocked the bot
	ReasonInternal      Reason = "internal"      // a bug: panic or an impossible state
	ReasonCancelled     Reason = "cancelled"     // stopped by an operator
)

// Failure is a classified error: what class it is, why, and how long the other side asked us to wait.
// Code and Detail are for the operator's log, never for the seller.
type Failure struct {
	Class      Class         `json:"class"`
	Reason     Reason        `json:"reason"`
	RetryAfter time.Duration `json:"retry_after,omitempty"`
	Code       string        `json:"code,omitempty"`   // upstream code: KIE code or failCode, Telegram error_code
	Detail     string        `json:"detail,omitempty"` // upstream message, already free of secrets
}

func (f Failure) Error() string {
	s := fmt.Sprintf("%s/%s", f.Class, f.Reason)
	if f.Code != "" {
		s += " code=" + f.Code
	}
	if f.Detail != "" {
		s += ": " + f.Detail
	}
	return s
}

// Retryable reports whether another attempt can succeed without anyone changing anything.
func (f Failure) Retryable() bool { return f.Class == Transient }
