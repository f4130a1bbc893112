package tgfake

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

func download(ctx context.Context, t *testing.T, link string) []byte {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET file: %s", resp.Status)
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestSendVideoUploadGetFileAndResendByID(t *testing.T) {
	s := newServer(t)
	b := newBot(t, s)
	ctx := testCtx(t)
	sl := s.Seller(42, "en", "Ann")

	content := make([]byte, 3<<20)
	if _, err := rand.Read(content); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "card.mp4")
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	if _, err := b.SendChatAction(ctx, &bot.SendChatActionParams{ChatID: 42, Action: models.ChatActionUploadVideo}); err != nil {
		t.Fatalf("SendChatAction: %v", err)
	}
	m, err := b.SendVideo(ctx, &bot.SendVideoParams{
		ChatID: 42, Video: &models.InputFileUpload{Filename: "card.mp4", Data: f},
		Caption: "Ваша карточка", SupportsStreaming: true, Width: 1080, Height: 1920,
		ReplyMarkup: keyboard([]models.InlineKeyboardButton{cb("Ещё", "again")}),
	})
	if err != nil {
		t.Fatalf("SendVideo: %v", err)
	}
	if m.Video == nil || m.Video.FileID == "" || m.Video.FileSize != int64(len(content)) || m.Video.Width != 1080 || m.Caption != "Ваша карточка" {
		t.Fatalf("SendVideo result = %+v (video %+v)", m, m.Video)
	}

	got, _ := sl.Last()
	if got.Method != "sendVideo" || got.File == nil || got.File.Name != "card.mp4" || got.File.Size != int64(len(content)) ||
		!bytes.Equal(got.File.Data, content) || got.File.FileID != "" || got.Buttons[0][0].Data != "again" {
		t.Fatalf("transcript message = %+v", got)
	}
	calls := s.Calls("sendVideo")
	if len(calls) != 1 || calls[0].Fields["supports_streaming"] != "true" || len(calls[0].Files) != 1 || calls[0].Files[0].Field != "video" {
		t.Fatalf("calls = %+v", calls)
	}

	file, err := b.GetFile(ctx, &bot.GetFileParams{FileID: m.Video.FileID})
	if err != nil {
		t.Fatalf("GetFile: %v", err)
	}
	if data := download(ctx, t, b.FileDownloadLink(file)); !bytes.Equal(data, content) {
		t.Fatalf("downloaded %d bytes, want the %d uploaded", len(data), len(content))
	}
	if s.CountCalls("file", 0) != 1 {
		t.Fatalf("file downloads recorded: %d", s.CountCalls("file", 0))
	}

	again, err := b.SendVideo(ctx, &bot.SendVideoParams{ChatID: 42, Video: &models.InputFileString{Data: m.Video.FileID}})
	if err != nil {
		t.Fatalf("SendVideo by file_id: %v", err)
	}
	if again.Video.FileID != m.Video.FileID {
		t.Fatalf("resend got file_id %q, want %q", again.Video.FileID, m.Video.FileID)
	}
	if last, _ := sl.Last(); last.File.FileID != m.Video.FileID || last.File.Size != int64(len(content)) {
		t.Fatalf("resent message file = %+v", last.File)
	}
	_, err = b.SendVideo(ctx, &bot.SendVideoParams{ChatID: 42, Video: &models.InputFileString{Data: "nonsense"}})
	if !errors.Is(err, bot.ErrorBadRequest) {
		t.Fatalf("SendVideo with an unknown file_id: %v", err)
	}
}

