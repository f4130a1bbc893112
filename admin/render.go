package admin

import (
	"bytes"
	"crypto/hmac"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"neurocards/texts"
)

// assets are the dashboard's templates and stylesheet, inside the binary: operators may run it
// offline, so nothing comes from a CDN.
//
//go:embed templates static
var assets embed.FS

// pages are the parsed templates, one set per page, each with the shared layout.
type pages map[string]*template.Template

var pageNames = []string{"login", "message", "overview", "sellers", "seller", "jobs", "job"}

func parsePages() pages {
	p := pages{}
	for _, name := range pageNames {
		p[name] = template.Must(template.New(name).Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/parts.html", "templates/"+name+".html"))
	}
	return p
}

// view is what every page's template gets: the layout's parts and the page's own data.
type view struct {
	Title    string
	Page     string
	CSRF     string
	LoggedIn bool
	Now      time.Time
	Flash    string
	Data     any
}

// render writes page name with data; a template error is logged and answered 500, never half a
// page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) {
	_, session := r.Context().Value(sessionKey).(string)
	v := view{Title: title, Page: name, CSRF: s.csrf(r), LoggedIn: session, Now: s.now(), Flash: s.flash(r), Data: data}
	var buf bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		s.cfg.Logger.Error("admin: rendering a page failed", "page", name, "err", err)
		http.Error(w, "rendering the page failed; see the log", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; connect-src 'self'; style-src 'self'; img-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// flash is the note an action left for the page it redirected to. It is signed, so a link
// from elsewhere cannot make the dashboard claim something happened.
func (s *Server) flash(r *http.Request) string {
	q := r.URL.Query()
	msg := q.Get("flash")
	if msg == "" || !hmac.Equal([]byte(q.Get("sig")), []byte(s.mac("flash", msg))) {
		return ""
	}
	return msg
}

// messagePage is a page that says one thing: why a request was refused, or what an action did.
type messagePage struct {
	Message string
	Back    string // a link back, e.g. to the seller's page
}

// fail answers a refused request with the reason: a page for a browser, plain text for a script.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.say(w, r, status, msg, "")
}

// say answers with one message and a link back.
func (s *Server) say(w http.ResponseWriter, r *http.Request, status int, msg, back string) {
	if !strings.Contains(r.Header.Get("Accept"), "text/html") && r.Method != http.MethodPost {
		http.Error(w, msg, status)
		return
	}
	s.render(w, r, status, "message", messageTitle(status), messagePage{Message: msg, Back: back})
}

func messageTitle(status int) string {
	switch {
	case status < 400:
		return "Notice"
	case status == http.StatusUnauthorized, status == http.StatusForbidden:
		return "Not allowed"
	case status == http.StatusNotFound:
		return "Not found"
	case status < 500:
		return "Refused"
	}
	return "Something failed"
}

func (s *Server) now() time.Time {
	if s.cfg.Store != nil {
		return s.cfg.Store.Now()
	}
	return time.Now().UTC()
}

var funcs = template.FuncMap{
	"msk":    msk,
	"dur":    dur,
	"signed": func(n int64) string { return fmt.Sprintf("%+d", n) },
	"sub":    func(a, b int) int { return a - b },
	"ago":    func(now, t time.Time) string { return ago(now, t) },
}

// msk is a moment in Moscow time, as the bot shows every date.
func msk(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(texts.Moscow).Format("2006-01-02 15:04:05")
}

// dur is a duration rounded for a person: 12ms, 1.2s, 45s, 3m20s, 2h05m.
func dur(d time.Duration) string {
	switch {
	case d < 0:
		return "—"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < 10*time.Second:
		return d.Round(100 * time.Millisecond).String()
	case d < time.Hour:
		return d.Round(time.Second).String()
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return dur(now.Sub(t)) + " ago"
}
