package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestLoopbackOnly(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:8080", true},
		{"http://127.0.0.2:8080", true},
		{"http://[::1]:8080/", true},
		{"http://localhost:8080", true},
		{"https://127.0.0.1", true},
		{"http://10.0.0.1:8080", false},
		{"http://example.com", false},
		{"http://0.0.0.0:8080", false},
		{"ftp://127.0.0.1", false},
		{"127.0.0.1:8080", false},
	}
	for _, tt := range tests {
		if err := loopbackOnly(tt.url); (err == nil) != tt.ok {
			t.Errorf("loopbackOnly(%q) = %v, want ok=%v", tt.url, err, tt.ok)
		}
	}
}

func TestParseConfigBounds(t *testing.T) {
	env := func(k string) string {
		if k == "LOADGEN_ADMIN_PASSWORD" {
			return "secret-password"
		}
		return ""
	}
	tests := []struct {
		args    []string
		wantErr string
	}{
		{nil, ""},
		{[]string{"-students", "0"}, "-students 0"},
		{[]string{"-students", "301"}, "-students 301"},
		{[]string{"-duration", "11m"}, "-duration 11m0s"},
		{[]string{"-duration", "0s"}, "-duration 0s"},
		{[]string{"-requests", "-1"}, "-requests -1"},
		{[]string{"-url", "http://192.168.1.5:8080"}, "loopback"},
		{[]string{"-templates", " , "}, "names no template"},
		{[]string{"extra"}, "unexpected arguments"},
	}
	for _, tt := range tests {
		var stderr bytes.Buffer
		cfg, err := parseConfig(tt.args, &stderr, env)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%q: %v", tt.args, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%q: error %v, want one containing %q", tt.args, err, tt.wantErr)
		case tt.wantErr == "" && (cfg.Students != 50 || cfg.Duration != 20*time.Second || len(cfg.Templates) != 2 || cfg.AdminPassword != "secret-password"):
			t.Errorf("%q: defaults %+v", tt.args, cfg)
		}
	}
	if _, err := parseConfig(nil, &bytes.Buffer{}, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "no admin password") {
		t.Errorf("without a password: %v", err)
	}
}

func TestPercentile(t *testing.T) {
	ms := func(n ...int) []time.Duration {
		out := make([]time.Duration, len(n))
		for i, v := range n {
			out[i] = time.Duration(v) * time.Millisecond
		}
		return out
	}
	sorted := ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
	tests := []struct {
		lat  []time.Duration
		q    float64
		want time.Duration
	}{
		{sorted, 0.50, 5 * time.Millisecond},
		{sorted, 0.90, 9 * time.Millisecond},
		{sorted, 0.99, 10 * time.Millisecond},
		{sorted, 0, 1 * time.Millisecond},
		{ms(7), 0.99, 7 * time.Millisecond},
		{nil, 0.5, 0},
	}
	for _, tt := range tests {
		if got := percentile(tt.lat, tt.q); got != tt.want {
			t.Errorf("percentile(%v, %v) = %v, want %v", tt.lat, tt.q, got, tt.want)
		}
	}
}

func TestReportWrite(t *testing.T) {
	r := &report{Students: 2, Elapsed: 2 * time.Second, Requests: 4, Stored: 3, NotStored: 0,
		Errors:    map[string]int{"410": 1},
		Latencies: []time.Duration{4 * time.Millisecond, 1 * time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond}}
	var b bytes.Buffer
	r.write(&b)
	for _, want := range []string{"saves         4 in 2s", "throughput    2 saves/s", "p50 2.0 ms  p90 4.0 ms  p99 4.0 ms  max 4.0 ms", "errors        1  410: 1"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
}

func TestAnswerForChangesWithSeq(t *testing.T) {
	for _, typ := range []string{"number", "integer", "essay", "text"} {
		p := part{Question: 1, ID: "a", Type: typ}
		if answerFor(p, 1) == answerFor(p, 2) {
			t.Errorf("%s: answers for seq 1 and 2 are equal", typ)
		}
	}
}

// TestErrorKind checks how failed saves are named in the report.
func TestErrorKind(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&apiError{Status: 503, Body: `{"error":{"code":"unavailable","message":"The database is unavailable."}}`}, "503 unavailable"},
		{&apiError{Status: 500, Body: `{"error":{"code":"internal","message":"Internal error."}}`}, "500 internal"},
		{&apiError{Status: 502, Body: "Bad Gateway"}, "502"},
		{fmt.Errorf("PUT /x: %w", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}), "refused"},
		{fmt.Errorf("PUT /x: %w", &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}), "reset"},
		{fmt.Errorf("PUT /x: %w", io.EOF), "eof"},
		{fmt.Errorf("PUT /x: %w", context.DeadlineExceeded), "timeout"},
		{errors.New("something else"), "transport"},
	}
	for _, tt := range tests {
		if got := errorKind(tt.err); got != tt.want {
			t.Errorf("errorKind(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
