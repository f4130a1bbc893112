package chatpage

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"neurocards/keyboard"
	"neurocards/testkit/browser"
	"neurocards/testkit/harness"
)

// A person plays Анна in a browser: orders a video by typing and tapping and watches it play,
// buys a pack through the invoice and sees the balance change, makes KIE fail, reads the failure
// and its retry button, taps it and gets the video.
func TestPlayTheSellerInABrowser(t *testing.T) {
	env, url := startPage(t)
	b := &tab{t: t, ctx: browser.New(t), dir: shotsDir(t)}
	b.do(chromedp.EmulateViewport(1440, 960), chromedp.Navigate(url))
	b.wait("the sellers and an empty chat", `document.querySelectorAll("#seller-list li").length === 3 && document.querySelector("#menu-button") !== null`)
	b.shot("start")

	b.typeAndSend("/start")
	b.waitBotButton(keyboard.Kind.Data("video"))
	b.do(chromedp.Click(chromedp.CSS("#menu-button")))
	b.wait("the command menu from setMyCommands", `!document.querySelector("#menu").hidden && document.querySelectorAll('#menu [data-command="/balance"]').length === 1`)
	b.shot("menu")
	b.do(chromedp.Click(chromedp.CSS(`#menu [data-command="/balance"]`)))
	b.waitBotText("Баланс: 20")

	b.tapLast(keyboard.Kind.Data("video"))
	b.waitBotText("фото")
	photo := filepath.Join(t.TempDir(), "mug.jpg")
	if err := os.WriteFile(photo, harness.Photo(900, 1200), 0o600); err != nil {
		t.Fatal(err)
	}
	b.do(chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{photo}))
	b.wait("the photo in the chat", `document.querySelector(".row.out img.media") !== null`)
	b.waitBotButton(keyboard.Skip.Prefix())
	b.typeAndSend("Керамическая кружка 350 мл, матовая, ручная работа")
	b.waitBotButton(keyboard.Generate.Prefix())
	b.shot("confirm")
	b.tapLast(keyboard.Generate.Prefix())
	b.waitVideos(1)
	b.do(chromedp.Click(chromedp.CSS(".row.in .video .play")))
	b.wait("the video playing", `(() => { const v = document.querySelector(".row.in video"); return !v.paused && v.currentTime > 0.2; })()`)
	b.wait("the status saying done", `[...document.querySelectorAll(".row.in .text")].some(e => e.textContent.includes("Готово"))`)
	b.waitBalance(10)
	b.shot("video")

	b.typeAndSend("/buy")
	b.waitBotButton(keyboard.Buy.Data("10"))
	b.tapLast(keyboard.Buy.Data("10"))
	b.wait("the invoice", `document.querySelector(".keyboard .pay") !== null`)
	b.shot("invoice")
	b.do(chromedp.Click(chromedp.CSS(".keyboard .pay")))
	b.waitBotText("Оплата прошла")
	b.waitBalance(20)
	b.wait("the invoice marked paid", `document.querySelector(".keyboard .paid") !== null`)
	b.shot("paid")

	b.do(chromedp.Click(chromedp.CSS(`[data-fault="kie-policy"]`)))
	b.wait("the failure queued", `document.querySelector("#kie-queue").textContent.includes("content policy")`)
	b.tapLast(keyboard.Again.Data("video"))
	b.waitBotButton(keyboard.Retry.Prefix())
	b.waitBalance(20)
	b.wait("the status saying it failed", `[...document.querySelectorAll(".row.in .text")].some(e => e.textContent.includes("Не получилось"))`)
	b.shot("failure")
	failure := b.text(`[...document.querySelectorAll(".row.in")].filter(r => r.querySelector('button[data-data^="` + keyboard.Retry.Prefix() + `"]')).pop().innerText`)
	if !strings.Contains(failure, "фото") {
		t.Errorf("the failure message does not tell the seller what to change: %q", failure)
	}

	b.tapLast(keyboard.Retry.Prefix())
	b.waitVideos(2)
	b.waitBalance(10)
	b.wait("both videos' statuses saying done", `[...document.querySelectorAll(".row.in .text")].filter(e => e.textContent.includes("Готово!")).length === 2`)
	b.shot("retried")

	// Another seller has their own chat and balance; switching back shows Анна's chat again.
	b.do(chromedp.Click(chromedp.CSS(`#seller-list li[data-seller="102"]`)))
	b.wait("Ben's empty chat", `document.querySelector("#chat-seller").textContent.includes("Ben") && document.querySelectorAll("#messages .row").length === 0`)
	b.typeAndSend("/start")
	b.waitBotText("Hi, Ben")
	b.waitBalance(20)
	b.shot("another-seller")
	b.do(chromedp.Click(chromedp.CSS(`#seller-list li[data-seller="101"]`)))
	b.waitVideos(2)
	b.waitBalance(10)

	a := env.Bot()
	rows, err := a.Store.Ledger(101, 0)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for i := len(rows) - 1; i >= 0; i-- {
		types = append(types, string(rows[i].Type))
	}
	if got, want := strings.Join(types, " "), "grant hold capture purchase hold release hold capture"; got != want {
		t.Errorf("ledger: %s, want %s", got, want)
	}
	if n := len(env.KIE.Tasks()); n != 3 {
		t.Errorf("KIE tasks: %d, want 3", n)
	}
}

