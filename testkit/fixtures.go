package testkit

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"sync"
	"time"

	"neurocards/config"
)

// Fake credentials for the fakes: they never reach anything else. The bot token has Telegram's
// shape (bot id, colon, 35 characters), which configuration checks.
const (
	BotToken   = "123456:sandbox-token-for-the-fake-telegram"
	KIEKey     = "sandbox-kie-key"
	AdminToken = "sandbox-admin-token"
)

// FastTiming makes every delay short enough for a test, keeping their proportions.
func FastTiming(c *config.Config) {
	t := &c.Timing
	t.JobTimeout = 30 * time.Second
	t.KIEAttemptTimeout = 10 * time.Second
	t.UploadTimeout = 10 * time.Second
	t.PollMin = 10 * time.Millisecond
	t.PollMax = 50 * time.Millisecond
	t.PollDense = 20 * time.Millisecond
	t.RetryBase = 20 * time.Millisecond
	t.RetryMax = 200 * time.Millisecond
	t.StatusInterval = 50 * time.Millisecond
	t.StatusTick = 100 * time.Millisecond
	t.BreakerCooldown = 300 * time.Millisecond
	t.DelayedRecheck = 100 * time.Millisecond
	t.TelegramPoll = 2 * time.Second
	t.TelegramCall = 5 * time.Second
	t.ShutdownGrace = 5 * time.Second
	c.Limits.TelegramPerChat = 10 * time.Millisecond
	c.Limits.TelegramPerSec = 1000
	// The fakes generate in milliseconds: a queue for KIE's budget leaves a job time to finish.
	for i := range c.Kinds {
		c.Kinds[i].ExpectedSeconds = 1
	}
}

// Photo returns a JPEG of the given size, a stand-in for a seller's product photo.
func Photo(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), 180, 255})
		}
	}
	var buf bytes.Buffer
	_ = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80})
	return buf.Bytes()
}

// Buffer is a bytes.Buffer safe for the concurrent writes of a logger or a child process, for
// tests that show the bot's output when they fail.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
