package admin

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// The runtime profiles answer with the token and only with it.
func TestProfilesNeedTheToken(t *testing.T) {
	srv, _ := serve(t, token)
	if resp := get(t, srv, "/debug/pprof/goroutine?debug=1", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without the token: HTTP %d, want 401", resp.StatusCode)
	}
	if resp := get(t, srv, "/debug/pprof/heap", "wrong"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("with a wrong token: HTTP %d, want 401", resp.StatusCode)
	}
	resp := get(t, srv, "/debug/pprof/goroutine?debug=1", token)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), "goroutine profile: total ") {
		t.Fatalf("with the token: HTTP %d, %.80q", resp.StatusCode, body)
	}
	if resp := get(t, srv, "/debug/pprof/heap", token); resp.StatusCode != http.StatusOK {
		t.Fatalf("heap profile: HTTP %d", resp.StatusCode)
	}
}
