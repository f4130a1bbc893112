package kie

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/sony/gobreaker/v2"

	"neurocards/messages"
)

// msgRule classifies an upstream message (a task's failMsg, or a body msg) by its words.
type msgRule struct {
	words  []string // any of these substrings of the lower-cased message
	class  messages.Class
	reason messages.Reason
}

// msgRules is kie-api.md §4.3's classifier, extended by the messages quoted in §4.2. First match
// wins, so the order matters: content words before everything, and "failed to fetch the image"
// before the photo rules, because it is about our hosting, not the photo.
var msgRules = []msgRule{
	{
		words: []string{
			"content polic", "flagged", "violat", "unsafe", "minor", "prominent people", "sensitive",
			"nsfw", "inappropriate", "rejected by flow", "could not be processed", "prompt rejected",
			"moderat",
		},
		class: messages.User, reason: messages.ReasonContentPolicy,
	},
	// KIE could not fetch the photo we uploaded for it: upload it again and retry.
	{
		words: []string{"unavailable, please replace", "failed to fetch", "download"},
		class: messages.Transient, reason: messages.ReasonUpstream,
	},
	// Our prompt template is not English; only the operator can change it.
	{
		words: []string{"only english"},
		class: messages.Operator, reason: messages.ReasonUnavailable,
	},
	// The photo itself cannot be used: the seller has to send another one.
	{
		words: []string{
			"width", "height", "image format", "unsupported format", "file format", "wrong format",
			"aspect ratio", "too small", "too large", "file size", "dimension", "corrupt",
			"invalid image", "unsupported image", "cannot identify image", "decode image",
		},
		class: messages.User, reason: messages.ReasonBadPhoto,
	},
	{
		words: []string{"internal", "timeout", "timed out", "try again later", "is processing"},
		class: messages.Transient, reason: messages.ReasonUpstream,
	},
}

func matchMessage(msg string) (msgRule, bool) {
	m := strings.ToLower(msg)
	for _, r := range msgRules {
		for _, w := range r.words {
			if strings.Contains(m, w) {
				return r, true
			}
		}
	}
	return msgRule{}, false
}

// ClassifyRecord classifies a task that ended in state fail by its failCode and failMsg. Anything
// it does not recognise is transient: the caller's attempt budget bounds the retries. It returns
// the zero Failure for a task that did not fail.
func ClassifyRecord(r Record) messages.Failure {
	if r.State != StateFail {
		return messages.Failure{}
	}
	f := messages.Failure{
		Class:  messages.Transient,
		Reason: messages.ReasonUpstream,
		Code:   strings.TrimSpace("fail " + r.FailCode),
		Detail: r.FailMsg,
	}
	if rule, ok := matchMessage(r.FailMsg); ok {
		f.Class, f.Reason = rule.class, rule.reason
	}
	return f
}

// codeRule classifies a non-200 body code; byMessage lets the message override the default.
type codeRule struct {
	class     messages.Class
	reason    messages.Reason
	byMessage bool
}

// codeRules is kie-api.md §4.2. Codes not listed are transient, after a look at the message.
var codeRules = map[int]codeRule{
	400: {messages.Operator, messages.ReasonUnavailable, true}, // our bad parameters, unless the message says content/photo/fetch
	401: {messages.Operator, messages.ReasonUnavailable, false},
	402: {messages.Operator, messages.ReasonUnavailable, false},
	404: {messages.Operator, messages.ReasonUnavailable, false},
	405: {messages.Operator, messages.ReasonUnavailable, false},
	422: {messages.Operator, messages.ReasonUnavailable, true}, // unknown model, validation; "recordInfo is null" is handled first
	429: {messages.Transient, messages.ReasonUpstream, false},
	433: {messages.Operator, messages.ReasonUnavailable, false},
	451: {messages.Transient, messages.ReasonUpstream, false}, // could not fetch our image: re-upload
	455: {messages.Transient, messages.ReasonUpstream, false},
	500: {messages.Transient, messages.ReasonUpstream, false},
	501: {messages.Transient, messages.ReasonUpstream, true},
	505: {messages.Operator, messages.ReasonUnavailable, false},
}

func classifyCode(code int, msg string) (messages.Class, messages.Reason) {
	if code == 422 && isRecordNull(msg) {
		return messages.Transient, messages.ReasonUpstream
	}
	rule, ok := codeRules[code]
	if !ok {
		rule = codeRule{messages.Transient, messages.ReasonUpstream, true}
	}
	if rule.byMessage {
		if m, ok := matchMessage(msg); ok {
			return m.class, m.reason
		}
	}
	return rule.class, rule.reason
}

func isRecordNull(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "recordinfo is null") || strings.Contains(m, "record is null")
}

// IsUnknownTask reports whether err is recordInfo's answer for a task KIE does not know (yet):
// transient just after createTask, a lost task after a grace period; the caller knows which.
func IsUnknownTask(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.HTTPStatus == 0 && e.Code == 422 && isRecordNull(e.Msg)
}

