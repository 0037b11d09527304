//go:build pprof

package main

// Built with -tags pprof, serve also answers Go's profiling endpoints on
// MARKSMITH_PPROF_ADDR (default 127.0.0.1:6060), for measuring where a
// load's time goes. Never in a normal build: the endpoints are
// unauthenticated.

import (
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof on the default mux
	"os"
)

func init() {
	addr := os.Getenv("MARKSMITH_PPROF_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6060"
	}
	go func() { _ = http.ListenAndServe(addr, nil) }()
}
