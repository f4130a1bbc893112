// Package config reads neurocards' configuration from the environment, fills in defaults and says
// plainly what is wrong with it.
package config

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Config is everything the bot needs to run. The zero value is not usable; start from Defaults.
type Config struct {
	TelegramToken  string
	TelegramAPIURL string
	KIEAPIKey      string
	KIEAPIURL      string
	KIEUploadURL   string
	// PublicURL, when set, is where KIE reaches the public listener to deliver task callbacks.
	PublicURL    string
	DataDir      string
	AdminAddr    string
	AdminToken   string
	AdminIDs     []int64
	StartCredits int64
	KindsFile    string
	Kinds        []Kind
	PacksFile    string
	Packs        []Pack // credit packs sold for Telegram Stars
	LogLevel     string

	// PublicAddr is where the public listener — KIE callbacks, the Telegram webhook, nothing
	// else — listens when PublicURL or WebhookURL is set. It faces the internet, so it is never
	// the admin address.
	PublicAddr string
	// WebhookURL, when set, is where Telegram delivers updates (setWebhook) instead of the bot
	// long-polling getUpdates.
	WebhookURL string
	// KIEWebhookKey is the webhookHmacKey from KIE's settings page: callbacks must then carry a
	// valid, fresh X-Webhook-Signature.
	KIEWebhookKey string

	Timing Timing
	Limits Limits
}

// Timing holds every delay and deadline, so that tests can make them short.
type Timing struct {
	JobTimeout        time.Duration // the whole job, from confirmation to delivery
	KIEAttemptTimeout time.Duration // one generation attempt: upload, createTask and polling
	UploadTimeout     time.Duration // one delivery attempt's upload to Telegram
	PollMin, PollMax  time.Duration // recordInfo polling backoff
	PollDense         time.Duration // recordInfo pace where a result is likely
	PollSlow          time.Duration // recordInfo cadence while KIE calls back: what a lost callback costs at most
	RetryBase         time.Duration // first backoff before a supervisor restarts a child
	RetryMax          time.Duration
	StatusInterval    time.Duration // at most one status edit per job per interval
	StatusTick        time.Duration // how often the elapsed time in the status is refreshed
	BreakerCooldown   time.Duration // open → half-open for the KIE and Telegram breakers
	DelayedRecheck    time.Duration // how often a job parked by an open KIE breaker looks again
	TelegramPoll      time.Duration // long-poll timeout for getUpdates
	TelegramCall      time.Duration // deadline of one ordinary Bot API call
	ShutdownGrace     time.Duration // how long a stop waits for in-flight steps to persist
	// UpdatesWindow is the window Limits.UpdatesPerMinute counts in: a minute (tests shorten it).
	UpdatesWindow time.Duration
	// SessionIdle is how long a seller's session with nothing in flight stays in memory; it is
	// rebuilt from the store on their next update. 0 keeps sessions for good.
	SessionIdle time.Duration
}

// Limits holds budgets and sizes.
type Limits struct {
	GenAttempts      int
	SendAttempts     int
	BreakerFailures  int
	KIECreatePer10s  int
	TelegramPerSec   int           // messages per second to all chats
	TelegramPerChat  time.Duration // minimum spacing of messages to one chat
	MaxResultBytes   int64         // results larger than this are not downloaded (Telegram's cloud limit is 50 MB)
	MaxPhotoBytes    int64
	MinPhotoSide     int
	MaxPhotoSide     int   // a longer side is refused: an image header is not trusted beyond this
	MaxPhotoPixels   int64 // width × height
	MaxProductText   int
	JobsPerSeller    int // jobs in flight per seller
	UpdatesPerMinute int // updates accepted per seller per minute
}

// Defaults returns the configuration used when nothing is set.
func Defaults() Config {
	return Config{
		TelegramAPIURL: "https://api.telegram.org",
		KIEAPIURL:      "https://api.kie.ai",
		KIEUploadURL:   "https://kieai.redpandaai.co",
		DataDir:        "./data",
		AdminAddr:      "127.0.0.1:8080",
		PublicAddr:     "127.0.0.1:8081",
		StartCredits:   20,
		Kinds:          DefaultKinds(),
		Packs:          DefaultPacks(),
		LogLevel:       "info",
		Timing: Timing{
			JobTimeout:        30 * time.Minute,
			KIEAttemptTimeout: 10 * time.Minute,
			UploadTimeout:     3 * time.Minute,
			PollMin:           2 * time.Second,
			PollMax:           30 * time.Second,
			PollDense:         7 * time.Second,
			PollSlow:          2 * time.Minute,
			RetryBase:         2 * time.Second,
			RetryMax:          time.Minute,
			StatusInterval:    3 * time.Second,
			StatusTick:        15 * time.Second,
			BreakerCooldown:   30 * time.Second,
			DelayedRecheck:    5 * time.Second,
			TelegramPoll:      50 * time.Second,
			TelegramCall:      15 * time.Second,
			ShutdownGrace:     8 * time.Second,
			UpdatesWindow:     time.Minute,
			SessionIdle:       10 * time.Minute,
		},
		Limits: Limits{
			GenAttempts:      3,
			SendAttempts:     3,
			BreakerFailures:  5,
			KIECreatePer10s:  20,
			TelegramPerSec:   30,
			TelegramPerChat:  time.Second,
			MaxResultBytes:   50 << 20,
			MaxPhotoBytes:    10 << 20,
			MinPhotoSide:     300,
			MaxPhotoSide:     8000,
			MaxPhotoPixels:   40_000_000,
			MaxProductText:   1000,
			JobsPerSeller:    2,
			UpdatesPerMinute: 30,
		},
	}
}

