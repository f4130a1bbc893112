package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"neurocards/keyboard"
	"neurocards/testkit"
	"neurocards/testkit/harness"
	"neurocards/testkit/kiefake"
	"neurocards/testkit/tgfake"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildErr == nil && binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// binary builds the neurocards command once per test run, exactly as an operator gets it.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "neurocards-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "neurocards")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = err
			binPath = string(out)
		}
	})
	if buildErr != nil {
		t.Fatalf("go build: %v\n%s", buildErr, binPath)
	}
	return binPath
}

func TestRunWithoutTokensPointsAtTheSandbox(t *testing.T) {
	cmd := exec.Command(binary(t), "run")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "NEUROCARDS_DATA_DIR=" + t.TempDir()}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("run without tokens succeeded:\n%s", out)
	}
	for _, want := range []string{"NEUROCARDS_TELEGRAM_TOKEN", "NEUROCARDS_KIE_API_KEY", "neurocards sandbox"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestRunRejectsBadConfiguration(t *testing.T) {
	const badToken = "123456:sandbox-token-with-a%zz-in-it/../x" // one that breaks a URL
	cmd := exec.Command(binary(t), "run")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "NEUROCARDS_TELEGRAM_TOKEN=" + badToken, "NEUROCARDS_KIE_API_KEY=k",
		"NEUROCARDS_KIE_API_URL=ftp://nope", "NEUROCARDS_START_CREDITS=lots", "NEUROCARDS_DATA_DIR=" + t.TempDir()}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("run with a bad configuration succeeded:\n%s", out)
	}
	testkit.NoSecrets(t, "the refusal", string(out), testkit.Secrets{BotToken: badToken})
	for _, want := range []string{"NEUROCARDS_KIE_API_URL", "NEUROCARDS_START_CREDITS", "NEUROCARDS_TELEGRAM_TOKEN is not a bot token"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("output does not name %s:\n%s", want, out)
		}
	}
}

// TestRunServesASellerFromTheEnvironment: `neurocards run`, configured only through the
// environment, serves a seller through the whole flow against servers on loopback; a second
// process on the same data directory refuses to start; SIGTERM stops it cleanly.
func TestRunServesASellerFromTheEnvironment(t *testing.T) {
	tg := tgfake.New(harness.BotToken)
	defer tg.Close()
	kf := kiefake.New(harness.KIEKey)
	defer kf.Close()
	data := t.TempDir()
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"NEUROCARDS_TELEGRAM_TOKEN=" + harness.BotToken,
		"NEUROCARDS_TELEGRAM_API_URL=" + tg.URL(),
		"NEUROCARDS_KIE_API_KEY=" + harness.KIEKey,
		"NEUROCARDS_KIE_API_URL=" + kf.APIURL(),
		"NEUROCARDS_KIE_UPLOAD_URL=" + kf.UploadURL(),
		"NEUROCARDS_DATA_DIR=" + data,
		"NEUROCARDS_ADMIN_ADDR=127.0.0.1:0",
		"NEUROCARDS_KIE_POLL_MIN=20ms",
		"NEUROCARDS_KIE_POLL_MAX=100ms",
		"NEUROCARDS_TELEGRAM_POLL_TIMEOUT=2s",
	}
	logs := testkit.LogBuffer(t, secrets)
	cmd := exec.Command(binary(t), "run")
	cmd.Env = env
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			cmd.Process.Kill()
			cmd.Wait()
		}
		if t.Failed() {
			t.Logf("bot logs:\n%s", logs.String())
		}
	}()

	s := tg.Seller(77, "ru", "Олег")
	orderCard(t, s)
	if _, err := s.TapPrefix(keyboard.Again.Prefix() + "card:"); err != nil {
		t.Fatal(err)
	}
	s.ExpectUntil(t, 20*time.Second, "a second card", func(msgs []tgfake.Message) bool {
		n := 0
		for _, m := range msgs {
			if m.Method == "sendPhoto" {
				n++
			}
		}
		return n == 2
	})

	second := exec.Command(binary(t), "run")
	second.Env = env
	out, err := second.CombinedOutput()
	testkit.NoSecrets(t, "a second process's output", string(out), secrets)
	if err == nil || !bytes.Contains(out, []byte("in use by another neurocards process")) {
		t.Errorf("a second process on the same data dir: err=%v\n%s", err, out)
	}

	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		stopped = true
		if err != nil {
			t.Errorf("exit after SIGINT: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("neurocards did not stop within 10 s of SIGINT")
	}
	if n := len(kf.Tasks()); n != 2 {
		t.Errorf("KIE tasks: %d, want 2", n)
	}
}

func TestSandboxPlaysTheWholeFlow(t *testing.T) {
	var out bytes.Buffer
	errOut := testkit.LogBuffer(t, testkit.Fakes)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if rc := sandbox(ctx, []string{"-v"}, &out, errOut); rc != 0 {
		t.Fatalf("sandbox exit %d\n%s\n%s", rc, out.String(), errOut.String())
	}
	testkit.NoSecrets(t, "the sandbox's conversation", out.String(), testkit.Fakes)
	for _, want := range []string{"seller ▶ /start", "1.mp4", "2.png", "balance at the end: 4 credits", "every step happened"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("sandbox output lacks %q:\n%s", want, out.String())
		}
	}
}
