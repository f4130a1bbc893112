package admin

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The dashboard's session: a login with the admin token sets a cookie that carries an expiry, a
// random nonce and an HMAC of both keyed by the token — never the token itself. Changing the
// token ends every session. Forms carry a CSRF token derived from the session the same way, so a
// form from an older session (or another site) is refused.
const (
	sessionCookie = "neurocards_session"
	sessionTTL    = 12 * time.Hour
)

// public are the paths that need no token.
func public(path string) bool {
	switch path {
	case "/healthz", "/readyz", "/metrics", "/login":
		return true
	}
	return strings.HasPrefix(path, "/static/")
}

type ctxKey int

// sessionKey holds the request's session cookie value ("" for a Bearer request) in its context.
const sessionKey ctxKey = 0

// authorize lets the public paths through and asks everything else for the token: a Bearer
// header (scripts) or a session cookie (the browser). A browser without a session is sent to
// the login form; anything else gets 401.
func (s *Server) authorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Referrer-Policy", "no-referrer")
		if public(r.URL.Path) && (r.URL.Path != "/login" || s.cfg.Token != "") {
			next.ServeHTTP(w, r)
			return
		}
		if s.cfg.Token == "" {
			s.fail(w, r, http.StatusForbidden, "The admin token is not set (NEUROCARDS_ADMIN_TOKEN): only /healthz, /readyz and /metrics are served.")
			return
		}
		if h := r.Header.Get("Authorization"); h != "" {
			got, ok := strings.CutPrefix(h, "Bearer ")
			if !ok || !s.isToken(got) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="neurocards admin"`)
				s.fail(w, r, http.StatusUnauthorized, "Unauthorized: wrong admin token.")
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey, "")))
			return
		}
		if c, err := r.Cookie(sessionCookie); err == nil && s.validSession(c.Value, time.Now()) {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey, c.Value)))
			return
		}
		if r.Method == http.MethodGet && strings.Contains(r.Header.Get("Accept"), "text/html") {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="neurocards admin"`)
		s.fail(w, r, http.StatusUnauthorized, "Unauthorized: log in at /login or send Authorization: Bearer with the admin token.")
	})
}

func (s *Server) isToken(got string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(s.cfg.Token)) == 1
}

// mac is the HMAC of parts keyed by the admin token.
func (s *Server) mac(parts ...string) string {
	h := hmac.New(sha256.New, []byte(s.cfg.Token))
	h.Write([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h.Sum(nil))
}

// newSession is a session cookie value that expires at exp.
func (s *Server) newSession(exp time.Time) string {
	payload := strconv.FormatInt(exp.Unix(), 10) + "." + randomHex(16)
	return payload + "." + s.mac("session", payload)
}

func (s *Server) validSession(v string, now time.Time) bool {
	i := strings.LastIndexByte(v, '.')
	if i < 0 {
		return false
	}
	payload, sum := v[:i], v[i+1:]
	if !hmac.Equal([]byte(sum), []byte(s.mac("session", payload))) {
		return false
	}
	exp, _, _ := strings.Cut(payload, ".")
	unix, err := strconv.ParseInt(exp, 10, 64)
	return err == nil && now.Before(time.Unix(unix, 0))
}

// csrf is the form token of the request's session; "" for a Bearer request, which needs none.
func (s *Server) csrf(r *http.Request) string {
	sess, _ := r.Context().Value(sessionKey).(string)
	if sess == "" {
		return ""
	}
	return s.mac("csrf", sess)
}

// checkCSRF reports why a form post may not go on, or "" when it may. A script with the Bearer
// token is not a browser a page can trick, so it needs no form token.
func (s *Server) checkCSRF(r *http.Request) string {
	want := s.csrf(r)
	if want == "" {
		return ""
	}
	got := r.PostFormValue("csrf")
	switch {
	case got == "":
		return "The form has no CSRF token. Open the page again and resubmit."
	case !hmac.Equal([]byte(got), []byte(want)):
		return "The form's CSRF token is stale (it comes from an older login or another page). Open the page again and resubmit."
	}
	return ""
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "login", "Log in", loginPage{Next: safeNext(r.URL.Query().Get("next"))})
}

type loginPage struct {
	Next  string
	Error string
}

// login checks the token from the form and starts a session. Failed attempts use up a budget;
// while it is spent no token is even checked, so guessing stays slow.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.PostFormValue("next"))
	if s.logins.Tokens() < 1 {
		s.render(w, r, http.StatusTooManyRequests, "login", "Log in", loginPage{Next: next, Error: "Too many failed logins. Wait a few seconds and try again."})
		return
	}
	if !s.isToken(r.PostFormValue("token")) {
		s.logins.Allow()
		s.cfg.Logger.Warn("admin: failed login", "remote", r.RemoteAddr)
		s.render(w, r, http.StatusUnauthorized, "login", "Log in", loginPage{Next: next, Error: "Wrong token. Nothing was changed."})
		return
	}
	exp := time.Now().Add(sessionTTL)
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: s.newSession(exp), Path: "/", Expires: exp,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
	s.cfg.Logger.Info("admin: login", "remote", r.RemoteAddr)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if why := s.checkCSRF(r); why != "" {
		s.fail(w, r, http.StatusForbidden, why)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext keeps a redirect after login on this server.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand, Go ≥ 1.24)
	return hex.EncodeToString(b)
}
