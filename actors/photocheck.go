package actors

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"time"

	"github.com/anthdm/hollywood/actor"

	"neurocards/messages"
	"neurocards/telegram"
)

// photoCheck is what measuring an image sent as a file found.
type photoCheck struct {
	width, height int
	err           error
}

var (
	errFetch      = errors.New("the file could not be fetched from Telegram")
	errUnreadable = errors.New("the file is not an image we can read")
)

// checkPhoto measures an image sent as a file, off the actor: it downloads the file only as far
// as the image header and sends the answer back as photoChecked. The update stays unconfirmed
// until then, so a crash in between only means Telegram delivers it again.
func (s *session) checkPhoto(c *actor.Context, m messages.Update, p messages.Photo) {
	e, self := c.Engine(), c.PID()
	g, log := s.d.Telegram, s.d.Log
	maxBytes, timeout := s.d.Config.Limits.MaxPhotoBytes, s.d.Config.Timing.UploadTimeout
	goSafe(func(reason, stack string) {
		log.Error("measuring an image panicked", "user_id", s.uid, "panic", reason, "stack", stack)
		e.Send(self, photoChecked{update: m, check: photoCheck{err: errUnreadable}})
	}, func() {
		w, h, err := imageSize(g, p.FileID, maxBytes, timeout)
		if err != nil {
			log.Info("an image sent as a file was refused", "user_id", s.uid, "mime", p.Mime, "err", err)
		}
		e.Send(self, photoChecked{update: m, check: photoCheck{width: w, height: h, err: err}})
	})
}

// imageSize reads an image's dimensions from the first bytes of a Telegram file. The download
// feeds the decoder through a pipe; once the decoder has the header, the rest of the file is
// dropped as it arrives (not cut off, which the Telegram breaker would count as a failure).
func imageSize(g *telegram.Gateway, fileID string, maxBytes int64, timeout time.Duration) (int, int, error) {
	pr, pw := io.Pipe()
	fetched := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		_, err := g.Download(ctx, fileID, &headWriter{pw: pw}, maxBytes)
		pw.CloseWithError(err)
		fetched <- err
	}()
	cfg, format, err := image.DecodeConfig(pr)
	pr.Close()
	if err == nil {
		if !photoFormats[format] {
			return 0, 0, fmt.Errorf("%w: %s", errUnreadable, format)
		}
		return cfg.Width, cfg.Height, nil
	}
	if ferr := <-fetched; ferr != nil {
		if errors.Is(ferr, telegram.ErrTooLarge) {
			return 0, 0, ferr
		}
		return 0, 0, fmt.Errorf("%w: %v", errFetch, ferr)
	}
	return 0, 0, fmt.Errorf("%w: %v", errUnreadable, err)
}

// photoFormats are the image formats KIE takes; other decoders may be linked in (GIF, by the sandbox).
var photoFormats = map[string]bool{"jpeg": true, "png": true, "webp": true}

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

// WebP: golang.org/x/image is not a dependency, and only the dimensions are needed, which the
// first 30 bytes of every WebP file carry (RFC 9649: the VP8, VP8L and VP8X chunk headers).
func init() {
	image.RegisterFormat("webp", "RIFF????WEBPVP8", func(io.Reader) (image.Image, error) {
		return nil, errors.New("webp: only the dimensions can be read")
	}, webpConfig)
}

func webpConfig(r io.Reader) (image.Config, error) {
	var h [30]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return image.Config{}, fmt.Errorf("webp: %w", err)
	}
	cfg := image.Config{ColorModel: color.NRGBAModel}
	switch string(h[12:16]) {
	case "VP8X": // flags, 3 reserved bytes, then canvas width−1 and height−1, 24 bits each
		cfg.Width = 1 + (int(h[24]) | int(h[25])<<8 | int(h[26])<<16)
		cfg.Height = 1 + (int(h[27]) | int(h[28])<<8 | int(h[29])<<16)
	case "VP8 ": // a 3-byte frame tag, the start code 9d 01 2a, then 14-bit width and height
		if h[23] != 0x9d || h[24] != 0x01 || h[25] != 0x2a {
			return image.Config{}, errors.New("webp: bad VP8 start code")
		}
		cfg.Width = int(binary.LittleEndian.Uint16(h[26:28]) & 0x3fff)
		cfg.Height = int(binary.LittleEndian.Uint16(h[28:30]) & 0x3fff)
	case "VP8L": // the signature 0x2f, then width−1 and height−1, 14 bits each
		if h[20] != 0x2f {
			return image.Config{}, errors.New("webp: bad VP8L signature")
		}
		bits := binary.LittleEndian.Uint32(h[21:25])
		cfg.Width, cfg.Height = 1+int(bits&0x3fff), 1+int(bits>>14&0x3fff)
	default:
		return image.Config{}, errors.New("webp: unknown chunk")
	}
	return cfg, nil
}
