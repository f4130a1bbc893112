package harness

import (
	"strings"
	"testing"
)

// TestStopReportsSecretsInTheLogs: a log line with a credential in it makes Stop fail, naming
// the credential but not showing it, whatever logger the caller gave.
func TestStopReportsSecretsInTheLogs(t *testing.T) {
	env, err := Start(Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	env.App.Log.Info("calling", "url", "http://127.0.0.1/bot"+BotToken+"/getMe")
	err = env.Stop()
	if err == nil || !strings.Contains(err.Error(), "the bot token appears") {
		t.Fatalf("Stop: %v, want the token reported", err)
	}
	if strings.Contains(err.Error(), BotToken) {
		t.Errorf("the report shows the token: %v", err)
	}
}
