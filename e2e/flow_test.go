package e2e

import (
	"strings"
	"testing"

	"neurocards/config"
	"neurocards/keyboard"
	"neurocards/messages"
	"neurocards/testkit/harness"
	"neurocards/testkit/tgfake"
)

// TestVideoFlow is steps 1–7 of the seller's flow for the video kind, in Russian.
func TestVideoFlow(t *testing.T) {
	b := start(t)
	s := b.seller(101, "ru")

	// 1. /start: a greeting, the balance with the start bonus, one button per kind, Balance, Help.
	s.Send("/start")
	menu := s.Expect(t, wait, "the greeting", hasButton(keyboard.Kind.Data("video")))
	for _, want := range []string{"Привет", "20 кредитов"} {
		if !strings.Contains(menu.Text, want) {
			t.Errorf("greeting %q lacks %q", menu.Text, want)
		}
	}
	for _, data := range []string{keyboard.Kind.Data("video"), keyboard.Kind.Data("card"), "bal", "help"} {
		if buttonData(menu, data) == "" {
			t.Errorf("menu lacks button %s: %+v", data, menu.Buttons)
		}
	}
	if got := b.ledger(101); got != "grant+20" {
		t.Errorf("ledger after /start: %s", got)
	}

	// 2–5. Kind, photo, text, confirmation with price and balance after; Generate.
	tap(t, s, keyboard.Kind.Data("video"))
	ask := s.ExpectNew(t, wait, menu.ID, "the photo request", contains("Пришлите фото"))
	s.SendPhoto(harness.Photo(800, 1000), 800, 1000, "")
	askText := s.ExpectNew(t, wait, ask.ID, "the description request", hasButton(keyboard.Skip.Prefix()))
	s.Send("Термокружка 450 мл, нержавейка, держит тепло 8 часов")
	confirm := s.ExpectNew(t, wait, askText.ID, "the confirmation", hasButton(keyboard.Generate.Prefix()))
	for _, want := range []string{"Видео товара", "Термокружка 450 мл", "10 кредитов", "Баланс после: 10 кредитов"} {
		if !strings.Contains(confirm.Text, want) {
			t.Errorf("confirmation %q lacks %q", confirm.Text, want)
		}
	}
	okData := buttonData(confirm, keyboard.Generate.Prefix())
	tap(t, s, okData)
	status := s.ExpectNew(t, wait, confirm.ID, "the status message", contains("✅ Принял! Генерация запущена…"))
	if buttonData(status, keyboard.Again.Data("video")) == "" {
		t.Errorf("status message has no again button: %+v", status.Buttons)
	}

	// A second tap on the same Generate creates nothing.
	tap(t, s, okData)
	s.ExpectNew(t, wait, status.ID, "the already-started answer", contains("уже запущено"))

	// 6. The video arrives as a file with a caption and the again and menu buttons.
	video := s.ExpectNew(t, wait, status.ID, "the video", isFile("sendVideo"))
	statusSays(t, s, status.ID, "Готово")
	jobs := b.jobs(101)
	if len(jobs) != 1 {
		t.Fatalf("jobs: %d, want 1", len(jobs))
	}
	j := jobs[0]
	if video.File.Name != "1.mp4" || video.File.Size == 0 {
		t.Errorf("video file %q, %d bytes", video.File.Name, video.File.Size)
	}
	if !strings.Contains(video.Caption, "Видео товара") || buttonData(video, keyboard.Again.Data("video")) == "" || buttonData(video, "menu") == "" {
		t.Errorf("video caption %q buttons %+v", video.Caption, video.Buttons)
	}
	if got := b.ledger(101); got != "grant+20 hold(10) capture-10" {
		t.Errorf("ledger after delivery: %s", got)
	}
	if u := b.user(101); u.Balance != 10 || u.Held != 0 {
		t.Errorf("balance %d held %d, want 10/0", u.Balance, u.Held)
	}
	if out := b.outputs(); len(out) != 0 {
		t.Errorf("result files left on disk: %v", out)
	}
	tasks := b.KIE.Tasks()
	if len(tasks) != 1 || tasks[0].Model != "kling-2.6/image-to-video" {
		t.Fatalf("KIE tasks: %+v", tasks)
	}
	if p, _ := tasks[0].Input["prompt"].(string); !strings.Contains(p, "Термокружка 450 мл") {
		t.Errorf("prompt does not carry the product text: %q", p)
	}
	if up := b.KIE.Uploads(); len(up) != 1 || up[0].Size == 0 {
		t.Errorf("uploads to KIE: %+v", up)
	}
	if d := tasks[0].Input["duration"]; d != "5" {
		t.Errorf("duration %v, want \"5\"", d)
	}
	if j.Outcome != messages.OutcomeDone || j.MessageID != video.ID || j.TaskID != tasks[0].ID {
		t.Errorf("job record: %+v", j)
	}

	// 7. Again: a new job at once, with the same photo and text, no questions asked.
	tapPrefix(t, s, keyboard.Again.Prefix()+"video:")
	status2 := s.ExpectNew(t, wait, video.ID, "the second status", contains("Принял"))
	s.ExpectNew(t, wait, status2.ID, "the second video", isFile("sendVideo"))
	statusSays(t, s, status2.ID, "Готово")
	if got := b.ledger(101); got != "grant+20 hold(10) capture-10 hold(10) capture-10" {
		t.Errorf("ledger after again: %s", got)
	}
	tasks = b.KIE.Tasks()
	if len(tasks) != 2 {
		t.Fatalf("KIE tasks after again: %d, want 2", len(tasks))
	}
	if p, _ := tasks[1].Input["prompt"].(string); !strings.Contains(p, "Термокружка 450 мл") {
		t.Errorf("again lost the product text: %q", p)
	}
	for _, m := range s.Messages() {
		if m.ID > video.ID && !m.FromBot && m.Method == "seller" {
			t.Errorf("again made the seller send something: %+v", m)
		}
	}

	// Not enough credits for a third: said plainly, nothing created.
	tapPrefix(t, s, keyboard.Again.Prefix()+"video:")
	s.ExpectNew(t, wait, status2.ID, "the not-enough answer", contains("Не хватает кредитов"))
	if n := len(b.jobs(101)); n != 2 {
		t.Errorf("jobs after a refused again: %d, want 2", n)
	}
	if n := b.KIE.CreateCalls(); n != 2 {
		t.Errorf("createTask calls: %d, want 2", n)
	}
}

