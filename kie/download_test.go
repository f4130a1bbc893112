package kie

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"neurocards/messages"
)

func TestDownload(t *testing.T) {
	file := bytes.Repeat([]byte("0123456789"), 1000) // 10 000 bytes
	var mu sync.Mutex
	var sawAuth []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		sawAuth = append(sawAuth, r.Header.Get("Authorization"))
		mu.Unlock()
		switch r.URL.Path {
		case "/sized.mp4":
			http.ServeContent(w, r, "sized.mp4", time.Time{}, bytes.NewReader(file))
		case "/chunked.mp4": // no Content-Length: the limit must hold while copying
			w.(http.Flusher).Flush()
			w.Write(file)
		case "/expired.mp4":
			http.Error(w, "<Error><Code>AccessDenied</Code></Error>", http.StatusForbidden)
		case "/gone.mp4":
			http.NotFound(w, r)
		default:
			http.Error(w, "bad", http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	c := New(Config{APIURL: srv.URL, APIKey: testKey, Logger: quietLogger()})
	ctx := ctxTimeout(t, 5*time.Second)
	dir := t.TempDir()

	for _, name := range []string{"sized.mp4", "chunked.mp4"} {
		t.Run("ok "+name, func(t *testing.T) {
			path := filepath.Join(dir, "ok-"+name)
			n, err := c.Download(ctx, srv.URL+"/"+name, path, int64(len(file)))
			if err != nil || n != int64(len(file)) {
				t.Fatalf("n %d, err %v", n, err)
			}
			got, _ := os.ReadFile(path)
			if !bytes.Equal(got, file) {
				t.Fatal("content differs")
			}
			if _, err := os.Stat(path + ".part"); !errors.Is(err, os.ErrNotExist) {
				t.Fatal(".part left behind")
			}
		})
		t.Run("too large "+name, func(t *testing.T) {
			path := filepath.Join(dir, "big-"+name)
			_, err := c.Download(ctx, srv.URL+"/"+name, path, int64(len(file))-1)
			if f := Classify(err); f.Class != messages.Operator || f.Code != "too large" {
				t.Fatalf("%v → %+v", err, f)
			}
			for _, p := range []string{path, path + ".part"} {
				if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("%s exists after a refused download", p)
				}
			}
		})
	}
	for _, tt := range []struct{ name, code string }{{"expired.mp4", "http 403"}, {"gone.mp4", "http 404"}, {"broken.mp4", "http 500"}} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name)
			_, err := c.Download(ctx, srv.URL+"/"+tt.name, path, 0)
			var e *Error
			if !errors.As(err, &e) || e.HTTPStatus == 0 {
				t.Fatalf("err %v carries no status", err)
			}
			if f := Classify(err); f.Class != messages.Transient || f.Code != tt.code {
				t.Fatalf("%v → %+v", err, f)
			}
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Fatal("file written for a failed download")
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if len(sawAuth) != 7 {
		t.Fatalf("%d requests", len(sawAuth))
	}
	for _, a := range sawAuth {
		if a != "" {
			t.Fatalf("download sent Authorization %q", a)
		}
	}
}

// A previous file at path stays whole until the new one is complete.
func TestDownloadReplacesAtomically(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "8")
		w.Write([]byte("new-"))
		w.(http.Flusher).Flush()
		<-release
		w.Write([]byte("file"))
	}))
	defer srv.Close()
	c := New(Config{Logger: quietLogger()})
	path := filepath.Join(t.TempDir(), "out.mp4")
	os.WriteFile(path, []byte("old file"), 0o644)

	done := make(chan error, 1)
	go func() {
		_, err := c.Download(ctxTimeout(t, 5*time.Second), srv.URL, path, 0)
		done <- err
	}()
	waitFor(t, func() bool { // half the new file has arrived in .part
		b, _ := os.ReadFile(path + ".part")
		return string(b) == "new-"
	})
	if b, _ := os.ReadFile(path); string(b) != "old file" {
		t.Fatalf("path holds %q mid-download", b)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "new-file" {
		t.Fatalf("path holds %q", b)
	}
}

func TestDownloadCutShort(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		io.WriteString(w, "only a part")
	}))
	defer srv.Close()
	c := New(Config{Logger: quietLogger()})
	path := filepath.Join(t.TempDir(), "out.mp4")
	_, err := c.Download(ctxTimeout(t, 5*time.Second), srv.URL, path, 0)
	if f := Classify(err); f.Class != messages.Transient {
		t.Fatalf("%v → %+v", err, f)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("partial file renamed into place")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	ctx := ctxTimeout(t, 5*time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatal("condition never met")
		}
	}
}
