package kie

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"

	"neurocards/messages"
)

// Every failure message quoted in kie-api.md §4.2 and §4.3, as a task's failCode/failMsg.
func TestClassifyRecord(t *testing.T) {
	const (
		transient = messages.Transient
		user      = messages.User
		operator  = messages.Operator
	)
	tests := []struct {
		code, msg string
		class     messages.Class
		reason    messages.Reason
	}{
		// §4.2 row 400 and §4.3: content policy.
		{"400", "Your prompt was flagged by Website as violating content policies", user, messages.ReasonContentPolicy},
		{"400", "public error unsafe image upload", user, messages.ReasonContentPolicy},
		{"400", "public error minor upload", user, messages.ReasonContentPolicy},
		{"400", "public error prominent people upload", user, messages.ReasonContentPolicy},
		{"400", "The current content could not be processed", user, messages.ReasonContentPolicy},
		{"400", "Sorry, but the image we created may violate OpenAI's content policy", user, messages.ReasonContentPolicy},
		{"400", "Prompt rejected", user, messages.ReasonContentPolicy},
		{"400", "Inappropriate content detected", user, messages.ReasonContentPolicy},
		{"400", "The prompt was caught by the AI moderator", user, messages.ReasonContentPolicy},
		{"400", "NSFW content is not allowed", user, messages.ReasonContentPolicy},
		{"400", "The input contains sensitive information", user, messages.ReasonContentPolicy},
		{"422", "Your request was rejected by Flow(The prompt violates our policies)", user, messages.ReasonContentPolicy},
		// §4.2 rows 400/422/451: KIE could not fetch our uploaded photo → re-upload and retry.
		{"400", "Failed to fetch the image. Kindly verify any access limits set by you or your service provider.", transient, messages.ReasonUpstream},
		{"422", "Your media file is unavailable, please replace it.", transient, messages.ReasonUpstream},
		{"451", "Failed to download the image from the given URL", transient, messages.ReasonUpstream},
		// §4.2 row 400: our prompt template.
		{"400", "Only English prompts are supported at this time", operator, messages.ReasonUnavailable},
		// §4.3 and the Runway callback messages: the photo itself.
		{"400", "Wrong image format", user, messages.ReasonBadPhoto},
		{"400", "Unsupported width or height", user, messages.ReasonBadPhoto},
		{"400", "Image file size exceeds the limit", user, messages.ReasonBadPhoto},
		{"400", "The image is too small: the shorter side must be at least 300px", user, messages.ReasonBadPhoto},
		{"400", "Invalid image: cannot identify image file", user, messages.ReasonBadPhoto},
		// §4.2 row 500 and §4.3: transient.
		{"500", "Internal Error, Please try again later.", transient, messages.ReasonUpstream},
		{"500", "Internal Error - Timeout", transient, messages.ReasonUpstream},
		{"500", "Internal server error", transient, messages.ReasonUpstream},
		{"400", "1080P is processing. It should be ready in 1-2 minutes", transient, messages.ReasonUpstream},
		{"500", "", transient, messages.ReasonUpstream},
		// §4.2 row 501 and §4.3 "anything else": transient, bounded by the attempt budget.
		{"501", "Generation failed", transient, messages.ReasonUpstream},
		{"", "", transient, messages.ReasonUpstream},
		{"", "something nobody has seen before", transient, messages.ReasonUpstream},
	}
	for _, tt := range tests {
		t.Run(tt.code+" "+tt.msg, func(t *testing.T) {
			got := ClassifyRecord(Record{TaskID: "t", State: StateFail, FailCode: tt.code, FailMsg: tt.msg})
			if got.Class != tt.class || got.Reason != tt.reason {
				t.Fatalf("got %s/%s, want %s/%s", got.Class, got.Reason, tt.class, tt.reason)
			}
			wantCode := "fail " + tt.code
			if tt.code == "" {
				wantCode = "fail"
			}
			if got.Code != wantCode || got.Detail != tt.msg {
				t.Fatalf("code/detail = %q/%q, want %q/%q", got.Code, got.Detail, wantCode, tt.msg)
			}
		})
	}
}