// TestCardFlowInEnglish is the flow for the card kind, for a seller whose Telegram is in English.
func TestCardFlowInEnglish(t *testing.T) {
	b := start(t)
	s := b.seller(202, "en")
	s.Send("/start")
	s.Expect(t, wait, "the greeting", contains("Hi, Seller202"))
	status := order(t, s, "card", "")
	if !strings.Contains(status.Text, "Got it! Generation started") {
		t.Errorf("status in English: %q", status.Text)
	}
	card := s.ExpectNew(t, wait, status.ID, "the card", isFile("sendPhoto"))
	if !strings.HasSuffix(card.File.Name, ".png") || !strings.Contains(card.Caption, "Product card") {
		t.Errorf("card %q caption %q", card.File.Name, card.Caption)
	}
	statusSays(t, s, status.ID, "Done")
	if got := b.ledger(202); got != "grant+20 hold(3) capture-3" {
		t.Errorf("ledger: %s", got)
	}
	tasks := b.KIE.Tasks()
	if len(tasks) != 1 || tasks[0].Model != "google/nano-banana-edit" || tasks[0].Input["image_size"] != "3:4" {
		t.Fatalf("KIE task: %+v", tasks)
	}
	if urls, _ := tasks[0].Input["image_urls"].([]any); len(urls) != 1 || strings.Contains(urls[0].(string), harness.BotToken) {
		t.Errorf("image_urls %v: want one KIE-hosted URL, never Telegram's", tasks[0].Input["image_urls"])
	}
	if out := b.outputs(); len(out) != 0 {
		t.Errorf("result files left on disk: %v", out)
	}
}

