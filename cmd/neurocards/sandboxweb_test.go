package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestSandboxWebServesThePage: `sandbox --web` prints the page's loopback address, serves the
// page and its sellers there, and stops cleanly with exit 0 on Ctrl+C.
func TestSandboxWebServesThePage(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, w := io.Pipe()
	var errOut bytes.Buffer
	exit := make(chan int, 1)
	go func() {
		rc := sandbox(ctx, []string{"--web", "--addr", "127.0.0.1:0"}, w, &errOut)
		w.Close()
		exit <- rc
	}()

	printed := make(chan string, 1)
	go func() {
		address := regexp.MustCompile(`chat page: (http://127\.0\.0\.1:\d+/)`)
		lines := bufio.NewScanner(out)
		for lines.Scan() {
			if m := address.FindStringSubmatch(lines.Text()); m != nil {
				printed <- m[1]
			}
		}
		close(printed)
	}()
	var url string
	select {
	case url = <-printed:
	case <-time.After(30 * time.Second):
		t.Fatalf("no page address printed; stderr:\n%s", errOut.String())
	}
	if url == "" {
		t.Fatalf("the sandbox ended without printing the page's address; stderr:\n%s", errOut.String())
	}

	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(page, []byte("neurocards")) || !bytes.Contains(page, []byte("app.js")) {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, page)
	}
	resp, err = http.Get(url + "api/sellers")
	if err != nil {
		t.Fatal(err)
	}
	var sellers []struct{ ID int64 }
	err = json.NewDecoder(resp.Body).Decode(&sellers)
	resp.Body.Close()
	if err != nil || len(sellers) == 0 {
		t.Fatalf("sellers: %v %v", sellers, err)
	}

	cancel()
	select {
	case rc := <-exit:
		if rc != 0 {
			t.Fatalf("exit %d after Ctrl+C; stderr:\n%s", rc, errOut.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the sandbox did not stop within 20 s of Ctrl+C")
	}
}

func TestSandboxWebOnlyOnLoopback(t *testing.T) {
	var out, errOut bytes.Buffer
	if rc := sandbox(context.Background(), []string{"--web", "--addr", "0.0.0.0:8090"}, &out, &errOut); rc != 2 {
		t.Fatalf("exit %d, want 2\n%s", rc, errOut.String())
	}
	if !strings.Contains(errOut.String(), "loopback") {
		t.Errorf("the refusal does not say why: %s", errOut.String())
	}
}
