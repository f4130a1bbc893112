package main

import (
	be "encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"neurocards/keyboard"
	"neurocards/messages"
	"neurocards/store"
	"neurocards/testkit"
	"neurocards/testkit/harness"
	"neurocards/testkit/kiefake"
	"neurocards/testkit/tgfake"
)

const adminToken = "admin-token-for-tests-5b1e"

// secrets are what the bots these tests start run with: no output of theirs may show them.
var secrets = testkit.Secrets{BotToken: harness.BotToken, KIEKey: harness.KIEKey, AdminToken: adminToken}

// botProc is `neurocards run` started from the environment, as an operator starts it.
type botProc struct {
	cmd    *exec.Cmd
	logs   *testkit.Buffer
	exited chan error
}

func startBot(t *testing.T, env []string) *botProc {
	t.Helper()
	p := &botProc{cmd: exec.Command(binary(t), "run"), logs: testkit.LogBuffer(t, secrets), exited: make(chan error, 1)}
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		if t.Failed() {
			t.Logf("bot logs:\n%s", p.logs.String())
		}
	})
	return p
}

// stop sends SIGTERM and expects a clean exit within 10 s.
func (p *botProc) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("neurocards did not stop within 10 s of SIGTERM")
	}
}

// runEnv is the environment of a bot on data against the fakes, its admin server on admin.
func runEnv(tg *tgfake.Server, kf *kiefake.Server, data, admin string) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"NEUROCARDS_TELEGRAM_TOKEN=" + harness.BotToken,
		"NEUROCARDS_TELEGRAM_API_URL=" + tg.URL(),
		"NEUROCARDS_KIE_API_KEY=" + harness.KIEKey,
		"NEUROCARDS_KIE_API_URL=" + kf.APIURL(),
		"NEUROCARDS_KIE_UPLOAD_URL=" + kf.UploadURL(),
		"NEUROCARDS_DATA_DIR=" + data,
		"NEUROCARDS_ADMIN_ADDR=" + admin,
		"NEUROCARDS_ADMIN_TOKEN=" + adminToken,
		"NEUROCARDS_KIE_POLL_MIN=20ms",
		"NEUROCARDS_KIE_POLL_MAX=100ms",
		"NEUROCARDS_TELEGRAM_POLL_TIMEOUT=2s",
		"NEUROCARDS_TELEGRAM_PER_CHAT=20ms",
	}
}

// neurocards runs a maintenance command and returns its output and exit code.
func neurocards(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = append([]string{}, env...) // never the test's own environment
	out, err := cmd.CombinedOutput()
	testkit.NoSecrets(t, fmt.Sprintf("the output of neurocards %v", args), string(out), secrets)
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("neurocards %v: %v", args, err)
	}
	return string(out), 0
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// orderCard walks a seller through one card and waits for it.
func orderCard(t *testing.T, s *tgfake.Seller) {
	t.Helper()
	s.Send("/start")
	menu := s.Expect(t, 20*time.Second, "the greeting", hasButton(keyboard.Kind.Data("card")))
	if _, err := s.Tap(keyboard.Kind.Data("card")); err != nil {
		t.Fatal(err)
	}
	ask := s.ExpectNew(t, 10*time.Second, menu.ID, "the photo request", func(m tgfake.Message) bool { return strings.Contains(m.Text, "📸") })
	s.SendPhoto(harness.Photo(640, 640), 640, 640, "")
	askText := s.ExpectNew(t, 10*time.Second, ask.ID, "the description request", func(m tgfake.Message) bool { return m.Button(keyboard.Skip.Prefix()) != "" })
	s.Send("Свеча ароматическая")
	confirm := s.ExpectNew(t, 10*time.Second, askText.ID, "the confirmation", func(m tgfake.Message) bool { return m.Button(keyboard.Generate.Prefix()) != "" })
	if _, err := s.Tap(confirm.Button(keyboard.Generate.Prefix())); err != nil {
		t.Fatal(err)
	}
	s.ExpectNew(t, 20*time.Second, confirm.ID, "the card", func(m tgfake.Message) bool { return m.Method == "sendPhoto" && m.File != nil })
}

func mustContain(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, out)
		}
	}
}