// TestBadInputCostsNothing: every wrong input gets a clear answer and the question again, and
// nothing is charged or created.
func TestBadInputCostsNothing(t *testing.T) {
	b := start(t)
	s := b.seller(303, "ru")
	s.Send("/start")
	menu := s.Expect(t, wait, "the greeting", hasButton(keyboard.Kind.Data("card")))

	tap(t, s, keyboard.Kind.Data("card"))
	ask := s.ExpectNew(t, wait, menu.ID, "the photo request", contains("Пришлите фото"))
	s.Send("вот мой товар")
	m := s.ExpectNew(t, wait, ask.ID, "the not-a-photo answer", contains("Это не фото"))
	s.SendDocument([]byte("%PDF-1.4 price list"), "price.pdf", "application/pdf")
	m = s.ExpectNew(t, wait, m.ID, "the not-an-image answer", contains("Это не фото"))
	s.SendPhoto(harness.Photo(200, 150), 200, 150, "")
	m = s.ExpectNew(t, wait, m.ID, "the too-small answer", contains("слишком маленькое: 200×150"))

	// An image sent as a file is accepted.
	s.SendDocument(harness.Photo(600, 600), "mug.jpg", "image/jpeg")
	askText := s.ExpectNew(t, wait, m.ID, "the description request", hasButton(keyboard.Skip.Prefix()))
	s.Send(strings.Repeat("я", 1001))
	m = s.ExpectNew(t, wait, askText.ID, "the too-long answer", contains("1001 символов"))

	// Stale and malformed buttons.
	s.TapOn(menu.ID, keyboard.Generate.ID(999))
	m = s.ExpectNew(t, wait, m.ID, "the stale answer", contains("устарела"))
	s.TapOn(menu.ID, "zzz:%%%")
	m = s.ExpectNew(t, wait, m.ID, "the malformed answer", contains("устарела"))
	s.TapOn(menu.ID, strings.Repeat("k", 64))
	m = s.ExpectNew(t, wait, m.ID, "the long-data answer", contains("устарела"))

	// The order is still alive: text now, then Cancel.
	s.Send("Кружка")
	confirm := s.ExpectNew(t, wait, m.ID, "the confirmation", hasButton(keyboard.Cancel.Prefix()))
	tap(t, s, buttonData(confirm, keyboard.Cancel.Prefix()))
	m = s.ExpectNew(t, wait, confirm.ID, "the cancellation", contains("Отменил"))
	tap(t, s, buttonData(confirm, keyboard.Generate.Prefix()))
	s.ExpectNew(t, wait, m.ID, "generate after cancel is stale", contains("устарела"))

	if got := b.ledger(303); got != "grant+20" {
		t.Errorf("ledger: %s", got)
	}
	if n := len(b.jobs(303)); n != 0 {
		t.Errorf("jobs created: %d", n)
	}
	if n := b.KIE.CreateCalls(); n != 0 {
		t.Errorf("createTask calls: %d", n)
	}
	s.Send("/balance")
	s.ExpectNew(t, wait, m.ID, "the balance", contains("Баланс: 20 кредитов"))
}

