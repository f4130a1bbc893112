package e2e

import (
	"bytes"
	"context"
	"encoding/binary"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"
	"time"

	"neurocards/config"
	"neurocards/keyboard"
	"neurocards/testkit/harness"
	"neurocards/testkit/kiefake"
)

// TestJobsPerSellerLimit: a seller has at most N jobs in flight; a tap beyond says so and
// charges nothing, and once a job ends another may start.
func TestJobsPerSellerLimit(t *testing.T) {
	b := start(t)
	b.KIE.Script(func(int, string, map[string]any) kiefake.Script { return kiefake.Script{Forever: true} })
	s := greet(t, b, 951, "ru")
	first := order(t, s, "card", "Кружка")
	tapPrefix(t, s, keyboard.Again.Prefix()+"card:")
	second := s.ExpectNew(t, wait, first.ID, "the second job", contains("Принял"))
	tapPrefix(t, s, keyboard.Again.Prefix()+"card:")
	refused := s.ExpectNew(t, wait, second.ID, "the refusal", contains("Заданий в работе: 2 — это максимум"))
	if !strings.Contains(refused.Text, "Ничего не списано") {
		t.Errorf("refusal: %q", refused.Text)
	}
	if got := b.ledger(951); got != "grant+20 hold(3) hold(3)" {
		t.Errorf("ledger: %s", got)
	}
	if err := b.KIE.WaitTasks(context.Background(), 2); err != nil {
		t.Fatal(err)
	}
	if err := b.KIE.Finish(b.KIE.Tasks()[0].ID); err != nil {
		t.Fatal(err)
	}
	card := s.ExpectNew(t, wait, refused.ID, "the first card", isFile("sendPhoto"))
	statusSays(t, s, first.ID, "Готово")
	tapPrefix(t, s, keyboard.Again.Prefix()+"card:")
	s.ExpectNew(t, wait, card.ID, "the third job", contains("Принял"))
	if n := len(b.jobs(951)); n != 3 {
		t.Errorf("jobs: %d, want 3", n)
	}
}

// TestUpdateRateLimit: past M updates in the window a seller hears one polite notice, then
// nothing until the window passes; payments are never dropped.
func TestUpdateRateLimit(t *testing.T) {
	const window = 3 * time.Second
	b := start(t, func(c *config.Config) {
		c.Limits.UpdatesPerMinute = 5
		c.Timing.UpdatesWindow = window
	})
	s := b.seller(952, "ru")
	began := time.Now()
	for range 8 {
		s.Send("/balance")
	}
	s.Expect(t, wait, "the notice", contains("Слишком много сообщений"))
	// A payment in the silence is still credited, with its receipt.
	s.Pay("pack:10:rate", "XTR", 50, "charge-952")
	s.Expect(t, wait, "the receipt", contains("Оплата прошла"))
	if time.Since(began) >= window {
		t.Skip("the machine is too slow to fit the burst in the window")
	}
	balances := countBot(s, contains("💰 Баланс"))
	if balances != 5 {
		t.Errorf("answers in the window: %d, want 5", balances)
	}

	// After the window the seller is heard again: keep asking until answered.
	answered := false
	for range 20 {
		last := lastID(s)
		s.Send("/menu")
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		_, err := s.WaitNew(ctx, last, contains("Что сделаем"))
		cancel()
		if err == nil {
			answered = true
			break
		}
	}
	if !answered {
		t.Fatalf("never answered after the window\n%s", s.Transcript())
	}
	if n := countBot(s, contains("Слишком много сообщений")); n != 1 {
		t.Errorf("notices: %d, want 1", n)
	}
	if n := countBot(s, contains("💰 Баланс")); n != balances {
		t.Errorf("answers to the updates over the limit: %d", n-balances)
	}
	if got := b.ledger(952); got != "grant+20 purchase+10" {
		t.Errorf("ledger: %s", got)
	}
}

// pngOf is a PNG image of w×h.
func pngOf(w, h int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	img.Set(0, 0, color.Black)
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}