// Kind returns the kind with the given id.
func (c Config) Kind(id string) (Kind, bool) {
	for _, k := range c.Kinds {
		if k.ID == id {
			return k, true
		}
	}
	return Kind{}, false
}

// IsAdmin reports whether the Telegram user may use the operator commands.
func (c Config) IsAdmin(userID int64) bool {
	for _, id := range c.AdminIDs {
		if id == userID {
			return true
		}
	}
	return false
}

// Problems lists everything wrong with the configuration, one sentence each, in the words of the
// environment variables an operator sets.
type Problems []string

func (p Problems) Error() string {
	return "configuration:\n  - " + strings.Join(p, "\n  - ")
}

// FromEnv reads the configuration from the process environment.
func FromEnv() (Config, error) { return Load(os.LookupEnv) }

// Load reads the configuration through lookup (os.LookupEnv in production) on top of Defaults.
// It returns every problem at once rather than the first.
func Load(lookup func(string) (string, bool)) (Config, error) {
	c := Defaults()
	var p Problems
	r := reader{lookup: lookup, problems: &p}

	r.str("NEUROCARDS_TELEGRAM_TOKEN", &c.TelegramToken)
	r.url("NEUROCARDS_TELEGRAM_API_URL", &c.TelegramAPIURL)
	r.str("NEUROCARDS_KIE_API_KEY", &c.KIEAPIKey)
	r.url("NEUROCARDS_KIE_API_URL", &c.KIEAPIURL)
	r.url("NEUROCARDS_KIE_UPLOAD_URL", &c.KIEUploadURL)
	r.url("NEUROCARDS_PUBLIC_URL", &c.PublicURL)
	r.str("NEUROCARDS_PUBLIC_ADDR", &c.PublicAddr)
	r.url("NEUROCARDS_WEBHOOK_URL", &c.WebhookURL)
	r.str("NEUROCARDS_KIE_WEBHOOK_KEY", &c.KIEWebhookKey)
	r.str("NEUROCARDS_DATA_DIR", &c.DataDir)
	r.str("NEUROCARDS_ADMIN_ADDR", &c.AdminAddr)
	r.str("NEUROCARDS_ADMIN_TOKEN", &c.AdminToken)
	r.ids("NEUROCARDS_ADMIN_IDS", &c.AdminIDs)
	r.int64("NEUROCARDS_START_CREDITS", &c.StartCredits, 0)
	r.str("NEUROCARDS_KINDS_FILE", &c.KindsFile)
	r.str("NEUROCARDS_PACKS_FILE", &c.PacksFile)
	r.packs("NEUROCARDS_PACKS", &c.Packs)
	r.str("NEUROCARDS_LOG_LEVEL", &c.LogLevel)

	t := &c.Timing
	r.dur("NEUROCARDS_JOB_TIMEOUT", &t.JobTimeout)
	r.dur("NEUROCARDS_KIE_ATTEMPT_TIMEOUT", &t.KIEAttemptTimeout)
	r.dur("NEUROCARDS_UPLOAD_TIMEOUT", &t.UploadTimeout)
	r.dur("NEUROCARDS_KIE_POLL_MIN", &t.PollMin)
	r.dur("NEUROCARDS_KIE_POLL_MAX", &t.PollMax)
	r.dur("NEUROCARDS_KIE_POLL_DENSE", &t.PollDense)
	r.dur("NEUROCARDS_KIE_POLL_SLOW", &t.PollSlow)
	r.dur("NEUROCARDS_RETRY_BASE", &t.RetryBase)
	r.dur("NEUROCARDS_RETRY_MAX", &t.RetryMax)
	r.dur("NEUROCARDS_STATUS_INTERVAL", &t.StatusInterval)
	r.dur("NEUROCARDS_STATUS_TICK", &t.StatusTick)
	r.dur("NEUROCARDS_BREAKER_COOLDOWN", &t.BreakerCooldown)
	r.dur("NEUROCARDS_DELAYED_RECHECK", &t.DelayedRecheck)
	r.dur("NEUROCARDS_TELEGRAM_POLL_TIMEOUT", &t.TelegramPoll)
	r.dur("NEUROCARDS_TELEGRAM_CALL_TIMEOUT", &t.TelegramCall)
	r.dur("NEUROCARDS_SHUTDOWN_GRACE", &t.ShutdownGrace)
	r.dur("NEUROCARDS_SESSION_IDLE", &t.SessionIdle)

	l := &c.Limits
	r.int("NEUROCARDS_GEN_ATTEMPTS", &l.GenAttempts, 1)
	r.int("NEUROCARDS_SEND_ATTEMPTS", &l.SendAttempts, 1)
	r.int("NEUROCARDS_BREAKER_FAILURES", &l.BreakerFailures, 1)
	r.int("NEUROCARDS_KIE_CREATE_PER_10S", &l.KIECreatePer10s, 1)
	r.int("NEUROCARDS_TELEGRAM_PER_SECOND", &l.TelegramPerSec, 1)
	r.dur("NEUROCARDS_TELEGRAM_PER_CHAT", &l.TelegramPerChat)
	r.int("NEUROCARDS_JOBS_PER_SELLER", &l.JobsPerSeller, 1)
	r.int("NEUROCARDS_UPDATES_PER_MINUTE", &l.UpdatesPerMinute, 1)

	if c.KindsFile != "" {
		kinds, err := LoadKinds(c.KindsFile)
		if err != nil {
			p = append(p, fmt.Sprintf("NEUROCARDS_KINDS_FILE: %v", err))
		} else {
			c.Kinds = kinds
		}
	}
	if c.PacksFile != "" {
		if _, set := r.get("NEUROCARDS_PACKS"); set {
			p = append(p, "NEUROCARDS_PACKS and NEUROCARDS_PACKS_FILE are both set: keep one")
		}
		packs, err := LoadPacks(c.PacksFile)
		if err != nil {
			p = append(p, fmt.Sprintf("NEUROCARDS_PACKS_FILE: %v", err))
		} else {
			c.Packs = packs
		}
	}
	p = append(p, c.check()...)
	if len(p) > 0 {
		return c, p
	}
	return c, nil
}

