package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"neurocards/chatpage"
	"neurocards/testkit/harness"
)

// servePage serves the chat page for env on addr until ctx ends (Ctrl+C), printing the address
// and, as the scripted sandbox does, the conversation as it happens. It opens no browser.
func servePage(ctx context.Context, env *harness.Env, addr string, stdout, stderr io.Writer) int {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(stderr, "sandbox: the chat page cannot listen on %s (pick another with -addr): %v\n", addr, err)
		return 1
	}
	page := chatpage.New(env, nil, env.App.Log)
	srv := &http.Server{Handler: page.Handler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "chat page: http://%s/ — open it in a browser and play the seller; Ctrl+C stops\n\n", ln.Addr())

	select {
	case <-ctx.Done():
	case err = <-served:
	}
	page.Close()
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(shut)
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "sandbox: the chat page stopped: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, "\nsandbox stopped")
	return 0
}
