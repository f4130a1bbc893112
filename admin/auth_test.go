package admin

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func postForm(t *testing.T, srv *Server, path string, form url.Values, cookies ...*http.Cookie) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+srv.Addr()+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// TestLoginSetsASessionCookieThatIsNotTheToken: the cookie is HttpOnly and SameSite=Strict,
// holds no part of the token, opens the dashboard, and the redirect after login stays on this
// server.
func TestLoginSetsASessionCookieThatIsNotTheToken(t *testing.T) {
	srv, _ := serve(t, token)
	resp := postForm(t, srv, "/login", url.Values{"token": {token}, "next": {"//evil.example/"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("login: %s to %q", resp.Status, resp.Header.Get("Location"))
	}
	cookies := resp.Cookies()
	if len(cookies) != 1 {
		t.Fatalf("cookies: %v", cookies)
	}
	c := cookies[0]
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" {
		t.Errorf("cookie attributes: %+v", c)
	}
	if strings.Contains(c.Value, token) || strings.Contains(c.Value, token[:8]) {
		t.Errorf("the cookie carries the token: %q", c.Value)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+srv.Addr()+"/sellers/42", nil)
	req.AddCookie(c)
	page, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page.Body.Close()
	if page.StatusCode != http.StatusOK {
		t.Errorf("seller page with the session: %s", page.Status)
	}
}

// TestSessionsEndWithTheTokenAndTime: a session is worthless under another token, after it
// expires, or altered.
func TestSessionsEndWithTheTokenAndTime(t *testing.T) {
	now := time.Now()
	a, b := &Server{cfg: Config{Token: "token-a"}}, &Server{cfg: Config{Token: "token-b"}}
	v := a.newSession(now.Add(time.Hour))
	switch {
	case !a.validSession(v, now):
		t.Error("a fresh session is refused")
	case b.validSession(v, now):
		t.Error("a session outlives a change of token")
	case a.validSession(v, now.Add(2*time.Hour)):
		t.Error("an expired session is accepted")
	case a.validSession("9"+v, now):
		t.Error("an altered session is accepted")
	}
}

// TestWrongTokenLoginChangesNothing: the form says the token is wrong and sets no cookie.
func TestWrongTokenLoginChangesNothing(t *testing.T) {
	srv, _ := serve(t, token)
	resp := postForm(t, srv, "/login", url.Values{"token": {"guess"}})
	if resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 {
		t.Errorf("wrong token: %s, cookies %v", resp.Status, resp.Cookies())
	}
}

// TestLogoutNeedsTheFormToken: a page elsewhere cannot log the operator out.
func TestLogoutNeedsTheFormToken(t *testing.T) {
	srv, _ := serve(t, token)
	c := postForm(t, srv, "/login", url.Values{"token": {token}}).Cookies()[0]
	if resp := postForm(t, srv, "/logout", url.Values{}, c); resp.StatusCode != http.StatusForbidden {
		t.Errorf("logout without the form token: %s", resp.Status)
	}
	csrf := srv.mac("csrf", c.Value)
	resp := postForm(t, srv, "/logout", url.Values{"csrf": {csrf}}, c)
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 || resp.Cookies()[0].MaxAge >= 0 {
		t.Errorf("logout: %s %v", resp.Status, resp.Cookies())
	}
}

// TestUnsignedNotesAreNotShown: a link with a made-up note cannot make the dashboard claim an
// action happened.
func TestUnsignedNotesAreNotShown(t *testing.T) {
	srv, _ := serve(t, token)
	resp := get(t, srv, "/sellers/42?flash="+url.QueryEscape("Done: +1000 credits"), token)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || strings.Contains(string(body), "1000 credits") {
		t.Errorf("%s; the page shows the made-up note: %v", resp.Status, strings.Contains(string(body), "1000 credits"))
	}
}

// TestGuessingIsSlowedDown: once failed logins have used up their budget, even the right token
// is not checked until the budget refills.
func TestGuessingIsSlowedDown(t *testing.T) {
	srv, err := Listen(Config{Addr: "127.0.0.1:0", Token: token, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv.logins = rate.NewLimiter(rate.Every(time.Hour), 3) // no refill within the test
	go srv.Serve()
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	for i := 0; i < 3; i++ {
		if resp := postForm(t, srv, "/login", url.Values{"token": {"guess"}}); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong token %d: %s", i+1, resp.Status)
		}
	}
	if resp := postForm(t, srv, "/login", url.Values{"token": {token}}); resp.StatusCode != http.StatusTooManyRequests || len(resp.Cookies()) != 0 {
		t.Errorf("the right token right after 3 wrong ones: %s", resp.Status)
	}
}
