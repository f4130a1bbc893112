package testkit

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"neurocards/config"
)

// The fake bot token has Telegram's shape, so `neurocards run` accepts it.
func TestFakeBotTokenIsValid(t *testing.T) {
	if !config.ValidTelegramToken(BotToken) {
		t.Errorf("%s is refused by configuration", BotToken)
	}
}

// TestScanLogsFindsEverySecret: a secret in a record's message, its attributes or a logger's
// own attributes is found — the token's secret half alone too — and reported without itself.
func TestScanLogsFindsEverySecret(t *testing.T) {
	_, botSecret, _ := strings.Cut(BotToken, ":")
	for _, log := range []func(*slog.Logger){
		func(l *slog.Logger) { l.Info("GET /bot" + BotToken + "/getMe") },
		func(l *slog.Logger) { l.Warn("call failed", "err", "secret "+botSecret) },
		func(l *slog.Logger) { l.With("key", KIEKey).Error("kie") },
		func(l *slog.Logger) { l.WithGroup("admin").Info("backup", "auth", "Bearer "+AdminToken) },
	} {
		var out Buffer
		h, leaks := ScanLogs(slog.NewJSONHandler(&out, nil), Fakes)
		log(slog.New(h))
		err := leaks.Err()
		if err == nil {
			t.Errorf("not found in %s", out.String())
			continue
		}
		if len(Fakes.Leaks(err.Error())) > 0 {
			t.Errorf("the report shows the secret: %v", err)
		}
		if out.String() == "" {
			t.Error("the record did not reach the bot's own handler")
		}
	}
	h, leaks := ScanLogs(slog.NewTextHandler(io.Discard, nil), Fakes)
	slog.New(h).Info("nothing secret", "token", "123456:***")
	if err := leaks.Err(); err != nil {
		t.Errorf("a clean line: %v", err)
	}
}
