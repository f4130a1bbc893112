package photo

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"

	"neurocards/messages"
)

func encode(t testing.TB, format string, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	img.Set(0, 0, color.White)
	var buf bytes.Buffer
	var err error
	if format == "png" {
		err = png.Encode(&buf, img)
	} else {
		err = jpeg.Encode(&buf, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestHeader(t *testing.T) {
	for _, f := range []string{"png", "jpeg"} {
		w, h, err := Header(bytes.NewReader(encode(t, f, 640, 480)))
		if err != nil || w != 640 || h != 480 {
			t.Errorf("%s: %d×%d %v", f, w, h, err)
		}
	}
	// A lossless WebP of 1×1 (RIFF, VP8L), read by golang.org/x/image/webp.
	webp := []byte("RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00")
	if w, h, err := Header(bytes.NewReader(webp)); err != nil || w != 1 || h != 1 {
		t.Errorf("webp: %d×%d %v", w, h, err)
	}
	if _, _, err := Header(bytes.NewReader([]byte("GIF89a..."))); !errors.Is(err, ErrUnreadable) {
		t.Errorf("not an image: %v", err)
	}
}

func TestCheck(t *testing.T) {
	lim := Limits{MaxBytes: 10 << 20, MinSide: 300, MaxSide: 8000, MaxPixels: 40_000_000}
	for _, c := range []struct {
		p    messages.Photo
		want Verdict
	}{
		{messages.Photo{Width: 800, Height: 600, Size: 1000}, Fine},
		{messages.Photo{Width: 800, Height: 200, Size: 1000}, TooSmall},
		{messages.Photo{Width: 100000, Height: 100000, Size: 56}, TooBig},
		{messages.Photo{Width: 7000, Height: 7000, Size: 56}, TooBig},
		{messages.Photo{Size: 11 << 20}, TooLarge},
		{messages.Photo{Size: 5000}, Unmeasured},
	} {
		if got := Check(c.p, lim); got != c.want {
			t.Errorf("%+v: %v, want %v", c.p, got, c.want)
		}
	}
}

// FuzzHeader: the header of a file a seller sends is read without panicking, and whatever it
// claims, Check never lets a photo past the bounds.
func FuzzHeader(f *testing.F) {
	f.Add(encode(f, "png", 2, 3))
	f.Add(encode(f, "jpeg", 4, 5))
	f.Add([]byte("RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"))
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	lim := Limits{MaxBytes: 10 << 20, MinSide: 300, MaxSide: 8000, MaxPixels: 40_000_000}
	f.Fuzz(func(t *testing.T, data []byte) {
		w, h, err := Header(bytes.NewReader(data))
		if err != nil {
			return
		}
		if w <= 0 || h <= 0 {
			t.Fatalf("%d×%d accepted", w, h)
		}
		if Check(messages.Photo{Width: w, Height: h, Size: int64(len(data))}, lim) == Fine && (max(w, h) > lim.MaxSide || min(w, h) < lim.MinSide) {
			t.Fatalf("%d×%d passed the check", w, h)
		}
	})
}
