package chatpage

import "net/http/httptest"

// newServer serves the page on a loopback port for one test.
func newServer(p *Page) *httptest.Server { return httptest.NewServer(p.Handler()) }
