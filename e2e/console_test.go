package e2e

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"neurocards/config"
	"neurocards/messages"
	"neurocards/testkit/browser"
	"neurocards/testkit/harness"
	"neurocards/testkit/kiefake"
)

const adminToken = "console-admin-token-5d1e"

// withConsole gives the bot an admin token, so the dashboard is served.
func withConsole(c *config.Config) { c.AdminToken = adminToken }

func (b *bot) adminURL(path string) string { return "http://" + b.App.Admin.Addr() + path }

// secrets are what no page and no scrape may show.
var secrets = []string{harness.BotToken, harness.KIEKey, adminToken}

func noSecrets(t *testing.T, what, body string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(body, s) {
			t.Errorf("%s shows a secret (%.6s…)", what, s)
		}
	}
}

// delivered orders a card for a new seller and waits until it is delivered.
func delivered(t *testing.T, b *bot, uid int64) messages.Job {
	t.Helper()
	s := greet(t, b, uid, "en")
	status := order(t, s, "card", "Ceramic mug, 350 ml")
	s.ExpectNew(t, wait, status.ID, "the card", isFile("sendPhoto"))
	statusSays(t, s, status.ID, "Done")
	eventually(t, "the job to be recorded as delivered", func() bool {
		jobs := b.jobs(uid)
		return len(jobs) == 1 && jobs[0].Outcome == messages.OutcomeDone
	})
	return b.jobs(uid)[0]
}

// page drives one browser tab through the dashboard, saving a screenshot of each page.
type page struct {
	t     *testing.T
	ctx   context.Context
	b     *bot
	shots string
}

// newPage opens a browser. Screenshots go to the test's temporary directory, or to
// $NEUROCARDS_SHOTS/<test> to keep them.
func newPage(t *testing.T, b *bot) *page {
	dir := t.TempDir()
	if keep := os.Getenv("NEUROCARDS_SHOTS"); keep != "" {
		dir = filepath.Join(keep, t.Name())
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return &page{t: t, ctx: browser.New(t), b: b, shots: dir}
}

// browserWait bounds one browser step: a page load and a few clicks, on a machine that may be
// busy with other tests.
const browserWait = time.Minute

// do runs browser actions, each step bounded by browserWait.
func (p *page) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, browserWait)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.t.Fatalf("browser: %s: %v", what, err)
	}
}

func (p *page) text(sel string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, browserWait)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		p.t.Fatalf("browser: text of %s: %v", sel, err)
	}
	return s
}

// shot saves the page as name.png and checks it shows no secret.
func (p *page) shot(name string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, browserWait)
	defer cancel()
	html, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil {
		p.t.Fatalf("browser: page %s: %v", name, err)
	}
	noSecrets(p.t, "page "+name, html)
	browser.Shot(p.t, p.ctx, p.shots, name)
}

// login opens the dashboard, is sent to the login form, and logs in with the token.
func (p *page) login() {
	p.t.Helper()
	p.do("open the dashboard", chromedp.Navigate(p.b.adminURL("/")), chromedp.WaitVisible(chromedp.ID("token")))
	p.shot("login")
	p.do("log in",
		chromedp.SendKeys(chromedp.ID("token"), adminToken),
		chromedp.Click(chromedp.CSS("form button")),
		chromedp.WaitVisible(chromedp.CSS(".grid")),
	)
	if h := p.text("h1"); h != "Overview" {
		p.t.Fatalf("after login the page is %q", h)
	}
}

