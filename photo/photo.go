// Package photo decides whether a seller's product photo can go to KIE — before anything is
// held — and measures an image sent as a file by reading only its header.
package photo

import (
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // image.DecodeConfig reads the dimensions of photos sent as files
	_ "image/png"
	"io"
	"time"

	_ "golang.org/x/image/webp"

	"neurocards/messages"
	"neurocards/telegram"
)

// Limits are what KIE takes: the file size, the short side, and an upper bound on each side and
// on the pixel count, so a header that claims 100000×100000 is refused instead of trusted.
type Limits struct {
	MaxBytes  int64
	MinSide   int
	MaxSide   int
	MaxPixels int64
}

// Verdict is what the check found wrong with a photo, or Fine.
type Verdict int

const (
	Fine Verdict = iota
	TooLarge
	TooSmall
	TooBig // larger than MaxSide or MaxPixels in pixels
	Unmeasured
)

// Check judges a photo whose size and dimensions are known (a Telegram photo, or a file after
// Measure). A photo without dimensions is Unmeasured: measure it first.
func Check(p messages.Photo, lim Limits) Verdict {
	switch {
	case p.Size > lim.MaxBytes:
		return TooLarge
	case p.Width <= 0 || p.Height <= 0:
		return Unmeasured
	case min(p.Width, p.Height) < lim.MinSide:
		return TooSmall
	case lim.MaxSide > 0 && max(p.Width, p.Height) > lim.MaxSide,
		lim.MaxPixels > 0 && int64(p.Width)*int64(p.Height) > lim.MaxPixels:
		return TooBig
	}
	return Fine
}

var (
	// ErrFetch means the file could not be fetched from Telegram.
	ErrFetch = errors.New("the file could not be fetched from Telegram")
	// ErrUnreadable means the file is not an image we can read.
	ErrUnreadable = errors.New("the file is not an image we can read")
)

// Formats are the image formats KIE takes; other decoders may be linked in (GIF, by the sandbox).
var Formats = map[string]bool{"jpeg": true, "png": true, "webp": true}

// Measure reads an image's dimensions from the first bytes of a Telegram file. The download feeds
// the decoder through a pipe; once the decoder has the header, the rest of the file is dropped as
// it arrives (not cut off, which the Telegram breaker would count as a failure).
func Measure(g *telegram.Gateway, fileID string, maxBytes int64, timeout time.Duration) (int, int, error) {
	pr, pw := io.Pipe()
	fetched := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		_, err := g.Download(ctx, fileID, &headWriter{pw: pw}, maxBytes)
		pw.CloseWithError(err)
		fetched <- err
	}()
	w, h, err := Header(pr)
	pr.Close()
	if err == nil {
		return w, h, nil
	}
	if ferr := <-fetched; ferr != nil {
		if errors.Is(ferr, telegram.ErrTooLarge) {
			return 0, 0, ferr
		}
		return 0, 0, fmt.Errorf("%w: %v", ErrFetch, ferr)
	}
	return 0, 0, err
}

// Header reads the dimensions from an image's header, for the formats KIE takes.
func Header(r io.Reader) (int, int, error) {
	cfg, format, err := image.DecodeConfig(r)
	if err != nil {
		return 0, 0, fmt.Errorf("%w: %v", ErrUnreadable, err)
	}
	if !Formats[format] {
		return 0, 0, fmt.Errorf("%w: %s", ErrUnreadable, format)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return 0, 0, fmt.Errorf("%w: %d×%d", ErrUnreadable, cfg.Width, cfg.Height)
	}
	return cfg.Width, cfg.Height, nil
}

// headWriter hands a download to the decoder until the decoder stops reading, then drops the rest.
type headWriter struct {
	pw     *io.PipeWriter
	closed bool
}

func (w *headWriter) Write(p []byte) (int, error) {
	if !w.closed {
		if _, err := w.pw.Write(p); err != nil {
			w.closed = true
		}
	}
	return len(p), nil
}