// webpOf is the start of a lossless (VP8L) or extended (VP8X) WebP file of w×h: only its
// header is real, which is all the bot reads.
func webpOf(extended bool, w, h int) []byte {
	b := make([]byte, 64)
	copy(b, "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(len(b)-8))
	copy(b[8:], "WEBP")
	if extended {
		copy(b[12:], "VP8X")
		binary.LittleEndian.PutUint32(b[16:], 10)
		put24 := func(at, v int) { b[at], b[at+1], b[at+2] = byte(v), byte(v>>8), byte(v>>16) }
		put24(24, w-1)
		put24(27, h-1)
		return b
	}
	copy(b[12:], "VP8L")
	binary.LittleEndian.PutUint32(b[16:], uint32(len(b)-20))
	b[20] = 0x2f
	binary.LittleEndian.PutUint32(b[21:], uint32(w-1)|uint32(h-1)<<14)
	return b
}

// TestPhotoChecksBeforeAnyHold: an image sent as a file is measured before it is accepted —
// PNG, JPEG and WebP — and one that is too small, too large or not an image is refused with
// what to send instead; nothing is held, nothing reaches KIE. Updates sent while the file is
// measured are handled after it, in order.
func TestPhotoChecksBeforeAnyHold(t *testing.T) {
	b := start(t)
	s := greet(t, b, 953, "ru")
	tap(t, s, keyboard.Kind.Data("card"))
	m := s.Expect(t, wait, "the photo request", contains("Пришлите фото"))
	send := func(data []byte, name, mime, what, want string) {
		t.Helper()
		s.SendDocument(data, name, mime)
		m = s.ExpectNew(t, wait, m.ID, what, contains(want))
	}
	send(pngOf(280, 900), "small.png", "image/png", "the too-small PNG", "слишком маленькое: 280×900")
	send(webpOf(false, 299, 1200), "small.webp", "image/webp", "the too-small WebP", "слишком маленькое: 299×1200")
	send(webpOf(true, 250, 250), "small-x.webp", "image/webp", "the too-small extended WebP", "слишком маленькое: 250×250")
	send([]byte("GIF89a... not really"), "fake.png", "image/png", "the unreadable file", "Не получилось открыть этот файл как изображение")
	send(bytes.Repeat([]byte{0xff}, 11<<20), "huge.jpg", "image/jpeg", "the too-large file", "Файл слишком большой: 11.0 МБ")
	s.SendPhoto(harness.Photo(200, 150), 200, 150, "")
	m = s.ExpectNew(t, wait, m.ID, "the too-small photo", contains("слишком маленькое: 200×150"))
	if got := b.ledger(953); got != "grant+20" {
		t.Errorf("ledger: %s", got)
	}
	if n := b.KIE.CreateCalls() + len(b.KIE.Uploads()); n != 0 {
		t.Errorf("KIE calls: %d", n)
	}

	// A good WebP, and the product text right behind it: the text waits for the measurement.
	s.SendDocument(webpOf(false, 1000, 800), "mug.webp", "image/webp")
	s.Send("Кружка")
	confirm := s.ExpectNew(t, wait, m.ID, "the confirmation", hasButton(keyboard.Generate.Prefix()))
	if !strings.Contains(confirm.Text, "Товар: Кружка") {
		t.Errorf("confirmation: %q\n%s", confirm.Text, s.Transcript())
	}
	var asked bool
	for _, msg := range s.BotMessages() {
		if msg.ID > m.ID && msg.ID < confirm.ID && strings.Contains(msg.Text, "Напишите название") {
			asked = true
		}
		if msg.ID > m.ID && strings.Contains(msg.Text, "Это не фото") {
			t.Errorf("the text overtook the file: %q", msg.Text)
		}
	}
	if !asked {
		t.Errorf("no description request between the file and the confirmation\n%s", s.Transcript())
	}
	if u := b.user(953); u.Draft.Photo.Width != 1000 || u.Draft.Photo.Height != 800 {
		t.Errorf("draft photo: %+v", u.Draft.Photo)
	}

	// A PNG file of a good size is accepted too.
	tap(t, s, keyboard.Kind.Data("card"))
	m = s.ExpectNew(t, wait, confirm.ID, "the photo request", contains("Пришлите фото"))
	send(pngOf(640, 480), "mug.png", "image/png", "the description request", "Напишите название")
	if u := b.user(953); u.Draft.Photo.Width != 640 || u.Draft.Photo.Height != 480 || u.Draft.Photo.Mime != "image/png" {
		t.Errorf("draft photo: %+v", u.Draft.Photo)
	}
}
