package admin

import (
	"net/http"
	"net/http/pprof"
)

// profiles serves Go's runtime profiles under /debug/pprof/ (heap, goroutine, allocs, profile,
// trace…), behind the admin token like everything but /healthz. go tool pprof cannot send the
// token, so fetch a profile with it and open the file:
//
//	curl -H "Authorization: Bearer $NEUROCARDS_ADMIN_TOKEN" 127.0.0.1:8080/debug/pprof/heap > heap.pb.gz
//	go tool pprof -top heap.pb.gz
func profiles(mux *http.ServeMux) {
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
}