// TestConsoleInABrowser: an operator logs in with the token, sees the job the fakes delivered on
// the overview, opens its seller, grants credits through the form and sees the new ledger row
// and balance; every page renders, with a screenshot of each.
func TestConsoleInABrowser(t *testing.T) {
	b := start(t, withConsole)
	j := delivered(t, b, 501)
	b.KIE.Script(func(int, string, map[string]any) kiefake.Script {
		return kiefake.Script{Outcome: kiefake.Outcome{Fail: true, FailCode: "400", FailMsg: "Your prompt was flagged by Website as violating content policies"}}
	})
	s := greet(t, b, 505, "en")
	failedWith(t, s, order(t, s, "card", "").ID, "returned to your balance")
	p := newPage(t, b)
	p.login()

	main := p.text("main")
	for _, want := range []string{fmt.Sprintf("#%d", j.ID), "done", "Jobs in flight", "KIE generation time", "p50", "kie breaker", "content_policy"} {
		if !strings.Contains(main, want) {
			t.Errorf("the overview lacks %q:\n%s", want, main)
		}
	}
	p.shot("overview")

	p.do("open the seller", chromedp.Click(chromedp.CSS(`a[href="/sellers/501"]`)), chromedp.WaitVisible(chromedp.ID("balance")))
	if got := p.text("#balance"); got != "17" {
		t.Errorf("balance before the grant: %q, want 17", got)
	}
	p.shot("seller")

	p.do("grant credits",
		chromedp.SendKeys(chromedp.ID("grant-amount"), "50"),
		chromedp.SendKeys(chromedp.ID("grant-reason"), "goodwill for a slow card"),
		chromedp.Click(chromedp.CSS("#grant button")),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	if flash := p.text(".flash"); !strings.Contains(flash, "Done: +50 credits") {
		t.Errorf("after the grant: %q", flash)
	}
	if got := p.text("#balance"); got != "67" {
		t.Errorf("balance after the grant: %q, want 67", got)
	}
	if got := p.text("#available"); got != "67" {
		t.Errorf("available after the grant: %q, want 67", got)
	}
	newest := p.text("#ledger tbody tr:first-child")
	for _, want := range []string{"adjust", "+50", "goodwill for a slow card", "dashboard"} {
		if !strings.Contains(newest, want) {
			t.Errorf("the newest ledger row %q lacks %q", newest, want)
		}
	}
	p.shot("seller-granted")

	p.do("grant a typo",
		chromedp.SendKeys(chromedp.ID("grant-amount"), "5O"),
		chromedp.SendKeys(chromedp.ID("grant-reason"), "typo"),
		chromedp.Click(chromedp.CSS("#grant button")),
		chromedp.WaitVisible(chromedp.CSS(".message")),
	)
	if msg := p.text(".message"); !strings.Contains(msg, `"5O" is not a whole number of credits`) || !strings.Contains(msg, "Nothing was changed") {
		t.Errorf("the refusal says %q", msg)
	}
	p.shot("refused")
	p.do("go back", chromedp.Click(chromedp.CSS("main a")), chromedp.WaitVisible(chromedp.ID("balance")))
	if got := p.text("#balance"); got != "67" {
		t.Errorf("balance after the refused grant: %q, want 67", got)
	}
	if got := b.ledger(501); got != "grant+20 hold(3) capture-3 adjust+50" {
		t.Errorf("ledger: %s", got)
	}

	p.do("open the job", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#jobs a[href="/jobs/%d"]`, j.ID))), chromedp.WaitVisible(chromedp.ID("stages")))
	job := p.text("main")
	for _, want := range []string{"queued", "uploading", "submitted", "generated", "downloaded", "delivered", j.TaskID, "hold", "capture"} {
		if !strings.Contains(job, want) {
			t.Errorf("the job page lacks %q:\n%s", want, job)
		}
	}
	p.shot("job")

	p.do("list the jobs", chromedp.Navigate(b.adminURL("/jobs?outcome=done&kind=card")), chromedp.WaitVisible(chromedp.CSS("table")))
	if !strings.Contains(p.text("table"), fmt.Sprintf("#%d", j.ID)) {
		t.Error("the delivered job is not among the done card jobs")
	}
	p.shot("jobs")

	p.do("search sellers",
		chromedp.Navigate(b.adminURL("/sellers")),
		chromedp.SendKeys(chromedp.ID("q"), "Seller501"),
		chromedp.Click(chromedp.CSS("form.search button")),
		chromedp.WaitVisible(chromedp.CSS(`input#q[value="Seller501"]`)), // the answer's page
	)
	if !strings.Contains(p.text("table"), "501") {
		t.Error("searching by name does not find the seller")
	}
	p.shot("sellers")

	p.do("log out", chromedp.Click(chromedp.CSS("form.logout button")), chromedp.WaitVisible(chromedp.ID("token")))
}

// TestConsoleFormActsOnce: the same grant form submitted twice adds one ledger row; the second
// submission says it was done already.
func TestConsoleFormActsOnce(t *testing.T) {
	b := start(t, withConsole)
	greet(t, b, 502, "ru")
	p := newPage(t, b)
	p.login()
	p.do("open the seller", chromedp.Navigate(b.adminURL("/sellers/502")), chromedp.WaitVisible(chromedp.ID("grant")))
	p.do("fill the grant form",
		chromedp.SendKeys(chromedp.ID("grant-amount"), "25"),
		chromedp.SendKeys(chromedp.ID("grant-reason"), "compensation"),
	)
	// The form posted twice exactly as the browser would post it: the same fields, the same key.
	ctx, cancel := context.WithTimeout(p.ctx, browserWait)
	defer cancel()
	answers, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(async () => {
		const f = document.getElementById("grant");
		const post = async () => (await fetch(f.action, {method: "POST", body: new URLSearchParams(new FormData(f))})).text();
		return [await post(), await post()];
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(html.UnescapeString(answers[0]), "Done: +25 credits") || !strings.Contains(answers[1], "Already done") {
		t.Errorf("answers to the two posts:\n%.300s\n---\n%.300s", answers[0], answers[1])
	}
	p.do("reload", chromedp.Navigate(b.adminURL("/sellers/502")), chromedp.WaitVisible(chromedp.ID("ledger")))
	if n := strings.Count(p.text("#ledger"), "compensation"); n != 1 {
		t.Errorf("ledger rows with the reason: %d, want 1", n)
	}
	if got := p.text("#balance"); got != "45" {
		t.Errorf("balance: %q, want 45", got)
	}
	p.shot("seller-after-double-submit")
	if got := b.ledger(502); got != "grant+20 adjust+25" {
		t.Errorf("ledger: %s", got)
	}
}

// operator is a logged-in dashboard client without a browser.
type operator struct {
	t    *testing.T
	b    *bot
	http *http.Client
}

func loginHTTP(t *testing.T, b *bot) *operator {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	o := &operator{t: t, b: b, http: &http.Client{Jar: jar}}
	status, body := o.post("/login", url.Values{"token": {adminToken}})
	if status != http.StatusOK || !strings.Contains(body, "Overview") {
		t.Fatalf("login: %d %.200s", status, body)
	}
	return o
}

func (o *operator) get(path string) (int, string) {
	o.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, o.b.adminURL(path), nil)
	req.Header.Set("Accept", "text/html")
	return o.send(req)
}

func (o *operator) post(path string, form url.Values) (int, string) {
	o.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, o.b.adminURL(path), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html")
	return o.send(req)
}

func (o *operator) send(req *http.Request) (int, string) {
	o.t.Helper()
	resp, err := o.http.Do(req)
	if err != nil {
		o.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	noSecrets(o.t, req.URL.Path, string(body))
	return resp.StatusCode, string(body)
}

var hidden = regexp.MustCompile(`<input type="hidden" name="(csrf|key)" value="([^"]*)">`)

// form reads the CSRF token and a fresh one-time key from a seller's page.
func (o *operator) form(uid int64) url.Values {
	o.t.Helper()
	status, body := o.get(fmt.Sprintf("/sellers/%d", uid))
	if status != http.StatusOK {
		o.t.Fatalf("seller page: %d %.300s", status, body)
	}
	v := url.Values{}
	for _, m := range hidden.FindAllStringSubmatch(body, -1) {
		if v.Get(m[1]) == "" {
			v.Set(m[1], m[2])
		}
	}
	if v.Get("csrf") == "" || v.Get("key") == "" {
		o.t.Fatalf("the seller page has no form fields:\n%s", body)
	}
	return v
}

func with(v url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out.Set(kv[i], kv[i+1])
	}
	return out
}

// TestConsoleRefusesBadInput: every kind of bad request gets a page with the reason and changes
// nothing; a script with the Bearer token may act without a form token.
func TestConsoleRefusesBadInput(t *testing.T) {
	b := start(t, withConsole)
	j := delivered(t, b, 503)
	before := b.ledger(503)
	o := loginHTTP(t, b)
	f := o.form(503)
	other := loginHTTP(t, b).form(503) // another login's form: its CSRF token is not this session's

	for _, c := range []struct {
		name, path string
		form       url.Values // nil: a GET
		status     int
		reason     string
	}{
		{"unknown seller page", "/sellers/999", nil, 404, "There is no seller 999"},
		{"seller id not a number", "/sellers/abc", nil, 400, "is not a seller id"},
		{"unknown job page", "/jobs/999", nil, 404, "There is no job 999"},
		{"unknown stage", "/jobs?stage=cooking", nil, 400, "There is no stage"},
		{"missing CSRF token", "/sellers/503/grant", with(f, "csrf", "", "amount", "5", "reason", "x"), 403, "no CSRF token"},
		{"stale CSRF token", "/sellers/503/grant", with(f, "csrf", other.Get("csrf"), "amount", "5", "reason", "x"), 403, "stale"},
		{"amount not a number", "/sellers/503/grant", with(f, "amount", "ten", "reason", "x"), 400, "is not a whole number of credits"},
		{"amount overflows", "/sellers/503/grant", with(f, "amount", "99999999999999999999", "reason", "x"), 400, "out of range"},
		{"amount beyond the bounds", "/sellers/503/grant", with(f, "amount", "2000000000", "reason", "x"), 400, "out of range"},
		{"available below zero", "/sellers/503/grant", with(f, "amount", "-18", "reason", "x"), 409, "below zero"},
		{"zero amount", "/sellers/503/grant", with(f, "amount", "0", "reason", "x"), 400, "The amount is 0"},
		{"no reason", "/sellers/503/grant", with(f, "amount", "5", "reason", " "), 400, "Give a reason"},
		{"no one-time key", "/sellers/503/grant", with(f, "key", "", "amount", "5", "reason", "x"), 400, "no one-time key"},
		{"unknown seller action", "/sellers/999/grant", with(f, "amount", "5", "reason", "x"), 404, "There is no seller 999"},
		{"unknown job refund", "/sellers/503/refund", with(f, "job", "999", "reason", "x"), 404, "has no job 999"},
		{"job id not a number", "/sellers/503/refund", with(f, "job", "first", "reason", "x"), 400, "is not a job id"},
		{"cancel an ended job", "/sellers/503/cancel", with(f, "job", fmt.Sprint(j.ID), "reason", "x"), 409, "already ended"},
		{"unknown action", "/sellers/503/steal", with(f, "reason", "x"), 404, "There is no action"},
	} {
		var (
			status int
			body   string
		)
		if c.form == nil {
			status, body = o.get(c.path)
		} else {
			status, body = o.post(c.path, c.form)
		}
		if status != c.status || !strings.Contains(body, c.reason) {
			t.Errorf("%s: %d, want %d with %q:\n%.400s", c.name, status, c.status, c.reason, body)
		}
		if c.form != nil && status != http.StatusOK && !strings.Contains(body, "Nothing was changed") && c.status != 403 && c.status != 404 {
			t.Errorf("%s: the page does not say nothing changed", c.name)
		}
	}
	if got := b.ledger(503); got != before {
		t.Errorf("ledger after bad input: %s, want %s", got, before)
	}

	// Wrong tokens: the login form says so; a script gets 401.
	jar, _ := cookiejar.New(nil)
	stranger := &operator{t: t, b: b, http: &http.Client{Jar: jar}}
	if status, body := stranger.post("/login", url.Values{"token": {"guess"}}); status != http.StatusUnauthorized || !strings.Contains(body, "Wrong token") {
		t.Errorf("login with a wrong token: %d %.200s", status, body)
	}
	if status, body := stranger.get("/sellers/503"); status != http.StatusOK || !strings.Contains(body, "Admin token") || strings.Contains(body, "Balance") {
		t.Errorf("a browser without a session is not sent to the login form: %d %.200s", status, body)
	}
	req, _ := http.NewRequest(http.MethodGet, b.adminURL("/sellers/503"), nil)
	req.Header.Set("Authorization", "Bearer guess")
	if status, _ := stranger.send(req); status != http.StatusUnauthorized {
		t.Errorf("a wrong Bearer token: %d", status)
	}

	// A script with the token acts without a form token; the refund of a delivered job is one
	// adjust row, and a second refund of it changes nothing.
	script := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	refund := func(key string) int {
		form := url.Values{"job": {fmt.Sprint(j.ID)}, "reason": {"the card was blurry"}, "key": {key}}
		req, _ := http.NewRequest(http.MethodPost, b.adminURL("/sellers/503/refund"), strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+adminToken)
		resp, err := script.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if status := refund(strings.Repeat("a", 32)); status != http.StatusSeeOther {
		t.Errorf("refund by a script: %d", status)
	}
	if status := refund(strings.Repeat("b", 32)); status != http.StatusOK {
		t.Errorf("a second refund of the job: %d, want the already-done page", status)
	}
	if got := b.ledger(503); got != before+" adjust+3" {
		t.Errorf("ledger after the refund: %s", got)
	}
}

// TestConsoleCancelsAJobInFlight: cancel from the seller's page stops a job that KIE never
// finishes and gives its credits back, once.
func TestConsoleCancelsAJobInFlight(t *testing.T) {
	b := start(t, withConsole)
	b.KIE.Script(func(int, string, map[string]any) kiefake.Script { return kiefake.Script{Forever: true} })
	s := greet(t, b, 504, "en")
	order(t, s, "card", "")
	eventually(t, "the job to be submitted to KIE", func() bool {
		jobs := b.jobs(504)
		return len(jobs) == 1 && jobs[0].Stage == messages.StageSubmitted
	})
	id := b.jobs(504)[0].ID
	o := loginHTTP(t, b)
	form := with(o.form(504), "job", fmt.Sprint(id), "reason", "stuck at KIE")
	status, body := o.post("/sellers/504/cancel", form)
	if status != http.StatusOK || !strings.Contains(body, fmt.Sprintf("job %d stopped and its hold released", id)) {
		t.Fatalf("cancel: %d %.300s", status, body)
	}
	if status, body := o.post("/sellers/504/cancel", with(o.form(504), "job", fmt.Sprint(id), "reason", "again")); status != http.StatusConflict {
		t.Errorf("a second cancel: %d %.300s", status, body)
	}
	j := onlyJob(t, b, 504)
	if j.Outcome != messages.OutcomeFailed || j.Failure == nil || j.Failure.Reason != messages.ReasonCancelled {
		t.Errorf("job after cancel: %s %+v", j.Outcome, j.Failure)
	}
	if got := b.ledger(504); got != "grant+20 hold(3) release(3)" {
		t.Errorf("ledger: %s", got)
	}
	eventually(t, "nothing in flight", func() bool {
		return b.App.Metrics.Value("neurocards_jobs_in_flight") == 0
	})
	if n := len(b.KIE.Tasks()); n != 1 {
		t.Errorf("KIE tasks: %d", n)
	}
}
