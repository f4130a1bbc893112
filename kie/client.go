// Package kie is the one client for the KIE API (market jobs, file upload, credits) and the one
// place that turns its errors into messages.Failure.
//
// The client never retries: every call is one attempt bounded by the caller's ctx, and the job
// supervisor decides what to do with the classified failure.
package kie

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sony/gobreaker/v2"
	"golang.org/x/time/rate"

	"neurocards/messages"
	"neurocards/metrics"
)

// Config configures a Client. The zero value of every field but the URLs and the key is usable.
type Config struct {
	APIURL    string // e.g. https://api.kie.ai
	UploadURL string // e.g. https://kieai.redpandaai.co
	APIKey    string
	// HTTP is the client for every call; nil means one with transport timeouts but no overall
	// Timeout, since every call carries a ctx deadline.
	HTTP *http.Client
	// CreatePer10s caps createTask calls in any 10 s window; 0 means 20, KIE's documented limit; a
	// negative value leaves pacing to the caller (the bot's actors.Line paces every createTask).
	CreatePer10s int
	// BreakerFailures is how many consecutive failures open the breaker; 0 means 5.
	BreakerFailures int
	// BreakerCooldown is how long the breaker stays open before it lets one call through; 0 means 30 s.
	BreakerCooldown time.Duration
	// CreateTimeout bounds one createTask call once it is sent; 0 means 7 s. It is kept under the
	// shutdown grace: a stopping bot waits for the answer rather than lose a task KIE bills for.
	CreateTimeout time.Duration
	Logger        *slog.Logger
	// Metrics counts every call by method and outcome, its latency, and 429s; nil counts nothing.
	Metrics *metrics.Metrics
}

// Client talks to KIE. It is safe for concurrent use.
type Client struct {
	apiURL    string
	uploadURL string
	key       string
	http      *http.Client
	create    *rate.Limiter
	breaker   *gobreaker.CircuitBreaker[struct{}]
	log       *slog.Logger
	metrics   *metrics.Metrics

	createTimeout time.Duration
}

// maxConnsPerHost bounds the connections to each KIE host: enough for hundreds of reads a
// second at a real network's latency.
const maxConnsPerHost = 64

const maxAPIBody = 1 << 20 // an API answer is a few hundred bytes; anything near this is not KIE

// New returns a Client for cfg.
func New(cfg Config) *Client {
	c := &Client{
		apiURL:    strings.TrimRight(cfg.APIURL, "/"),
		uploadURL: strings.TrimRight(cfg.UploadURL, "/"),
		key:       cfg.APIKey,
		http:      cfg.HTTP,
		log:       cfg.Logger,
		metrics:   cfg.Metrics,

		createTimeout: cfg.CreateTimeout,
	}
	if c.createTimeout <= 0 {
		c.createTimeout = 7 * time.Second
	}
	if c.http == nil {
		c.http = &http.Client{Transport: defaultTransport()}
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if cfg.CreatePer10s >= 0 {
		c.create = NewCreateLimiter(cfg.CreatePer10s)
	}
	c.breaker = newBreaker(cfg.BreakerFailures, cfg.BreakerCooldown, c.log, cfg.Metrics)
	return c
}

func defaultTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 10 * time.Second
	// Starts once the request body is sent, so it bounds a silent server, not a long upload.
	t.ResponseHeaderTimeout = 60 * time.Second
	t.IdleConnTimeout = 90 * time.Second
	// Thousands of jobs read their tasks on their own timers (all at once after a restart): they
	// share a bounded set of kept-alive connections and queue for one, rather than each dialling
	// (and on a real KIE, shaking hands over TLS) and holding its own buffers and goroutines.
	t.MaxConnsPerHost = maxConnsPerHost
	t.MaxIdleConnsPerHost = maxConnsPerHost
	return t
}

// NewCreateLimiter returns a token bucket that lets at most n createTask calls out in ANY 10 s
// window. A bucket of burst b refilled at r per second admits at most b + 10·r events in 10 s
// (b saved-up tokens plus what drips in), so with b = n/4 and r = (n−b)/10 s the worst window
// holds exactly n, while a quiet client can still fire b calls at once. For n = 20: burst 5,
// 1.5 per second.
// 0 means 20.
func NewCreateLimiter(n int) *rate.Limiter {
	if n <= 0 {
		n = 20
	}
	burst := max(n/4, 1)
	if n == 1 {
		// b + 10·r = 1 leaves no room for a refill: one call per (just over) 10 s instead.
		return rate.NewLimiter(rate.Every(10*time.Second+time.Millisecond), 1)
	}
	return rate.NewLimiter(rate.Limit(float64(n-burst)/10), burst)
}

// BreakerState returns "closed", "open" or "half-open".
func (c *Client) BreakerState() string { return c.breaker.State().String() }

// guard runs one upstream call through the breaker. A rejected call comes back as an *Error
// wrapping gobreaker.ErrOpenState or ErrTooManyRequests.
func guard[T any](c *Client, op string, call func() (T, error)) (T, error) {
	var out T
	_, err := c.breaker.Execute(func() (struct{}, error) {
		var err error
		out, err = call()
		return struct{}{}, err
	})
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		c.metrics.Rejected(metrics.KIE, method(op))
		return out, &Error{Op: op, Err: err}
	}
	return out, err
}

// method is an operation's name as the metrics' method label: "create task" → create_task.
func method(op string) string { return strings.ReplaceAll(op, " ", "_") }