// shotsDir is where the screenshots of each step go: the test's temporary directory, or
// $NEUROCARDS_SHOTS to keep them for a look.
func shotsDir(t *testing.T) string {
	dir := os.Getenv("NEUROCARDS_SHOTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots: %s", dir)
	return dir
}

// startPage runs the bot on the fakes with the page's pacing and serves the page on loopback.
func startPage(t *testing.T) (*harness.Env, string) {
	t.Helper()
	env, err := harness.Start(harness.Options{DataDir: t.TempDir(), Configure: Configure})
	if err != nil {
		t.Fatal(err)
	}
	page := New(env, nil, nil)
	srv := newServer(page)
	t.Cleanup(func() {
		page.Close()
		srv.Close()
		if a := env.Bot(); a != nil {
			report, err := a.Store.Check()
			if err != nil {
				t.Errorf("check: %v", err)
			} else {
				for _, v := range report.Violations {
					t.Errorf("ledger invariant: %s", v)
				}
			}
		}
		if err := env.Stop(); err != nil {
			t.Errorf("stopping the bot: %v", err)
		}
	})
	return env, srv.URL + "/"
}

// tab is the page open in the browser, with the steps a person takes.
type tab struct {
	t   *testing.T
	ctx context.Context
	dir string
	n   int
}

// patience is how long one step may take; a job on the page's pacing takes a few seconds.
const patience = 30 * time.Second

func (b *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, patience)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fail("%v", err)
	}
}

func (b *tab) fail(format string, args ...any) {
	b.t.Helper()
	browser.Shot(b.t, b.ctx, b.dir, "failed")
	b.t.Fatalf(format+"\n(the page at that moment: %s)", append(args, filepath.Join(b.dir, "failed.png"))...)
}

// wait waits until a JavaScript expression is true in the page.
func (b *tab) wait(what, expr string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, patience+5*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingTimeout(patience), chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		b.fail("waiting for %s (%s): %v", what, expr, err)
	}
}

func (b *tab) text(expr string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		b.fail("%s: %v", expr, err)
	}
	return s
}

func (b *tab) shot(name string) {
	b.t.Helper()
	b.n++
	browser.Shot(b.t, b.ctx, b.dir, fmt.Sprintf("%02d-%s", b.n, name))
}

// typeAndSend types into the message box and presses the send button.
func (b *tab) typeAndSend(text string) {
	b.t.Helper()
	b.do(chromedp.SendKeys(chromedp.CSS("#text"), text), chromedp.Click(chromedp.CSS("#send")))
	b.wait("the message sent", fmt.Sprintf(`[...document.querySelectorAll(".row.out .text")].some(e => e.textContent === %q)`, text))
}

// tapLast clicks the button whose callback data starts with prefix on the latest bot message
// that has one, as a person taps the newest keyboard.
func (b *tab) tapLast(prefix string) {
	b.t.Helper()
	sel := b.text(fmt.Sprintf(`(() => {
		const bs = [...document.querySelectorAll('.row.in .keyboard button[data-data^=%q]')];
		if (!bs.length) return "";
		const btn = bs.pop();
		return '.row[data-id="' + btn.closest(".row").dataset.id + '"] button[data-data="' + btn.dataset.data + '"]';
	})()`, prefix))
	if sel == "" {
		b.fail("no button %q on the page", prefix)
	}
	b.do(chromedp.Click(chromedp.CSS(sel)))
}

func (b *tab) waitBotButton(prefix string) {
	b.t.Helper()
	b.wait("a bot message with the button "+prefix, fmt.Sprintf(`document.querySelector('.row.in .keyboard button[data-data^=%q]') !== null`, prefix))
}

func (b *tab) waitBotText(s string) {
	b.t.Helper()
	b.wait("a bot message saying "+s, fmt.Sprintf(`[...document.querySelectorAll(".row.in .text")].some(e => e.textContent.includes(%q))`, s))
}

// waitVideos waits until n videos are in the chat and the newest one plays: the browser read
// its metadata, knows its length and has data to show.
func (b *tab) waitVideos(n int) {
	b.t.Helper()
	b.wait(fmt.Sprintf("%d playable videos", n), fmt.Sprintf(`(() => {
		const vs = document.querySelectorAll(".row.in video");
		if (vs.length !== %d) return false;
		const v = vs[vs.length - 1];
		return v.readyState >= HTMLMediaElement.HAVE_FUTURE_DATA && v.duration > 0 && !v.error;
	})()`, n))
}

func (b *tab) waitBalance(credits int) {
	b.t.Helper()
	b.wait(fmt.Sprintf("the balance to be %d", credits), fmt.Sprintf(`document.querySelector("#balance").textContent === "%d"`, credits))
}