// RequireTokens reports the secrets that `neurocards run` cannot do without.
func (c Config) RequireTokens() error {
	var p Problems
	if c.TelegramToken == "" {
		p = append(p, "NEUROCARDS_TELEGRAM_TOKEN is not set: the bot token from @BotFather")
	}
	if c.KIEAPIKey == "" {
		p = append(p, "NEUROCARDS_KIE_API_KEY is not set: the API key from https://kie.ai/api-key")
	}
	if len(p) > 0 {
		return p
	}
	return nil
}

// telegramToken is the shape of a bot token: the bot's id, a colon and its secret (35
// characters today; a little slack either way in case Telegram changes it).
var telegramToken = regexp.MustCompile(`^[0-9]{1,20}:[A-Za-z0-9_-]{30,64}$`)

// ValidTelegramToken reports whether token has the shape of a Telegram bot token. A token of
// any other shape cannot work, and one with characters a URL cannot hold would be printed
// whole in the errors of the URL parser.
func ValidTelegramToken(token string) bool { return telegramToken.MatchString(token) }

// MaxCredits bounds any number of credits the configuration names (a price, a pack, the start
// bonus): the ledger refuses a row of more than store.MaxAmount, which is the same number.
const MaxCredits = 1_000_000_000

func (c Config) check() Problems {
	var p Problems
	if _, _, err := net.SplitHostPort(c.AdminAddr); err != nil {
		p = append(p, fmt.Sprintf("NEUROCARDS_ADMIN_ADDR %q is not host:port", c.AdminAddr))
	}
	if c.DataDir == "" {
		p = append(p, "NEUROCARDS_DATA_DIR is empty")
	}
	if c.TelegramToken != "" && !ValidTelegramToken(c.TelegramToken) {
		p = append(p, "NEUROCARDS_TELEGRAM_TOKEN is not a bot token: @BotFather gives one like 123456789:AAH… "+
			"(the bot's number, a colon, about 35 letters, digits, - and _); copy it again")
	}
	if c.StartCredits > MaxCredits {
		p = append(p, fmt.Sprintf("NEUROCARDS_START_CREDITS must be at most %d", MaxCredits))
	}
	t := c.Timing
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"NEUROCARDS_JOB_TIMEOUT", t.JobTimeout}, {"NEUROCARDS_KIE_ATTEMPT_TIMEOUT", t.KIEAttemptTimeout},
		{"NEUROCARDS_UPLOAD_TIMEOUT", t.UploadTimeout}, {"NEUROCARDS_KIE_POLL_MIN", t.PollMin},
		{"NEUROCARDS_KIE_POLL_MAX", t.PollMax}, {"NEUROCARDS_KIE_POLL_SLOW", t.PollSlow},
		{"NEUROCARDS_RETRY_BASE", t.RetryBase},
		{"NEUROCARDS_RETRY_MAX", t.RetryMax}, {"NEUROCARDS_STATUS_TICK", t.StatusTick},
		{"NEUROCARDS_BREAKER_COOLDOWN", t.BreakerCooldown}, {"NEUROCARDS_DELAYED_RECHECK", t.DelayedRecheck},
		{"NEUROCARDS_TELEGRAM_CALL_TIMEOUT", t.TelegramCall},
	} {
		if d.v <= 0 {
			p = append(p, fmt.Sprintf("%s must be positive", d.name))
		}
	}
	if t.TelegramPoll < 2*time.Second {
		p = append(p, "NEUROCARDS_TELEGRAM_POLL_TIMEOUT must be at least 2s (shorter makes getUpdates a busy loop)")
	}
	if t.PollMax < t.PollMin {
		p = append(p, "NEUROCARDS_KIE_POLL_MAX must not be below NEUROCARDS_KIE_POLL_MIN")
	}
	if t.KIEAttemptTimeout > t.JobTimeout {
		p = append(p, "NEUROCARDS_KIE_ATTEMPT_TIMEOUT must not exceed NEUROCARDS_JOB_TIMEOUT")
	}
	if t.PollSlow < t.PollMin {
		p = append(p, "NEUROCARDS_KIE_POLL_SLOW must not be below NEUROCARDS_KIE_POLL_MIN")
	}
	p = append(p, c.checkPublic()...)
	p = append(p, validateKinds(c.Kinds)...)
	p = append(p, validatePacks(c.Packs)...)
	return p
}

