// Package kiefake is a fake KIE for tests and the sandbox: the market jobs API, the file upload
// host and the result-file host, all on one loopback listener. It follows the contract in
// docs/reference/kie-api.md §9, including KIE's habits (HTTP 200 with an error code in the body,
// resultJson as a string, failCode as a string or a number), and lets a test script every task
// and inject failures.
//
// The upload host lives under UploadURL() (a path prefix on the same listener), so a client that
// sends uploads to the API host gets the 404 the real API host answers.
package kiefake

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"
)

// Reply is an injected answer. A Reply that only sets Delay slows the request down and then
// answers it normally.
type Reply struct {
	HTTPStatus int           // 0 → 200 (502 for HTML)
	Code       int           // body code; 0 → HTTPStatus when that is an error status, else 500
	Msg        string        // "" → KIE's usual message for Code
	CloseConn  bool          // drop the connection without answering
	Delay      time.Duration // wait this long first (cut short by the client going away or Close)
	HTML       bool          // answer with an HTML error page, like a proxy in front of KIE
	RetryAfter time.Duration // adds a Retry-After header (whole seconds)
}

func (r Reply) delayOnly() bool {
	return r.HTTPStatus == 0 && r.Code == 0 && r.Msg == "" && !r.CloseConn && !r.HTML
}

// Server is the fake. It is safe for concurrent use.
type Server struct {
	srv      *httptest.Server
	key      string
	closed   chan struct{}
	stop     context.CancelFunc
	stopCtx  context.Context
	once     sync.Once
	bg       sync.WaitGroup // callbacks and self-ending tasks
	cbClient *http.Client

	mu          sync.Mutex
	shut        bool // Close has begun: start nothing new in the background
	down        bool
	models      map[string]string // model → name of its image input field
	script      func(n int, model string, input map[string]any) Script
	createCalls int
	tasks       map[string]*task
	order       []*task
	uploads     []Upload
	files       map[string][]byte // uploadPath/fileName → bytes
	failRecord  counted[Reply]
	failUpload  counted[Reply]
	failFiles   counted[int]
	outage      *Reply // every request answers this (SetOutage)
	refusing    bool   // the port is closed (SetRefusing)
	outageHits  int
	credit      float64
	hmacKey     string
	callbacks   []Callback
	changed     chan struct{} // closed and replaced whenever a task is created
	alt         int           // flips how optional fields are encoded (null vs "", number vs string)
	lean        bool          // keep uploads' names, not their bytes (Lean)

	answers answers // createTask answers with a task, and who watches them (answered.go)
}

type counted[T any] struct {
	n int
	v T
}

func (c *counted[T]) take() (T, bool) {
	if c.n <= 0 {
		var zero T
		return zero, false
	}
	c.n--
	return c.v, true
}

// New starts a fake KIE on 127.0.0.1 that accepts apiKey as its Bearer key.
func New(apiKey string) *Server {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		key:      apiKey,
		closed:   make(chan struct{}),
		stop:     cancel,
		stopCtx:  ctx,
		cbClient: &http.Client{Transport: &http.Transport{}},
		models:   make(map[string]string),
		tasks:    make(map[string]*task),
		files:    make(map[string][]byte),
		credit:   1000,
		changed:  make(chan struct{}),
	}
	for m, field := range defaultModels {
		s.models[m] = field
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/jobs/createTask", s.api(s.handleCreateTask, nil))
	mux.HandleFunc("GET /api/v1/jobs/recordInfo", s.api(s.handleRecordInfo, &s.failRecord))
	mux.HandleFunc("GET /api/v1/chat/credit", s.api(s.handleCredit, nil))
	mux.HandleFunc("POST "+uploadPrefix+"/api/file-stream-upload", s.api(s.handleStreamUpload, &s.failUpload))
	mux.HandleFunc("POST "+uploadPrefix+"/api/file-base64-upload", s.api(s.handleBase64Upload, &s.failUpload))
	mux.HandleFunc("GET /files/{name}", s.handleResultFile)
	mux.HandleFunc("GET /uploads/{path...}", s.handleUploadedFile)
	mux.HandleFunc("/", notFound)
	s.srv = httptest.NewServer(mux)
	return s
}

const uploadPrefix = "/upload"

// APIURL is the base URL of the fake API host.
func (s *Server) APIURL() string { return s.srv.URL }

// UploadURL is the base URL of the fake upload host.
func (s *Server) UploadURL() string { return s.srv.URL + uploadPrefix }

// Close stops the server, cancels pending callbacks and waits for everything it started.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.closed)
		s.stop()
		s.mu.Lock()
		s.shut = true
		s.mu.Unlock()
		s.srv.Close()
		s.bg.Wait()
		s.cbClient.CloseIdleConnections()
	})
}

// SetDown makes KIE unreachable: while down, every API and upload request has its connection
// closed without an answer. Result and uploaded files are still served.
func (s *Server) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// FailRecordInfo makes the next n recordInfo calls answer r.
func (s *Server) FailRecordInfo(n int, r Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failRecord = counted[Reply]{n, r}
}

