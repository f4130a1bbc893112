package admin

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"neurocards/store"
)

const token = "admin-secret-7f3a"

// serve starts an admin server on a free loopback port over a store with one seller.
func serve(t *testing.T, token string) (*Server, *store.Store) {
	t.Helper()
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.WithUser(42, func(tx *store.UserTx) error {
		_, err := tx.Post(store.Entry{Type: store.EntryGrant, Amount: 20, Key: "start:42"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	srv, err := Listen(Config{Addr: "127.0.0.1:0", Token: token, Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return srv, st
}

func get(t *testing.T, srv *Server, path, bearer string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+srv.Addr()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestHealthzNeedsNoToken(t *testing.T) {
	srv, _ := serve(t, token)
	resp := get(t, srv, "/healthz", "")
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "ok" {
		t.Fatalf("/healthz: %s %q", resp.Status, body)
	}
}

func TestEverythingElseNeedsTheToken(t *testing.T) {
	srv, _ := serve(t, token)
	for _, c := range []struct {
		path, bearer string
		want         int
	}{
		{"/backup", "", http.StatusUnauthorized},
		{"/backup", "wrong", http.StatusUnauthorized},
		{"/backup", token + "x", http.StatusUnauthorized},
		{"/nowhere", "", http.StatusUnauthorized},
		{"/nowhere", token, http.StatusNotFound},
	} {
		resp := get(t, srv, c.path, c.bearer)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != c.want {
			t.Errorf("%s with %q: %s, want %d", c.path, c.bearer, resp.Status, c.want)
		}
		if strings.Contains(string(body), token) || strings.Contains(resp.Header.Get("WWW-Authenticate"), token) {
			t.Errorf("%s: the answer shows the token", c.path)
		}
	}
}

func TestNoTokenConfiguredServesOnlyHealthz(t *testing.T) {
	srv, _ := serve(t, "")
	if resp := get(t, srv, "/healthz", ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz: %s", resp.Status)
	}
	resp := get(t, srv, "/backup", "")
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "NEUROCARDS_ADMIN_TOKEN") {
		t.Fatalf("/backup without a configured token: %s %q", resp.Status, body)
	}
}

// TestBackupIsADataFile: /backup answers a whole data file of exactly Content-Length bytes that
// opens and holds the seller, and names the data file it came from.
func TestBackupIsADataFile(t *testing.T) {
	srv, st := serve(t, token)
	resp := get(t, srv, "/backup", token)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/backup: %s", resp.Status)
	}
	if got := resp.Header.Get(DataFileHeader); got != st.Path() {
		t.Errorf("%s: %q, want %q", DataFileHeader, got, st.Path())
	}
	length, err := strconv.ParseInt(resp.Header.Get("Content-Length"), 10, 64)
	if err != nil || length <= 0 {
		t.Fatalf("Content-Length %q", resp.Header.Get("Content-Length"))
	}
	path := filepath.Join(t.TempDir(), "backup.db")
	r, n, err := store.WriteBackup(path, func(w io.Writer) (int64, error) { return io.Copy(w, resp.Body) })
	if err != nil {
		t.Fatal(err)
	}
	if n != length || r.Users != 1 || r.Balance != 20 || len(r.Violations) > 0 {
		t.Fatalf("backup: %d of %d bytes, report %+v", n, length, r)
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(st.Path()), ".backup-*"))
	if len(left) > 0 {
		t.Errorf("temporary snapshots left next to the data file: %v", left)
	}
}

// TestSlowClientDoesNotHoldTheData: a client that stops reading a backup half way does not keep
// the data file from taking writes.
func TestSlowClientDoesNotHoldTheData(t *testing.T) {
	srv, st := serve(t, token)
	// Enough data that the snapshot outgrows the socket buffers, and that the writes below make
	// bbolt grow its memory map, which waits for every open read transaction.
	big := strings.Repeat("n", 1<<20)
	for uid := int64(100); uid < 140; uid++ {
		if _, err := st.WithUser(uid, func(tx *store.UserTx) error {
			tx.User.FirstName = big
			_, err := tx.Post(store.Entry{Type: store.EntryGrant, Amount: 1, Key: "start:" + strconv.FormatInt(uid, 10)})
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	resp := get(t, srv, "/backup", token) // headers read, body left unread
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/backup: %s", resp.Status)
	}
	done := make(chan error, 1)
	go func() {
		for uid := int64(1000); uid < 1060; uid++ {
			if _, err := st.WithUser(uid, func(tx *store.UserTx) error {
				tx.User.FirstName = big
				return nil
			}); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("writes stalled while a backup client was not reading")
	}
}
