package testkit

import (
	"fmt"
	"strings"
	"testing"
)

// Secrets are the credentials a bot under test runs with. No log line, error or page may show
// any of them.
type Secrets struct {
	BotToken   string
	KIEKey     string
	AdminToken string
}

// Fakes are the fixed fake credentials of the harness and the tests.
var Fakes = Secrets{BotToken: BotToken, KIEKey: KIEKey, AdminToken: AdminToken}

// minSecret is the shortest value looked for: a shorter one would match by chance.
const minSecret = 8

// Leaks names every secret text shows, with how often: the bot token, its secret half (after
// the colon, which alone is enough to use the bot), the KIE key and the admin token.
func (s Secrets) Leaks(text string) []string {
	_, botSecret, _ := strings.Cut(s.BotToken, ":")
	var out []string
	for _, c := range []struct{ name, value string }{
		{"the bot token", s.BotToken},
		{"the bot token's secret half", botSecret},
		{"the KIE key", s.KIEKey},
		{"the admin token", s.AdminToken},
	} {
		if len(c.value) < minSecret {
			continue
		}
		if n := strings.Count(text, c.value); n > 0 {
			out = append(out, fmt.Sprintf("%s appears %d times", c.name, n))
		}
	}
	return out
}

// NoSecrets fails t for every secret that text (what is named by what) shows.
func NoSecrets(t testing.TB, what, text string, s Secrets) {
	t.Helper()
	for _, leak := range s.Leaks(text) {
		t.Errorf("%s: %s", what, leak)
	}
}

// LogBuffer returns a Buffer for a test's captured logs that is scanned for s when the test
// ends: every test that captures logs gets one, so no secret reaches a log unnoticed.
func LogBuffer(t testing.TB, s Secrets) *Buffer {
	b := &Buffer{}
	t.Cleanup(func() {
		t.Helper()
		NoSecrets(t, "logs", b.String(), s)
	})
	return b
}