func TestClassifyRecordNotFailed(t *testing.T) {
	for _, s := range []State{StateWaiting, StateGenerating, StateSuccess} {
		if got := ClassifyRecord(Record{State: s}); got != (messages.Failure{}) {
			t.Errorf("%s: got %v, want the zero Failure", s, got)
		}
	}
}

// Every body code in kie-api.md §4.2, as a synchronous call's answer.
func TestClassifyBodyCode(t *testing.T) {
	tests := []struct {
		op     string
		code   int
		msg    string
		class  messages.Class
		reason messages.Reason
	}{
		{"create task", 401, "You do not have access permissions", messages.Operator, messages.ReasonUnavailable},
		{"create task", 401, "Unauthorized - Authentication failed.", messages.Operator, messages.ReasonUnavailable},
		{"create task", 402, "The current credits are insufficient. Please top up.", messages.Operator, messages.ReasonUnavailable},
		{"create task", 404, "Not Found", messages.Operator, messages.ReasonUnavailable},
		{"upload", 405, "Method not allowed", messages.Operator, messages.ReasonUnavailable},
		{"create task", 422, "The page does not exist or is not published", messages.Operator, messages.ReasonUnavailable},
		{"create task", 422, "prompt is required", messages.Operator, messages.ReasonUnavailable},
		{"create task", 422, "Your request was rejected by Flow(prominent people)", messages.User, messages.ReasonContentPolicy},
		{"record info", 422, "recordInfo is null", messages.Transient, messages.ReasonUpstream},
		{"record info", 422, "record is null", messages.Transient, messages.ReasonUpstream},
		{"create task", 429, "Too many requests", messages.Transient, messages.ReasonUpstream},
		{"create task", 433, "The current number of points used by apiKey has exceeded the daily limit", messages.Operator, messages.ReasonUnavailable},
		{"create task", 451, "Failed to fetch the image", messages.Transient, messages.ReasonUpstream},
		{"create task", 455, "Service unavailable", messages.Transient, messages.ReasonUpstream},
		{"create task", 500, "Internal Error, Please try again later.", messages.Transient, messages.ReasonUpstream},
		{"create task", 501, "Generation failed", messages.Transient, messages.ReasonUpstream},
		{"create task", 505, "The feature is disabled", messages.Operator, messages.ReasonUnavailable},
		{"upload", 400, "Missing required parameter: uploadPath", messages.Operator, messages.ReasonUnavailable},
		{"create task", 400, "Your prompt was flagged by Website as violating content policies", messages.User, messages.ReasonContentPolicy},
		{"create task", 400, "1080P is processing. It should be ready in 1-2 minutes", messages.Transient, messages.ReasonUpstream},
		{"create task", 599, "never seen", messages.Transient, messages.ReasonUpstream},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.code, " ", tt.msg), func(t *testing.T) {
			got := Classify(&Error{Op: tt.op, Code: tt.code, Msg: tt.msg})
			if got.Class != tt.class || got.Reason != tt.reason {
				t.Fatalf("got %s/%s, want %s/%s", got.Class, got.Reason, tt.class, tt.reason)
			}
			if got.Code != fmt.Sprint(tt.code) || got.Detail != tt.msg {
				t.Fatalf("code/detail = %q/%q", got.Code, got.Detail)
			}
		})
	}
}