// TestNotEnoughCreditsCreatesNothing: a seller who cannot afford a kind is told so at the
// confirmation, and Generate is never offered.
func TestNotEnoughCreditsCreatesNothing(t *testing.T) {
	b := start(t, func(c *config.Config) { c.StartCredits = 5 })
	s := b.seller(404, "en")
	s.Send("/start")
	menu := s.Expect(t, wait, "the greeting", hasButton(keyboard.Kind.Data("video")))
	tap(t, s, keyboard.Kind.Data("video"))
	ask := s.ExpectNew(t, wait, menu.ID, "the photo request", contains("📸"))
	s.SendPhoto(harness.Photo(800, 800), 800, 800, "")
	askText := s.ExpectNew(t, wait, ask.ID, "the description request", hasButton(keyboard.Skip.Prefix()))
	tap(t, s, buttonData(askText, keyboard.Skip.Prefix()))
	m := s.ExpectNew(t, wait, askText.ID, "the refusal", contains("Not enough credits: 10 credits needed, 5 credits available"))
	if buttonData(m, keyboard.Generate.Prefix()) != "" {
		t.Errorf("Generate offered without the credits: %+v", m.Buttons)
	}
	s.TapOn(menu.ID, keyboard.Again.Data("video"))
	s.ExpectNew(t, wait, m.ID, "nothing to repeat", contains("nothing to repeat"))
	if got, n := b.ledger(404), len(b.jobs(404)); got != "grant+5" || n != 0 {
		t.Errorf("ledger %s, jobs %d", got, n)
	}
}

// TestKindsFromFile: the catalogue can be replaced by a YAML file.
func TestKindsFromFile(t *testing.T) {
	path := t.TempDir() + "/kinds.yaml"
	yaml := `kinds:
  - id: promo
    title: {ru: "📣 Промо-ролик", en: "📣 Promo clip"}
    model: kling-2.6/image-to-video
    output: video
    price: 7
    input: {duration: "10", sound: true}
    prompt: "Energetic promo of {product}"
`
	if err := writeFile(path, yaml); err != nil {
		t.Fatal(err)
	}
	b := start(t, func(c *config.Config) {
		kinds, err := config.LoadKinds(path)
		if err != nil {
			t.Fatal(err)
		}
		c.Kinds = kinds
	})
	s := b.seller(505, "ru")
	s.Send("/start")
	menu := s.Expect(t, wait, "the menu", hasButton(keyboard.Kind.Data("promo")))
	if buttonData(menu, keyboard.Kind.Data("video")) != "" {
		t.Errorf("default kinds still offered: %+v", menu.Buttons)
	}
	status := order(t, s, "promo", "Кроссовки")
	s.ExpectNew(t, wait, status.ID, "the clip", isFile("sendVideo"))
	tasks := b.KIE.Tasks()
	if len(tasks) != 1 || tasks[0].Input["duration"] != "10" || tasks[0].Input["prompt"] != "Energetic promo of Кроссовки" {
		t.Fatalf("task input: %+v", tasks[0].Input)
	}
}

// TestDoubleTapOnAgainStartsOneJob: two taps on the same "again" button make one job and one
// hold; the same job's other message still offers another.
func TestDoubleTapOnAgainStartsOneJob(t *testing.T) {
	b := start(t)
	s := b.seller(606, "ru")
	s.Send("/start")
	s.Expect(t, wait, "the greeting", hasButton(keyboard.Kind.Data("card")))
	status := order(t, s, "card", "Свеча")
	card := s.ExpectNew(t, wait, status.ID, "the card", isFile("sendPhoto"))
	statusSays(t, s, status.ID, "Готово")
	again := buttonData(card, keyboard.Again.Prefix()+"card:")
	s.TapOn(card.ID, again)
	s.TapOn(card.ID, again)
	second := s.ExpectNew(t, wait, card.ID, "the second job", contains("Принял"))
	s.ExpectNew(t, wait, card.ID, "the answer to the second tap", contains("второе нажатие ничего не списывает"))
	s.ExpectNew(t, wait, second.ID, "the second card", isFile("sendPhoto"))
	statusSays(t, s, second.ID, "Готово")
	if got := b.ledger(606); got != "grant+20 hold(3) capture-3 hold(3) capture-3" {
		t.Errorf("ledger: %s", got)
	}
	// The first job's status message still offers one more.
	s.TapOn(status.ID, buttonData(status, keyboard.Again.Prefix()+"card:"))
	s.ExpectUntil(t, wait, "a third card", func(msgs []tgfake.Message) bool {
		n := 0
		for _, m := range msgs {
			if m.Method == "sendPhoto" {
				n++
			}
		}
		return n == 3
	})
}