func TestSellerPhotoAndDocument(t *testing.T) {
	s := newServer(t)
	b := newBot(t, s)
	ctx := testCtx(t)
	sl := s.Seller(8, "ru", "Ivan")

	img := image.NewRGBA(image.Rect(0, 0, 400, 300))
	for y := range 300 {
		for x := range 400 {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var pngBytes bytes.Buffer
	if err := png.Encode(&pngBytes, img); err != nil {
		t.Fatal(err)
	}
	photoUpdate := sl.SendPhoto(pngBytes.Bytes(), 400, 300, "Кружка, 350 мл")
	docUpdate := sl.SendDocument([]byte("%PDF-1.4"), "spec.pdf", "application/pdf")

	ups := poll(ctx, t, s, map[string]string{"timeout": "0"})
	if len(ups) != 2 || ups[0].ID != photoUpdate || ups[1].ID != docUpdate {
		t.Fatalf("updates = %+v", ups)
	}
	photo := ups[0].Message.Photo
	if len(photo) != 2 || photo[0].Width != 90 || photo[0].Height != 67 || photo[1].Width != 400 || photo[1].FileSize != pngBytes.Len() ||
		ups[0].Message.Caption != "Кружка, 350 мл" {
		t.Fatalf("photo sizes = %+v", photo)
	}

	full, err := b.GetFile(ctx, &bot.GetFileParams{FileID: photo[1].FileID})
	if err != nil {
		t.Fatalf("GetFile: %v", err)
	}
	if data := download(ctx, t, b.FileDownloadLink(full)); !bytes.Equal(data, pngBytes.Bytes()) {
		t.Fatal("downloaded photo differs from the one sent")
	}
	thumb, err := b.GetFile(ctx, &bot.GetFileParams{FileID: photo[0].FileID})
	if err != nil {
		t.Fatalf("GetFile thumb: %v", err)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(download(ctx, t, b.FileDownloadLink(thumb))))
	if err != nil || cfg.Width != 90 {
		t.Fatalf("thumbnail: %+v, %v", cfg, err)
	}

	doc := ups[1].Message.Document
	if doc == nil || doc.FileName != "spec.pdf" || doc.MimeType != "application/pdf" || doc.FileSize != 8 {
		t.Fatalf("document = %+v", doc)
	}
	if _, err := b.GetFile(ctx, &bot.GetFileParams{FileID: "missing"}); !errors.Is(err, bot.ErrorBadRequest) {
		t.Fatalf("GetFile of an unknown id: %v", err)
	}

	msgs := sl.Messages()
	if len(msgs) != 2 || msgs[0].Method != "seller" || msgs[0].File.Field != "photo" || msgs[1].File.Name != "spec.pdf" {
		t.Fatalf("transcript = %+v", msgs)
	}
}

func TestSendPhotoAndDocumentFromBot(t *testing.T) {
	s := newServer(t)
	b := newBot(t, s)
	ctx := testCtx(t)
	sl := s.Seller(9, "en", "Zoe")

	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, image.NewGray(image.Rect(0, 0, 640, 480)), nil); err != nil {
		t.Fatal(err)
	}
	m, err := b.SendPhoto(ctx, &bot.SendPhotoParams{ChatID: 9, Photo: &models.InputFileUpload{Filename: "card.jpg", Data: &jpg}, Caption: "preview"})
	if err != nil {
		t.Fatalf("SendPhoto: %v", err)
	}
	if len(m.Photo) != 2 || m.Photo[1].Width != 640 || m.Photo[1].Height != 480 {
		t.Fatalf("photo sizes = %+v", m.Photo)
	}
	d, err := b.SendDocument(ctx, &bot.SendDocumentParams{ChatID: 9, Document: &models.InputFileUpload{Filename: "cards.zip", Data: bytes.NewReader([]byte("PK"))}})
	if err != nil {
		t.Fatalf("SendDocument: %v", err)
	}
	if d.Document == nil || d.Document.FileName != "cards.zip" || d.Document.FileSize != 2 {
		t.Fatalf("document = %+v", d.Document)
	}
	_, err = b.SendDocument(ctx, &bot.SendDocumentParams{ChatID: 9, Document: &models.InputFileUpload{Filename: "empty.txt", Data: bytes.NewReader(nil)}})
	if !errors.Is(err, bot.ErrorBadRequest) {
		t.Fatalf("empty upload: %v", err)
	}
	methods := []string{}
	for _, m := range sl.BotMessages() {
		methods = append(methods, m.Method)
	}
	if len(methods) != 2 || methods[0] != "sendPhoto" || methods[1] != "sendDocument" {
		t.Fatalf("methods = %v", methods)
	}
}

func TestFailedDownload(t *testing.T) {
	s := newServer(t)
	b := newBot(t, s)
	ctx := testCtx(t)
	sl := s.Seller(1, "en", "Al")
	sl.SendPhoto([]byte("not really a jpeg"), 800, 600, "")
	ups := poll(ctx, t, s, map[string]string{"timeout": "0"})
	file, err := b.GetFile(ctx, &bot.GetFileParams{FileID: ups[0].Message.Photo[1].FileID})
	if err != nil {
		t.Fatal(err)
	}
	s.Fail("file", 0, 1, Reply{Status: http.StatusBadGateway, HTML: true})
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.FileDownloadLink(file), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	if data := download(ctx, t, b.FileDownloadLink(file)); string(data) != "not really a jpeg" {
		t.Fatalf("second download = %q", data)
	}
	if ups[0].Message.Photo[0].FileSize >= ups[0].Message.Photo[1].FileSize {
		t.Fatalf("thumb of undecodable bytes is not smaller: %+v", ups[0].Message.Photo)
	}
}