// Classify turns an error from this package's Client into a Failure. Code is the upstream code
// ("402", "http 503") and Detail the upstream message; neither ever holds the key. A nil error
// gives the zero Failure; an error that already is a messages.Failure is returned as it is.
func Classify(err error) messages.Failure {
	if err == nil {
		return messages.Failure{}
	}
	var done messages.Failure
	if errors.As(err, &done) {
		return done
	}
	switch {
	case errors.Is(err, gobreaker.ErrOpenState):
		return messages.Failure{Class: messages.Transient, Reason: messages.ReasonUpstreamDown, Code: "breaker open", Detail: "KIE circuit breaker is open: nothing was sent"}
	case errors.Is(err, gobreaker.ErrTooManyRequests):
		return messages.Failure{Class: messages.Transient, Reason: messages.ReasonUpstreamDown, Code: "breaker half-open", Detail: "KIE circuit breaker is probing: nothing was sent"}
	case errors.Is(err, errRateLimited):
		return messages.Failure{Class: messages.Transient, Reason: messages.ReasonUpstream, Code: "rate limit", Detail: "createTask rate limit would outlast the deadline: nothing was sent"}
	case errors.Is(err, context.Canceled):
		return messages.Failure{Class: messages.Transient, Reason: messages.ReasonUpstream, Code: "canceled", Detail: err.Error()}
	}

	var e *Error
	if !errors.As(err, &e) {
		if errors.Is(err, context.DeadlineExceeded) {
			return messages.Failure{Class: messages.Transient, Reason: messages.ReasonUpstreamDown, Code: "timeout", Detail: err.Error()}
		}
		if isNetwork(err) {
			return unreachable(err)
		}
		return messages.Failure{Class: messages.Internal, Reason: messages.ReasonInternal, Detail: err.Error()}
	}

	detail := e.Msg
	if detail == "" && e.Err != nil {
		detail = e.Err.Error()
	}
	f := messages.Failure{Class: messages.Transient, Reason: messages.ReasonUpstream, RetryAfter: e.RetryAfter, Detail: detail}
	switch {
	case e.local:
		f.Class, f.Reason, f.Code = messages.Internal, messages.ReasonInternal, "local"
	case e.tooLarge:
		// Another attempt makes a file of the same size; the limit or the kind's settings must change.
		f.Class, f.Reason, f.Code = messages.Operator, messages.ReasonUnavailable, "too large"
	case e.HTTPStatus != 0:
		f.Code = "http " + strconv.Itoa(e.HTTPStatus)
		f.Class, f.Reason = classifyHTTP(e)
	case e.Code != 0:
		f.Code = strconv.Itoa(e.Code)
		f.Class, f.Reason = classifyCode(e.Code, e.Msg)
	case errors.Is(err, context.DeadlineExceeded):
		f.Code, f.Reason = "timeout", messages.ReasonUpstreamDown
	case e.Err == nil || !isNetwork(e.Err):
		// A 200 that is not a KIE envelope, e.g. a proxy's HTML page: KIE is not answering.
		f.Code, f.Reason = "bad answer", messages.ReasonUpstreamDown
	default:
		return unreachable(err)
	}
	if f.Class != messages.Transient {
		f.RetryAfter = 0
	}
	return f
}

// ClassifyCreate is Classify for createTask, where one kind of outage costs money: a request that
// was sent but got no answer (a timeout, a connection cut mid-way) may have created a task KIE
// bills. Such a failure uses an attempt, so a job cannot pay for tasks without bound; a request
// that never left (connection refused, an open breaker) or that KIE's proxy answered with an
// error page waits without one, like any outage.
func ClassifyCreate(err error) messages.Failure {
	f := Classify(err)
	if f.Reason == messages.ReasonUpstreamDown && (f.Code == "network" || f.Code == "timeout") && !neverSent(err) {
		f.Reason = messages.ReasonUpstream
	}
	return f
}

// neverSent reports a transport failure before the request could leave: dialling failed.
func neverSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// unreachable is a call that got no answer at all: KIE is down or cut off, as far as we can
// tell. Like an open breaker, it makes jobs wait rather than spend their attempts.
func unreachable(err error) messages.Failure {
	return messages.Failure{Class: messages.Transient, Reason: messages.ReasonUpstreamDown, Code: "network", Detail: err.Error()}
}

func classifyHTTP(e *Error) (messages.Class, messages.Reason) {
	s := e.HTTPStatus
	switch {
	case s == 429:
		return messages.Transient, messages.ReasonUpstream
	case s == 408 || s >= 500:
		// KIE (or the proxy in front of it) is not serving: an outage, not this job's failure.
		return messages.Transient, messages.ReasonUpstreamDown
	case e.Op == "download":
		// 403/404/410 from the result host: the link expired or is not there yet. A fresh
		// attempt (or a refreshed link) may work; the attempt budget bounds it.
		return messages.Transient, messages.ReasonUpstream
	case e.Code != 0 && e.Code != 200:
		return classifyCode(e.Code, e.Msg)
	default:
		// Wrong host or path (HTML 404), key or IP refused: configuration.
		return messages.Operator, messages.ReasonUnavailable
	}
}

func isNetwork(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}