func TestClassifyErrors(t *testing.T) {
	netErr := &url.Error{Op: "Post", URL: "https://api.kie.ai/api/v1/jobs/createTask", Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}}
	tests := []struct {
		name   string
		err    error
		class  messages.Class
		reason messages.Reason
		code   string
		retry  time.Duration
	}{
		{"nil", nil, "", "", "", 0},
		{"network", &Error{Op: "create task", Err: netErr}, messages.Transient, messages.ReasonUpstreamDown, "network", 0},
		{"connection closed", &Error{Op: "record info", Err: &url.Error{Op: "Get", URL: "x", Err: io.EOF}}, messages.Transient, messages.ReasonUpstreamDown, "network", 0},
		{"own deadline", &Error{Op: "record info", Err: &url.Error{Op: "Get", URL: "x", Err: context.DeadlineExceeded}}, messages.Transient, messages.ReasonUpstreamDown, "timeout", 0},
		{"bare deadline", context.DeadlineExceeded, messages.Transient, messages.ReasonUpstreamDown, "timeout", 0},
		{"canceled", &Error{Op: "record info", Err: &url.Error{Op: "Get", URL: "x", Err: context.Canceled}}, messages.Transient, messages.ReasonUpstream, "canceled", 0},
		{"breaker open", &Error{Op: "create task", Err: gobreaker.ErrOpenState}, messages.Transient, messages.ReasonUpstreamDown, "breaker open", 0},
		{"breaker half-open", &Error{Op: "upload", Err: gobreaker.ErrTooManyRequests}, messages.Transient, messages.ReasonUpstreamDown, "breaker half-open", 0},
		{"rate limit", &Error{Op: "create task", Err: fmt.Errorf("%w: would exceed deadline", errRateLimited)}, messages.Transient, messages.ReasonUpstream, "rate limit", 0},
		{"http 502 html", &Error{Op: "create task", HTTPStatus: 502, Msg: "<html>bad gateway</html>"}, messages.Transient, messages.ReasonUpstreamDown, "http 502", 0},
		{"http 503", &Error{Op: "credit", HTTPStatus: 503}, messages.Transient, messages.ReasonUpstreamDown, "http 503", 0},
		{"http 429 retry-after", &Error{Op: "create task", HTTPStatus: 429, RetryAfter: 7 * time.Second}, messages.Transient, messages.ReasonUpstream, "http 429", 7 * time.Second},
		{"http 404 html wrong host", &Error{Op: "upload", HTTPStatus: 404, Msg: "<html>404</html>"}, messages.Operator, messages.ReasonUnavailable, "http 404", 0},
		{"http 401", &Error{Op: "credit", HTTPStatus: 401}, messages.Operator, messages.ReasonUnavailable, "http 401", 0},
		{"http 400 with body code 402", &Error{Op: "credit", HTTPStatus: 400, Code: 402}, messages.Operator, messages.ReasonUnavailable, "http 400", 0},
		{"download expired 404", &Error{Op: "download", HTTPStatus: 404}, messages.Transient, messages.ReasonUpstream, "http 404", 0},
		{"download expired 403", &Error{Op: "download", HTTPStatus: 403}, messages.Transient, messages.ReasonUpstream, "http 403", 0},
		{"download expired 410", &Error{Op: "download", HTTPStatus: 410}, messages.Transient, messages.ReasonUpstream, "http 410", 0},
		{"download too large", tooLarge(10), messages.Operator, messages.ReasonUnavailable, "too large", 0},
		{"download disk", &Error{Op: "download", Err: errors.New("no space left on device"), local: true}, messages.Internal, messages.ReasonInternal, "local", 0},
		{"not an envelope", &Error{Op: "create task", Msg: "answer is not a KIE envelope: <html>"}, messages.Transient, messages.ReasonUpstreamDown, "bad answer", 0},
		{"already classified", fmt.Errorf("wrapped: %w", messages.Failure{Class: messages.User, Reason: messages.ReasonBadPhoto}), messages.User, messages.ReasonBadPhoto, "", 0},
		{"foreign error", errors.New("boom"), messages.Internal, messages.ReasonInternal, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Classify(tt.err)
			if got.Class != tt.class || got.Reason != tt.reason || got.Code != tt.code || got.RetryAfter != tt.retry {
				t.Fatalf("got %+v, want %s/%s code %q retry %v", got, tt.class, tt.reason, tt.code, tt.retry)
			}
		})
	}
}