// FailUploads makes the next n upload calls answer r.
func (s *Server) FailUploads(n int, r Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failUpload = counted[Reply]{n, r}
}

// FailFiles makes the next n result-file downloads answer status.
func (s *Server) FailFiles(n int, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failFiles = counted[int]{n, status}
}

// SetCredit sets the balance /api/v1/chat/credit reports. Successful tasks spend from it.
func (s *Server) SetCredit(v float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.credit = v
}

// SetWebhookHMACKey makes callbacks carry X-Webhook-Timestamp and X-Webhook-Signature
// (kie-api.md §5); "" turns signing off.
func (s *Server) SetWebhookHMACKey(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hmacKey = key
}

// AddModel makes model known, with its image input in "image_urls".
func (s *Server) AddModel(model string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.models[model] = "image_urls"
}

// api wraps an API or upload handler: the down switch, then injected failures, then the handler.
func (s *Server) api(h http.HandlerFunc, inject *counted[Reply]) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		down := s.down
		var rep Reply
		var injected bool
		if !down && inject != nil {
			rep, injected = inject.take()
		}
		s.mu.Unlock()
		if down {
			hangUp(w)
			return
		}
		if s.outageReply(w, r) {
			return
		}
		if injected {
			if !s.reply(w, r, rep) {
				return
			}
		}
		h(w, r)
	}
}

// reply writes rep. It returns true when rep only asked for a delay and the request should go on.
func (s *Server) reply(w http.ResponseWriter, r *http.Request, rep Reply) bool {
	if rep.Delay > 0 {
		t := time.NewTimer(rep.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return false
		case <-s.closed:
			hangUp(w)
			return false
		}
	}
	if rep.delayOnly() {
		return true
	}
	if rep.CloseConn {
		hangUp(w)
		return false
	}
	if rep.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((rep.RetryAfter+time.Second-1)/time.Second)))
	}
	status := rep.HTTPStatus
	if rep.HTML {
		if status == 0 {
			status = http.StatusBadGateway
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		t := strconv.Itoa(status) + " " + http.StatusText(status)
		w.Write([]byte("<html>\r\n<head><title>" + t + "</title></head>\r\n<body>\r\n<center><h1>" + t + "</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"))
		return false
	}
	if status == 0 {
		status = http.StatusOK
	}
	code := rep.Code
	if code == 0 {
		code = 500
		if status != http.StatusOK {
			code = status
		}
	}
	msg := rep.Msg
	if msg == "" {
		msg = defaultMsg(code)
	}
	body := map[string]any{"code": code, "msg": msg, "data": nil}
	if isUploadPath(r.URL.Path) {
		body["success"] = false
	}
	writeJSONStatus(w, status, body)
	return false
}

func defaultMsg(code int) string {
	switch code {
	case 401:
		return "You do not have access permissions"
	case 402:
		return "The current credits are insufficient. Please top up."
	case 404:
		return "Not Found"
	case 422:
		return "Validation error"
	case 429:
		return "Too many requests, please try again later"
	case 433:
		return "The current number of points used by apiKey has exceeded the daily limit"
	case 455:
		return "Service unavailable: maintenance in progress"
	case 500:
		return "Internal Error, Please try again later."
	case 501:
		return "Generation failed"
	case 505:
		return "The feature is disabled"
	}
	return http.StatusText(code)
}

func isUploadPath(p string) bool {
	return len(p) >= len(uploadPrefix) && p[:len(uploadPrefix)] == uploadPrefix
}

// authorized answers KIE's "HTTP 200, body 401" when the Bearer key is wrong.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get("Authorization") == "Bearer "+s.key {
		return true
	}
	if isUploadPath(r.URL.Path) {
		writeJSON(w, map[string]any{"success": false, "code": 401, "msg": "Authentication failed: Invalid API Key"})
	} else {
		writeJSON(w, map[string]any{"code": 401, "msg": "You do not have access permissions", "data": nil})
	}
	return false
}

// hangUp closes the connection without an answer, as an unreachable KIE would.
func hangUp(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("kiefake: connection cannot be hijacked")
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	conn.Close()
}

func notFound(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	w.Write([]byte("<html><head><title>404 Not Found</title></head><body><h1>404 Not Found</h1></body></html>\n"))
}

func writeJSON(w http.ResponseWriter, v any) { writeJSONStatus(w, http.StatusOK, v) }

func writeJSONStatus(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic("kiefake: " + err.Error())
	}
	w.Header().Set("Content-Type", "application/json")
	// A length rather than chunks: once flushed, the client holds the whole answer even while the
	// handler goes on (answered.go).
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

func errorBody(code int, msg string) map[string]any {
	return map[string]any{"code": code, "msg": msg, "data": nil}
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("kiefake: " + err.Error())
	}
	return hex.EncodeToString(b)
}
