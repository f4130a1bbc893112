package telegram

import (
	"errors"
	"html"
	"net/url"
	"slices"
	"strings"
)

// redactor hides the bot token in everything that leaves the gateway: every Bot API URL holds
// the token, and go-telegram/bot puts whole response bodies into its errors, so an error page
// that echoes the request path (a proxy, a wrong NEUROCARDS_TELEGRAM_API_URL) carries it too.
type redactor struct {
	forms []string // the token and its secret half, as sent and as escaped in URLs and HTML
}

// minSecret is the shortest secret half worth hiding on its own: replacing a two-letter word
// everywhere would mangle errors and hide nothing.
const minSecret = 8

func newRedactor(token string) redactor {
	var r redactor
	add := func(s string) {
		if s == "" {
			return
		}
		for _, f := range []string{s, url.PathEscape(s), url.QueryEscape(s), html.EscapeString(s)} {
			if !slices.Contains(r.forms, f) {
				r.forms = append(r.forms, f)
			}
		}
	}
	add(token)
	if _, secret, ok := strings.Cut(token, ":"); ok && len(secret) >= minSecret {
		add(secret)
	}
	return r
}

// scrub replaces every form of the token in s.
func (r redactor) scrub(s string) string {
	for _, f := range r.forms {
		s = strings.ReplaceAll(s, f, "***")
	}
	return s
}

// errBadURL stands in for a URL parser's complaint, which quotes the piece of the URL it choked
// on: with a token that breaks parsing, that piece is part of the token.
var errBadURL = errors.New("the Bot API URL with the bot token in it does not parse: check NEUROCARDS_TELEGRAM_API_URL and NEUROCARDS_TELEGRAM_TOKEN")

// redact returns err with the token hidden from its text. The chain stays, so errors.Is and
// errors.As (and Classify) see the library's error types as before.
func (r redactor) redact(err error) error {
	if err == nil {
		return nil
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = r.scrub(ue.URL)
		if ue.Op == "parse" {
			return &redactedError{msg: "telegram: " + errBadURL.Error(), err: err}
		}
	}
	msg := err.Error()
	if clean := r.scrub(msg); clean != msg {
		return &redactedError{msg: clean, err: err}
	}
	return err
}

// redactedError is an error whose text was scrubbed of the token.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
