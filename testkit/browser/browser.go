// Package browser runs headless Chromium for tests that look at a page the way a person does:
// through chromedp, on loopback only, with a fresh profile that is thrown away afterwards.
package browser

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// New starts headless Chromium with a fresh profile and returns a chromedp context for one tab;
// the browser is closed when the test ends. Chromium is $CHROMIUM, /usr/bin/chromium or
// `chromium` on PATH; without one the test fails and says to run `make chromium`.
func New(t testing.TB) context.Context {
	t.Helper()
	path := chromium()
	if path == "" {
		t.Fatal("browser: no Chromium ($CHROMIUM, /usr/bin/chromium or chromium on PATH): run `make chromium`")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	// Cleanups run last-in first-out: the browser is gone before its profile directory is removed.
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first action starts the browser; a Chromium that cannot start fails here, not later.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("browser: start %s: %v", path, err)
	}
	return ctx
}

// Shot saves a full-page screenshot of the tab as dir/name.png.
func Shot(t testing.TB, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("browser: screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatalf("browser: screenshot %s: %v", name, err)
	}
}

func chromium() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	p, _ := exec.LookPath("chromium")
	return p
}
