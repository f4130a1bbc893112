package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

func TestDefaultsNeedNothing(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.StartCredits != 20 || c.DataDir != "./data" || c.AdminAddr != "127.0.0.1:8080" || c.TelegramAPIURL != "https://api.telegram.org" {
		t.Errorf("defaults: %+v", c)
	}
	video, ok := c.Kind("video")
	if !ok || video.Model != "kling-2.6/image-to-video" || video.Price != 10 || video.Input["duration"] != "5" {
		t.Errorf("video kind: %+v", video)
	}
	card, ok := c.Kind("card")
	if !ok || card.Model != "google/nano-banana-edit" || card.Price != 3 || card.Input["image_size"] != "3:4" {
		t.Errorf("card kind: %+v", card)
	}
	if err := c.RequireTokens(); err == nil || !strings.Contains(err.Error(), "NEUROCARDS_TELEGRAM_TOKEN") || !strings.Contains(err.Error(), "NEUROCARDS_KIE_API_KEY") {
		t.Errorf("RequireTokens: %v", err)
	}
}

func TestEveryProblemIsReportedAtOnce(t *testing.T) {
	_, err := Load(env(map[string]string{
		"NEUROCARDS_KIE_API_URL":    "api.kie.ai",
		"NEUROCARDS_START_CREDITS":  "-1",
		"NEUROCARDS_JOB_TIMEOUT":    "soon",
		"NEUROCARDS_ADMIN_IDS":      "12,abc",
		"NEUROCARDS_ADMIN_ADDR":     "8080",
		"NEUROCARDS_GEN_ATTEMPTS":   "0",
		"NEUROCARDS_TELEGRAM_TOKEN": "12 34",
		"NEUROCARDS_KINDS_FILE":     "/nonexistent/kinds.yaml",
		"NEUROCARDS_KIE_POLL_MIN":   "10s",
		"NEUROCARDS_KIE_POLL_MAX":   "1s",
	}))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"NEUROCARDS_KIE_API_URL", "NEUROCARDS_START_CREDITS", "NEUROCARDS_JOB_TIMEOUT",
		"NEUROCARDS_ADMIN_IDS", "NEUROCARDS_ADMIN_ADDR", "NEUROCARDS_GEN_ATTEMPTS", "NEUROCARDS_TELEGRAM_TOKEN",
		"NEUROCARDS_KINDS_FILE", "NEUROCARDS_KIE_POLL_MAX"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not name %s:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "12 34") {
		t.Error("the error repeats the token's value")
	}
}

func TestValuesAreParsed(t *testing.T) {
	c, err := Load(env(map[string]string{
		"NEUROCARDS_TELEGRAM_TOKEN": "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
		"NEUROCARDS_KIE_API_KEY":    "key",
		"NEUROCARDS_KIE_API_URL":    "http://127.0.0.1:9000/",
		"NEUROCARDS_ADMIN_IDS":      "7, 8",
		"NEUROCARDS_JOB_TIMEOUT":    "45m",
		"NEUROCARDS_UPLOAD_TIMEOUT": "90",
		"NEUROCARDS_START_CREDITS":  "0",
		"NEUROCARDS_SEND_ATTEMPTS":  "5",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.KIEAPIURL != "http://127.0.0.1:9000" || !c.IsAdmin(8) || c.IsAdmin(9) || c.Timing.JobTimeout != 45*time.Minute ||
		c.Timing.UploadTimeout != 90*time.Second || c.StartCredits != 0 || c.Limits.SendAttempts != 5 {
		t.Errorf("parsed: %+v", c)
	}
	if err := c.RequireTokens(); err != nil {
		t.Error(err)
	}
}

func TestKindsFileJSONAndValidation(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "kinds.json")
	os.WriteFile(good, []byte(`[{"id":"clip","title":{"ru":"Клип","en":"Clip"},"model":"kling-2.6/image-to-video","output":"video","price":4,"prompt":"Clip of {product}","image_field":"image_url"}]`), 0o600)
	c, err := Load(env(map[string]string{"NEUROCARDS_KINDS_FILE": good}))
	if err != nil {
		t.Fatal(err)
	}
	k, ok := c.Kind("clip")
	if !ok || len(c.Kinds) != 1 {
		t.Fatalf("kinds: %+v", c.Kinds)
	}
	in := k.TaskInput("кеды", "http://up/p.jpg")
	if in["image_url"] != "http://up/p.jpg" || in["prompt"] != "Clip of кеды" {
		t.Errorf("task input: %+v", in)
	}
	if p := k.PromptFor(""); !strings.Contains(p, "the product in the photo") {
		t.Errorf("empty product: %q", p)
	}

	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("- id: Bad Id\n  price: 0\n  output: gif\n  prompt: no placeholder\n"), 0o600)
	_, err = Load(env(map[string]string{"NEUROCARDS_KINDS_FILE": bad}))
	for _, want := range []string{"id must be", "model is empty", "output must be", "price must be", "title needs", "{product}"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("bad kinds: want %q in %v", want, err)
		}
	}
}