// observe counts one call that went out: its outcome by the classifier, its latency, and a 429
// with the wait KIE asked for.
func (c *Client) observe(op string, err error, took time.Duration) {
	c.metrics.Call(metrics.KIE, method(op), metrics.Outcome(err, Classify), took)
	var e *Error
	if errors.As(err, &e) && (e.HTTPStatus == http.StatusTooManyRequests || e.Code == http.StatusTooManyRequests) {
		c.metrics.RateLimited(metrics.KIE, method(op), e.RetryAfter)
	}
}

// do sends req with the key, decodes the envelope and counts the call. It succeeds only on HTTP
// 2xx with body code 200; it returns the envelope's data.
func (c *Client) do(op string, req *http.Request) (json.RawMessage, error) {
	start := time.Now()
	data, err := c.send(op, req)
	c.observe(op, err, time.Since(start))
	return data, err
}

func (c *Client) send(op string, req *http.Request) (json.RawMessage, error) {
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, &Error{Op: op, Err: scrubErr(err, c.key)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIBody))
	if err != nil {
		return nil, &Error{Op: op, HTTPStatus: httpStatusIfBad(resp), Err: scrubErr(err, c.key)}
	}
	return c.answer(op, resp.StatusCode, resp.Header.Get("Retry-After"), body)
}

// answer reads one API answer, given its HTTP status, Retry-After header and body: the
// envelope's data on HTTP 2xx with body code 200, or the *Error it describes.
func (c *Client) answer(op string, status int, retryAfterHeader string, body []byte) (json.RawMessage, error) {
	var env envelope
	jsonErr := json.Unmarshal(body, &env)
	if status < 200 || status > 299 {
		e := &Error{Op: op, HTTPStatus: status, RetryAfter: retryAfter(retryAfterHeader, time.Now())}
		if jsonErr == nil {
			e.Code, e.Msg = env.code(), scrub(env.msg(), c.key)
		} else {
			e.Msg = c.snippet(body)
		}
		return nil, e
	}
	if jsonErr != nil || env.Code == nil {
		return nil, &Error{Op: op, Msg: "answer is not a KIE envelope: " + c.snippet(body), Err: jsonErr}
	}
	if !env.ok() {
		code := env.code()
		if code == 200 { // "success": false with code 200: never seen, but not a success either
			code = 0
		}
		return nil, &Error{Op: op, Code: code, Msg: scrub(env.msg(), c.key)}
	}
	return env.Data, nil
}

func httpStatusIfBad(resp *http.Response) int {
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode
	}
	return 0
}

// snippet keeps the start of an unexpected body (an HTML error page) for the operator's log. The key
// is scrubbed before cutting, so no prefix of it survives either.
func (c *Client) snippet(b []byte) string { return snippet([]byte(scrub(string(b), c.key))) }

func snippet(b []byte) string {
	const n = 120
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > n {
		s = s[:n]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "…"
	}
	return s
}

// MaxRetryAfter bounds how long a Retry-After from KIE (or the result host) makes a job wait.
// A longer one — a misconfigured proxy, an HTTP date years ahead — would park the job until its
// deadline; waiting this long and asking again costs one request.
const MaxRetryAfter = 5 * time.Minute

// retryAfter parses a Retry-After header: delay-seconds or an HTTP date. It is the one place a
// wait from KIE is read, and never gives less than 0 or more than MaxRetryAfter.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if s, err := strconv.ParseInt(h, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		// ParseInt gives the nearest int64 when out of range: huge stays huge, never wraps.
		if s <= 0 {
			return 0
		}
		if s >= int64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return min(t.Sub(now), MaxRetryAfter)
	}
	return 0
}

// countsAsFailure says whether a result counts against the breaker: transient and operator
// failures do; the seller's bad input and our own bugs say nothing about KIE's health.
func countsAsFailure(err error) bool {
	f := Classify(err)
	return f.Class == messages.Transient || f.Class == messages.Operator
}

func newBreaker(failures int, cooldown time.Duration, log *slog.Logger, m *metrics.Metrics) *gobreaker.CircuitBreaker[struct{}] {
	if failures <= 0 {
		failures = 5
	}
	if cooldown <= 0 {
		cooldown = 30 * time.Second
	}
	return gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        "kie",
		MaxRequests: 1,
		Timeout:     cooldown,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= uint32(failures) },
		// Runs under the breaker's mutex: log only, never touch the breaker from here.
		OnStateChange: func(name string, from, to gobreaker.State) {
			m.BreakerChanged(metrics.KIE, to.String())
			switch to {
			case gobreaker.StateOpen:
				log.Warn("kie: circuit breaker opened", "breaker", name, "from", from.String(), "cooldown", cooldown)
			case gobreaker.StateClosed:
				log.Info("kie: circuit breaker closed", "breaker", name, "from", from.String())
			default:
				log.Info("kie: circuit breaker half-open", "breaker", name, "from", from.String())
			}
		},
		IsSuccessful: func(err error) bool { return err == nil || !countsAsFailure(err) },
		IsExcluded:   excludedFromBreaker,
	})
}

// excludedFromBreaker leaves out results that say nothing about KIE's health: our own cancellation,
// and "recordInfo is null", which a healthy KIE answers for a task it has lost or not yet indexed;
// counting it would let one lost task's poller open the breaker for everybody.
func excludedFromBreaker(err error) bool {
	return errors.Is(err, context.Canceled) || IsUnknownTask(err)
}
