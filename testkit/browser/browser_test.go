package browser

import (
	"bytes"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

func TestPageShownAndShot(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><title>hello</title><h1 id="h">Привет, браузер</h1>`))
	}))
	defer srv.Close()
	ctx := New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#h")))
	if err != nil || text != "Привет, браузер" {
		t.Fatalf("heading = %q, %v", text, err)
	}
	dir := t.TempDir()
	Shot(t, ctx, dir, "hello")
	data, err := os.ReadFile(filepath.Join(dir, "hello.png"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil || img.Bounds().Dx() == 0 {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
}
