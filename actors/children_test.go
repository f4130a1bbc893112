package actors

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/anthdm/hollywood/actor"

	"neurocards/clock"
	"neurocards/config"
	"neurocards/kie"
	"neurocards/messages"
	"neurocards/metrics"
	"neurocards/store"
	"neurocards/telegram"
	"neurocards/testkit"
	"neurocards/testkit/kiefake"
	"neurocards/testkit/tgfake"
)

const expectWithin = 10 * time.Second

// world is the real clients pointed at the fakes, and a probe standing in as the job.
type world struct {
	d     *Deps
	tg    *tgfake.Server
	kf    *kiefake.Server
	probe *testkit.Probe
}

func newWorld(t *testing.T) *world {
	t.Helper()
	tg := tgfake.New(testkit.BotToken)
	t.Cleanup(tg.Close)
	kf := kiefake.New(testkit.KIEKey)
	t.Cleanup(kf.Close)
	cfg := config.Defaults()
	cfg.DataDir = t.TempDir()
	testkit.FastTiming(&cfg)
	st, err := store.Open(cfg.DataDir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	gw, err := telegram.New(telegram.Config{Token: testkit.BotToken, APIURL: tg.URL(), PerSec: 1000, PerChat: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	d := &Deps{
		Config: cfg, Store: st, Telegram: gw, Log: log, Metrics: metrics.New(), Clock: clock.Real,
		KIE: kie.New(kie.Config{APIURL: kf.APIURL(), UploadURL: kf.UploadURL(), APIKey: testkit.KIEKey, CreatePer10s: 1000, Logger: log}),
	}
	e, err := actor.NewEngine(actor.NewEngineConfig())
	if err != nil {
		t.Fatal(err)
	}
	return &world{d: d, tg: tg, kf: kf, probe: testkit.NewProbe(t, e, t.Name())}
}

// photoJob is a job whose photo a seller really sent to the fake Telegram.
func (w *world) photoJob(t *testing.T) messages.Job {
	t.Helper()
	s := w.tg.Seller(42, "ru", "Анна")
	u, ok := w.tg.Update(s.SendPhoto(testkit.Photo(640, 480), 640, 480, ""))
	if !ok {
		t.Fatal("the fake lost the photo update")
	}
	sizes := u.Message.Photo
	last := sizes[len(sizes)-1]
	p := messages.Photo{FileID: last.FileID, UniqueID: last.FileUniqueID, Width: last.Width, Height: last.Height, Mime: "image/jpeg"}
	kind, _ := w.d.Config.Kind("card")
	return messages.Job{ID: 5, UserID: 42, ChatID: 42, Lang: "ru", Kind: kind.ID, Model: kind.Model,
		Output: messages.OutputImage, Price: kind.Price, Photo: p, Product: "Свеча", Stage: messages.StageUploading}
}

func TestGeneratorReportsEveryFactInOrder(t *testing.T) {
	w := newWorld(t)
	j := w.photoJob(t)
	w.probe.SpawnChild(newGenerator(w.d, j, 1), "generate", w.d.spawnOpts("generate", "1")...)

	up := testkit.ExpectMsg[messages.PhotoUploaded](w.probe, expectWithin)
	created := testkit.ExpectMsg[messages.TaskCreated](w.probe, expectWithin)
	if up.Run != 1 || created.Run != 1 {
		t.Errorf("runs: %d %d", up.Run, created.Run)
	}
	tasks := w.kf.Tasks()
	if len(tasks) != 1 || tasks[0].ID != created.TaskID {
		t.Fatalf("tasks %+v, created %+v", tasks, created)
	}
	if urls, _ := tasks[0].Input["image_urls"].([]any); len(urls) != 1 || urls[0] != up.URL {
		t.Errorf("the task uses %v, the upload was %s", tasks[0].Input["image_urls"], up.URL)
	}
	if strings.Contains(up.URL, testkit.BotToken) {
		t.Error("KIE was given a URL with the bot token")
	}
	w.probe.ExpectNone(100 * time.Millisecond)
}

// A job that has a task reads it and never creates another: one read says whether KIE is done.
func TestReadTaskSaysWhatKIESaid(t *testing.T) {
	w := newWorld(t)
	url, err := w.d.KIE.Upload(context.Background(), strings.NewReader("jpeg"), "p.jpg")
	if err != nil {
		t.Fatal(err)
	}
	task, err := w.d.KIE.CreateTask(context.Background(), "google/nano-banana-edit", map[string]any{"prompt": "x", "image_urls": []string{url}}, "")
	if err != nil {
		t.Fatal(err)
	}
	var read messages.TaskRead
	for !read.Finished {
		read = readTaskOnce(w.d, task)
		if read.Failure != nil {
			t.Fatalf("read: %+v", read.Failure)
		}
	}
	if read.TaskID != task || !strings.Contains(read.ResultURL, task) {
		t.Errorf("read %+v for task %s", read, task)
	}
	if n := w.kf.CreateCalls(); n != 1 {
		t.Errorf("createTask calls: %d, want 1 (ours)", n)
	}
	if missing := readTaskOnce(w.d, "no-such-task"); missing.Failure == nil || missing.Finished {
		t.Errorf("a task KIE does not know reads as %+v", missing)
	}
}

func TestGeneratorPanicBecomesAnInternalFailure(t *testing.T) {
	w := newWorld(t)
	w.d.Hooks.BeforeGenerate = func(uint64) { panic("boom") }
	w.probe.SpawnChild(newGenerator(w.d, w.photoJob(t), 1), "generate", w.d.spawnOpts("generate", "1")...)
	f := testkit.ExpectMsg[messages.StepFailed](w.probe, expectWithin)
	if f.Step != messages.StepGenerate || f.Failure.Class != messages.Internal {
		t.Errorf("failure: %+v", f)
	}
	if n := w.kf.CreateCalls(); n != 0 {
		t.Errorf("createTask calls: %d", n)
	}
}

func TestGeneratorWaitsOutAnOpenBreaker(t *testing.T) {
	w := newWorld(t)
	w.kf.SetDown(true)
	for range w.d.Config.Limits.BreakerFailures {
		w.d.KIE.Credit(context.Background())
	}
	if s := w.d.KIE.BreakerState(); s != "open" {
		t.Fatalf("breaker %s", s)
	}
	w.probe.SpawnChild(newGenerator(w.d, w.photoJob(t), 1), "generate", w.d.spawnOpts("generate", "1")...)
	f := testkit.ExpectMsg[messages.StepFailed](w.probe, expectWithin)
	if f.Failure.Reason != messages.ReasonUpstreamDown {
		t.Errorf("failure: %+v", f.Failure)
	}
	if n := w.tg.CountCalls("getFile", 0); n != 0 {
		t.Errorf("the photo was fetched from Telegram %d times while KIE was known to be down", n)
	}
}

// A failed result download is a failed delivery; it never asks KIE for anything new.
func TestSenderRetriesDeliveryNotGeneration(t *testing.T) {
	w := newWorld(t)
	w.tg.Seller(42, "ru", "Анна")
	url, _ := w.d.KIE.Upload(context.Background(), strings.NewReader("jpeg"), "p.jpg")
	task, _ := w.d.KIE.CreateTask(context.Background(), "google/nano-banana-edit", map[string]any{"prompt": "x", "image_urls": []string{url}}, "")
	rec, _ := w.d.KIE.RecordInfo(context.Background(), task)
	for !rec.Done() {
		rec, _ = w.d.KIE.RecordInfo(context.Background(), task)
	}
	j := messages.Job{ID: 9, UserID: 42, ChatID: 42, Lang: "en", Kind: "card", Output: messages.OutputImage, Price: 3,
		Stage: messages.StageGenerated, TaskID: task, ResultURL: rec.ResultURLs[0]}

	w.kf.FailFiles(1, 503)
	w.probe.SpawnChild(newSender(w.d, j, 1), "deliver", w.d.spawnOpts("deliver", "1")...)
	f := testkit.ExpectMsg[messages.StepFailed](w.probe, expectWithin)
	if f.Step != messages.StepDeliver || f.Failure.Class != messages.Transient {
		t.Fatalf("failure: %+v", f)
	}

	w.probe.SpawnChild(newSender(w.d, j, 2), "deliver", w.d.spawnOpts("deliver", "2")...)
	got := testkit.ExpectMsg[messages.Downloaded](w.probe, expectWithin)
	sent := testkit.ExpectMsg[messages.Delivered](w.probe, expectWithin)
	if got.Run != 2 || sent.Run != 2 || sent.MessageID == 0 || sent.FileID == "" {
		t.Errorf("downloaded %+v delivered %+v", got, sent)
	}
	if _, err := os.Stat(got.Path); err != nil {
		t.Errorf("the result is not on disk: %v", err)
	}
	if n := w.kf.CreateCalls(); n != 1 {
		t.Errorf("createTask calls: %d, want 1", n)
	}
	if n := w.tg.CountCalls("sendPhoto", 42); n != 1 {
		t.Errorf("sendPhoto calls: %d", n)
	}
}