// reader parses variables and collects problems instead of stopping at the first.
type reader struct {
	lookup   func(string) (string, bool)
	problems *Problems
}

func (r reader) get(name string) (string, bool) {
	v, ok := r.lookup(name)
	v = strings.TrimSpace(v)
	return v, ok && v != ""
}

func (r reader) bad(name, v, want string) {
	*r.problems = append(*r.problems, fmt.Sprintf("%s=%q: %s", name, v, want))
}

func (r reader) str(name string, dst *string) {
	if v, ok := r.get(name); ok {
		*dst = v
	}
}

func (r reader) url(name string, dst *string) {
	v, ok := r.get(name)
	if !ok {
		return
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		r.bad(name, v, "want an http:// or https:// URL")
		return
	}
	*dst = strings.TrimRight(v, "/")
}

func (r reader) int(name string, dst *int, min int) {
	v, ok := r.get(name)
	if !ok {
		return
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min {
		r.bad(name, v, fmt.Sprintf("want a whole number ≥ %d", min))
		return
	}
	*dst = n
}

func (r reader) int64(name string, dst *int64, min int64) {
	v, ok := r.get(name)
	if !ok {
		return
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < min {
		r.bad(name, v, fmt.Sprintf("want a whole number ≥ %d", min))
		return
	}
	*dst = n
}

func (r reader) dur(name string, dst *time.Duration) {
	v, ok := r.get(name)
	if !ok {
		return
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		// A bare number is seconds; one past what a Duration holds would wrap around.
		if secs, err2 := strconv.ParseInt(v, 10, 64); err2 == nil && secs <= int64(maxDuration/time.Second) {
			d, err = time.Duration(secs)*time.Second, nil
		}
	}
	if err != nil || d < 0 {
		r.bad(name, v, "want a duration such as 30s, 10m or a number of seconds")
		return
	}
	*dst = d
}

const maxDuration = time.Duration(1<<63 - 1)

func (r reader) packs(name string, dst *[]Pack) {
	v, ok := r.get(name)
	if !ok {
		return
	}
	packs, err := ParsePacks(v)
	if err != nil {
		r.bad(name, v, "want credits:stars pairs separated by commas, e.g. 10:50,50:225,200:800")
		return
	}
	*dst = packs
}

func (r reader) ids(name string, dst *[]int64) {
	v, ok := r.get(name)
	if !ok {
		return
	}
	var out []int64
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == ';' }) {
		id, err := strconv.ParseInt(f, 10, 64)
		if err != nil || id <= 0 {
			r.bad(name, v, "want Telegram user ids separated by commas")
			return
		}
		out = append(out, id)
	}
	*dst = out
}