// TestBackupOfARunningBot: while the bot runs, check says to check a backup instead; backup
// asks the bot for a hot copy over the admin address; the copy passes check; with the bot
// stopped, backup copies the file itself; and a bot started on the copy knows the seller.
func TestBackupOfARunningBot(t *testing.T) {
	tg := tgfake.New(harness.BotToken)
	defer tg.Close()
	kf := kiefake.New(harness.KIEKey)
	defer kf.Close()
	data, dir := t.TempDir(), t.TempDir()
	env := runEnv(tg, kf, data, freeAddr(t))
	bot := startBot(t, env)
	orderCard(t, tg.Seller(77, "ru", "Олег"))

	out, code := neurocards(t, env, "check", "--data-dir", data)
	if code == 0 {
		t.Errorf("check of a data file in use succeeded:\n%s", out)
	}
	mustContain(t, "check of a running bot's data", out, "in use by a running neurocards", "neurocards backup")

	hot := filepath.Join(dir, "hot.db")
	out, code = neurocards(t, env, "backup", hot)
	if code != 0 {
		t.Fatalf("backup of a running bot: exit %d\n%s", code, out)
	}
	mustContain(t, "backup", out, "a hot copy from the running bot", "users 1, jobs 1")

	noToken := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, "NEUROCARDS_ADMIN_TOKEN=") {
			noToken = append(noToken, kv)
		}
	}
	out, code = neurocards(t, noToken, "backup", filepath.Join(dir, "refused.db"))
	if code == 0 {
		t.Errorf("backup without the admin token succeeded:\n%s", out)
	}
	mustContain(t, "backup without a token", out, "in use by a running neurocards", "NEUROCARDS_ADMIN_TOKEN")
	if _, err := os.Stat(filepath.Join(dir, "refused.db")); err == nil {
		t.Error("a refused backup left a file")
	}
	out, code = neurocards(t, env, "backup", filepath.Join(data, store.FileName))
	if code == 0 {
		t.Errorf("backup over the data file itself succeeded:\n%s", out)
	}

	out, code = neurocards(t, env, "check", "--file", hot)
	if code != 0 {
		t.Fatalf("check of the hot copy: exit %d\n%s", code, out)
	}
	mustContain(t, "check of the hot copy", out, "users:         1", "done 1", "credits:       17 on balances, 0 held", "✓ every invariant holds")

	bot.stop(t)
	cold := filepath.Join(dir, "cold.db")
	out, code = neurocards(t, env, "backup", "--data-dir", data, cold)
	if code != 0 {
		t.Fatalf("backup with no bot running: exit %d\n%s", code, out)
	}
	mustContain(t, "backup with no bot running", out, "no bot was running")
	out, code = neurocards(t, env, "check", "--data-dir", data)
	if code != 0 {
		t.Fatalf("check of the stopped bot's data: exit %d\n%s", code, out)
	}

	// Start on the hot copy, as after losing the data directory.
	restored := t.TempDir()
	raw, err := os.ReadFile(hot)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(restored, store.FileName), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	again := startBot(t, runEnv(tg, kf, restored, freeAddr(t)))
	s := tg.Seller(77, "ru", "Олег")
	last := s.BotMessages()
	s.Send("/start")
	greeting := s.ExpectNew(t, 20*time.Second, last[len(last)-1].ID, "the greeting on the restored data", hasButton(keyboard.Kind.Data("card")))
	mustContain(t, "the greeting on the restored data", greeting.Text, "с возвращением", "17 кредитов")
	again.stop(t)
}

// TestCheckListsViolations: check exits non-zero and names each broken invariant, in words and
// in --json.
func TestCheckListsViolations(t *testing.T) {
	data := t.TempDir()
	st, err := store.Open(data, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.WithUser(5, func(tx *store.UserTx) error {
		if _, err := tx.Post(store.Entry{Type: store.EntryGrant, Amount: 20, Key: "start:5"}); err != nil {
			return err
		}
		_, err := tx.StartJob(messages.Job{Kind: "card", Price: 3}, time.Hour)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	out, code := neurocards(t, nil, "check", "--data-dir", data)
	if code != 0 {
		t.Fatalf("check of a sound file: exit %d\n%s", code, out)
	}
	mustContain(t, "check", out, "in flight:     queued 1", "credits:       20 on balances, 3 held by jobs in flight")

	// A balance that no longer matches the ledger, as after a bug or a hand edit.
	db, err := bolt.Open(filepath.Join(data, store.FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("users"))
		key := be.BigEndian.AppendUint64(nil, 5)
		var u map[string]any
		if err := json.Unmarshal(b.Get(key), &u); err != nil {
			return err
		}
		u["balance"] = 999
		raw, _ := json.Marshal(u)
		return b.Put(key, raw)
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	out, code = neurocards(t, nil, "check", "--data-dir", data)
	if code != 1 {
		t.Errorf("check of a broken file: exit %d, want 1", code)
	}
	mustContain(t, "check of a broken file", out, "✗ 1 violations", "user 5: balance 999 but the ledger sums to 20")

	out, code = neurocards(t, nil, "check", "--data-dir", data, "--json")
	var doc struct {
		OK     bool
		Report store.Report
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != 1 || doc.OK || len(doc.Report.Violations) != 1 {
		t.Errorf("check --json of a broken file: exit %d, %+v, %v\n%s", code, doc, err, out)
	}

	out, code = neurocards(t, nil, "check", "--data-dir", filepath.Join(data, "missing"))
	if code == 0 || !strings.Contains(out, "no such file") {
		t.Errorf("check of a missing data file: exit %d\n%s", code, out)
	}
}