// TestTelegramTokenShape: a token that cannot be Telegram's is refused at start, without the
// error repeating it; every token of the right shape passes.
func TestTelegramTokenShape(t *testing.T) {
	for _, token := range []string{
		"123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
		"1:abcdefghijklmnopqrstuvwxyz_-0123456789",
	} {
		if _, err := Load(env(map[string]string{"NEUROCARDS_TELEGRAM_TOKEN": token})); err != nil {
			t.Errorf("%s refused: %v", token, err)
		}
	}
	for _, token := range []string{
		"123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PAL%zz",   // breaks a URL
		"123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PAL/../x", // changes the path
		"123456789:AAHdqTcvCH1vGWJxf?eofSAs0K5PALDsaw",  // starts a query
		"AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",            // the secret half alone
		"bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
		"123456789:short",
	} {
		_, err := Load(env(map[string]string{"NEUROCARDS_TELEGRAM_TOKEN": token}))
		if err == nil || !strings.Contains(err.Error(), "NEUROCARDS_TELEGRAM_TOKEN is not a bot token") {
			t.Errorf("%s: %v, want the token refused", token, err)
			continue
		}
		_, secret, _ := strings.Cut(token, ":")
		if strings.Contains(err.Error(), token) || (len(secret) > 8 && strings.Contains(err.Error(), secret)) {
			t.Errorf("the error repeats the token: %v", err)
		}
	}
}

// TestCreditsAndDurationsInRange: numbers the ledger or a Duration cannot hold are refused at
// start instead of wrapping around.
func TestCreditsAndDurationsInRange(t *testing.T) {
	dir := t.TempDir()
	kinds := filepath.Join(dir, "kinds.json")
	os.WriteFile(kinds, []byte(`[{"id":"clip","title":{"ru":"Клип","en":"Clip"},"model":"m","output":"video","price":1000000001,"prompt":"{product}"}]`), 0o600)
	_, err := Load(env(map[string]string{
		"NEUROCARDS_START_CREDITS": "1000000001",
		"NEUROCARDS_PACKS":         "9223372036854775807:50",
		"NEUROCARDS_KINDS_FILE":    kinds,
		"NEUROCARDS_JOB_TIMEOUT":   "9223372037", // seconds: past what a Duration holds
	}))
	for _, want := range []string{"NEUROCARDS_START_CREDITS must be at most 1000000000", "pack 9223372036854775807: credits must be positive, at most 1000000000",
		"kind clip: price must be a positive number of credits, at most 1000000000", "NEUROCARDS_JOB_TIMEOUT"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in %v", want, err)
		}
	}
	c, err := Load(env(map[string]string{"NEUROCARDS_START_CREDITS": "1000000000", "NEUROCARDS_PACKS": "1000000000:100000", "NEUROCARDS_JOB_TIMEOUT": "9223372036"}))
	if err != nil || c.StartCredits != MaxCredits || c.Timing.JobTimeout != 9223372036*time.Second {
		t.Errorf("the largest values: %v, %+v", err, c)
	}
}
