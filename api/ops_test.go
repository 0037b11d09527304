package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/marksmith/marksmith"
)

// brokenUsers fails in the two ways a service can: FindUsers panics and
// Me returns an internal error, whose text must never reach a client.
type brokenUsers struct {
	marksmith.UserService
}

const secretDetail = "pq: password authentication failed for user marksmith at 10.0.0.7"

func (brokenUsers) FindUsers(context.Context, *marksmith.User, marksmith.UserFilter) ([]*marksmith.User, int, error) {
	panic("index out of range in " + secretDetail)
}

func (brokenUsers) Me(context.Context, *marksmith.User) (*marksmith.User, error) {
	return nil, fmt.Errorf("find user: %w", errors.New(secretDetail))
}

func TestInternalErrorsAreHidden(t *testing.T) {
	h := newHarness(t, func(c *harnessConfig) { c.wrap = func(d *Deps) { d.Users = brokenUsers{d.Users} } })
	tests := []struct {
		name, path string
		logged     string
	}{
		{"panic", "/api/v1/users", "panic in GET /api/v1/users"},
		{"error", "/api/v1/users/me", "find user: " + secretDetail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.t = t
			resp := h.do(request{method: "GET", path: tt.path, token: h.tokenFor(h.admin), header: map[string]string{HeaderRequestID: "req-" + tt.name}})
			if resp.status != 500 {
				t.Fatalf("status %d, want 500", resp.status)
			}
			e := resp.err(t)
			if e.Code != marksmith.EINTERNAL || e.Message != "Internal error." || len(e.Details) != 0 {
				t.Errorf("error %+v", e)
			}
			if strings.Contains(string(resp.body), "10.0.0.7") || strings.Contains(string(resp.body), "panic") {
				t.Errorf("body leaks internals: %s", resp.body)
			}
			logs := h.logs.String()
			var found bool
			for _, line := range strings.Split(logs, "\n") {
				if strings.Contains(line, `"msg":"internal error"`) && strings.Contains(line, `"request_id":"req-`+tt.name+`"`) &&
					strings.Contains(line, tt.logged) {
					found = true
				}
			}
			if !found {
				t.Errorf("no internal error logged with request id req-%s and %q in:\n%s", tt.name, tt.logged, logs)
			}
		})
	}
	// The app still serves after a panic.
	h.t = t
	if resp := h.do(request{method: "GET", path: "/healthz"}); resp.status != 200 {
		t.Errorf("healthz after panic: %d", resp.status)
	}
}

func TestErrorShapeForFrameworkErrors(t *testing.T) {
	h := newHarness(t, func(c *harnessConfig) { c.http.BodyLimit = 1024 })
	h.serve()
	big := `{"email":"a@example.edu","password":"` + strings.Repeat("x", 2000) + `"}`
	tests := []struct {
		name string
		req  request
		want int
		code string
	}{
		{"unknown route", request{method: "GET", path: "/api/v1/nothing", undocumented: true}, 404, marksmith.ENOTFOUND},
		{"wrong method", request{method: "DELETE", path: "/api/v1/users", undocumented: true}, 405, EMETHOD},
		{"unknown method", request{method: "PURGE", path: "/healthz", undocumented: true}, 405, EMETHOD},
		{"body over the limit", request{method: "POST", path: "/api/v1/auth/login", body: []byte(big)}, 413, marksmith.ETOOLARGE},
		{"body at the limit", request{method: "POST", path: "/api/v1/auth/login", body: []byte(big[:1000] + `"}`)}, 401, marksmith.EUNAUTHORIZED},
		{"headers over the limit", request{method: "GET", path: "/healthz", header: map[string]string{"X-Padding": strings.Repeat("p", 9000)}}, 413, marksmith.ETOOLARGE},
	}
	for _, tt := range tests {
		resp := h.do(tt.req)
		if resp.status != tt.want {
			t.Errorf("%s: status %d, want %d: %s", tt.name, resp.status, tt.want, resp.body)
			continue
		}
		if e := resp.err(t); e.Code != tt.code {
			t.Errorf("%s: code %q, want %q", tt.name, e.Code, tt.code)
		}
	}
}

// TestSecurityHeaders checks the headers of every API response: a JSON
// API is never a page to sniff, render, frame or follow links from.
func TestSecurityHeaders(t *testing.T) {
	h := newHarness(t)
	for _, r := range []request{
		{method: "GET", path: "/healthz"},
		{method: "GET", path: "/api/v1/users/me", token: h.tokenFor(h.student)},
		{method: "GET", path: "/api/v1/users/me"},
		{method: "GET", path: "/api/v1/users", token: h.tokenFor(h.student)},
		{method: "POST", path: "/api/v1/auth/login", body: []byte(`{"email":`)},
	} {
		resp := h.do(r)
		for k, want := range map[string]string{
			"X-Content-Type-Options":  "nosniff",
			"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
			"X-Frame-Options":         "DENY",
			"Referrer-Policy":         "no-referrer",
		} {
			if got := resp.header.Get(k); got != want {
				t.Errorf("%s %s (%d): %s %q, want %q", r.method, r.path, resp.status, k, got, want)
			}
		}
	}
}

func TestErrorStatusTable(t *testing.T) {
	tests := []struct {
		code string
		want int
	}{
		{marksmith.EINVALID, 400}, {marksmith.EUNAUTHORIZED, 401}, {marksmith.EFORBIDDEN, 403},
		{marksmith.ENOTFOUND, 404}, {EMETHOD, 405}, {marksmith.ECONFLICT, 409}, {marksmith.EGONE, 410},
		{marksmith.ETOOLARGE, 413}, {marksmith.EUNPROCESSABLE, 422}, {marksmith.ERATELIMIT, 429},
		{marksmith.EINTERNAL, 500}, {marksmith.EUNAVAILABLE, 503}, {"no-such-code", 500},
	}
	for _, tt := range tests {
		if got := errorStatus(tt.code); got != tt.want {
			t.Errorf("errorStatus(%q) = %d, want %d", tt.code, got, tt.want)
		}
	}
}

func TestRequestID(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		sent string
		keep bool
	}{
		{"abc-123_x.y", true},
		{"", false},
		{"has spaces", false},
		{"<script>", false},
		{strings.Repeat("a", 65), false},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		r := request{method: "GET", path: "/healthz"}
		if tt.sent != "" {
			r.header = map[string]string{HeaderRequestID: tt.sent}
		}
		got := h.do(r).header.Get(HeaderRequestID)
		if tt.keep && got != tt.sent {
			t.Errorf("sent %q, got %q", tt.sent, got)
		}
		if !tt.keep && (got == tt.sent || !validRequestID(got) || seen[got]) {
			t.Errorf("sent %q, got %q: want a fresh id", tt.sent, got)
		}
		seen[got] = true
	}
	if !strings.Contains(h.logs.String(), `"request_id":"abc-123_x.y"`) {
		t.Error("access log lacks the request id")
	}
}

func TestReadyz(t *testing.T) {
	var ready error
	h := newHarness(t, func(c *harnessConfig) {
		c.ready = func(context.Context) error { return ready }
	})
	if resp := h.do(request{method: "GET", path: "/readyz"}); resp.status != 200 {
		t.Errorf("ready: %d", resp.status)
	}
	ready = errors.New("schema at version 3, binary needs 5")
	resp := h.do(request{method: "GET", path: "/readyz"})
	if resp.status != 503 || resp.err(t).Code != marksmith.EUNAVAILABLE || strings.Contains(string(resp.body), "version 3") {
		t.Errorf("not ready: %d %s", resp.status, resp.body)
	}
	if ra := resp.header.Get("Retry-After"); ra != "5" {
		t.Errorf("not ready: Retry-After %q, want 5", ra)
	}
	if !strings.Contains(h.logs.String(), "schema at version 3") {
		t.Error("readiness failure not logged")
	}
	if resp := h.do(request{method: "GET", path: "/healthz"}); resp.status != 200 {
		t.Errorf("healthz while not ready: %d", resp.status)
	}
}

func TestMetrics(t *testing.T) {
	h := newHarness(t)
	h.do(request{method: "GET", path: "/healthz"})
	h.do(request{method: "GET", path: "/healthz"})
	h.do(request{method: "GET", path: "/api/v1/users/me"})
	h.do(request{method: "GET", path: "/no/such/path", undocumented: true})
	h.do(request{method: "GET", path: "/api/v1/templates/x%2Fy", token: h.tokenFor(h.admin)})
	resp := h.do(request{method: "GET", path: "/metrics"})
	body := string(resp.body)
	for _, want := range []string{
		`marksmith_http_requests_total{method="GET",route="/healthz",status="200"} 2`,
		`marksmith_http_requests_total{method="GET",route="/api/v1/users/me",status="401"} 1`,
		`marksmith_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`marksmith_http_requests_total{method="GET",route="/api/v1/templates/:id",status="404"} 1`,
		`marksmith_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"} 2`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, "x%2Fy") || strings.Contains(body, "/no/such/path") {
		t.Error("metrics are labelled with raw paths")
	}
	// A second app on the same registry shares the series instead of failing.
	if _, err := newServer(Config{}, Deps{Auth: h.auth, Users: h.users, Templates: h.tmpl, Exams: h.exams, Metrics: h.registry}); err != nil {
		t.Errorf("second server on one registry: %v", err)
	}
}

func TestOpenAPIServed(t *testing.T) {
	h := newHarness(t)
	resp := h.do(request{method: "GET", path: "/openapi.json"})
	if resp.status != 200 || string(resp.body) != string(openAPIDocument) || !strings.HasPrefix(resp.header.Get("Content-Type"), "application/json") {
		t.Errorf("openapi.json: %d %q", resp.status, resp.header.Get("Content-Type"))
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"defaults", Config{}, true},
		{"set", Config{BodyLimit: 1 << 20, ReadTimeout: time.Second, RequestTimeout: time.Minute, TrustProxy: true}, true},
		{"negative read timeout", Config{ReadTimeout: -time.Second}, false},
		{"negative request timeout", Config{RequestTimeout: -time.Second}, false},
		{"negative body limit", Config{BodyLimit: -1}, false},
	}
	for _, tt := range tests {
		if err := tt.cfg.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
	h := newHarness(t, func(c *harnessConfig) { c.noSeed = true })
	full := Deps{Auth: h.auth, Users: h.users, Templates: h.tmpl, Exams: h.exams}
	for name, deps := range map[string]Deps{
		"no auth":      {Users: full.Users, Templates: full.Templates, Exams: full.Exams},
		"no users":     {Auth: full.Auth, Templates: full.Templates, Exams: full.Exams},
		"no templates": {Auth: full.Auth, Users: full.Users, Exams: full.Exams},
		"no exams":     {Auth: full.Auth, Users: full.Users, Templates: full.Templates},
	} {
		if _, err := newServer(Config{}, deps); err == nil {
			t.Errorf("%s: newServer accepted it", name)
		}
	}
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "negative") {
				t.Errorf("New with a negative timeout: panic %v, want one naming it", r)
			}
		}()
		New(Config{ReadTimeout: -time.Second}, full)
	}()
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "Exams") {
			t.Errorf("New without the exam service: panic %v, want one naming it", r)
		}
	}()
	New(Config{}, Deps{Auth: full.Auth, Users: full.Users, Templates: full.Templates})
}

// TestServeShutsDownGracefully serves on a loopback port, holds a request
// in flight, cancels, and checks the request completes and Serve returns.
func TestServeShutsDownGracefully(t *testing.T) {
	h := newHarness(t)
	release := make(chan struct{})
	h.app.Get("/slow", func(c *fiber.Ctx) error {
		<-release
		return c.SendString("done")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, h.app, ln, 5*time.Second) }()
	base := "http://" + ln.Addr().String()
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("healthz: %d", resp.StatusCode)
	}
	slow := make(chan string, 1)
	go func() {
		resp, err := http.Get(base + "/slow")
		if err != nil {
			slow <- "error: " + err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		slow <- string(b)
	}()
	time.Sleep(100 * time.Millisecond) // let the slow request arrive
	cancel()
	time.Sleep(100 * time.Millisecond)
	close(release)
	if got := <-slow; got != "done" {
		t.Errorf("in-flight request got %q, want done", got)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after shutdown")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("server still accepts connections after shutdown")
	}
}

// tcpProxy forwards connections to a server until it is cut, as a network
// between the API and its database might.
type tcpProxy struct {
	addr, upstream string
	mu             sync.Mutex
	ln             net.Listener
	conns          []net.Conn
}

func newTCPProxy(t *testing.T, upstream string) *tcpProxy {
	t.Helper()
	p := &tcpProxy{upstream: upstream}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.cut)
	return p
}

// serve accepts and forwards connections on ln.
func (p *tcpProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", p.upstream)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(u, c); u.Close() }()
			go func() { _, _ = io.Copy(c, u); c.Close() }()
		}
	}()
}

// cut closes every connection and refuses new ones.
func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// restore accepts connections again, on the same address.
func (p *tcpProxy) restore(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.serve(ln)
}

// TestDatabaseOutage cuts the API off its Postgres: every route that needs
// the database answers 503 with Retry-After, in the error shape and as the
// document says, /healthz still 200; once the network is back, so is the
// API.
func TestDatabaseOutage(t *testing.T) {
	var proxy *tcpProxy
	h := newHarness(t, onPostgres, func(c *harnessConfig) {
		c.dsn = func(dsn string) string {
			u, err := url.Parse(dsn)
			if err != nil {
				t.Fatal(err)
			}
			proxy = newTCPProxy(t, u.Host)
			u.Host = proxy.addr
			return u.String()
		}
	})
	student := h.login("student@example.edu", testPassword)
	calls := []request{
		{method: "GET", path: "/api/v1/users/me", token: student.AccessToken},
		{method: "POST", path: "/api/v1/auth/login", body: jsonBody(t, marksmith.LoginInput{Email: "student@example.edu", Password: testPassword})},
		{method: "POST", path: "/api/v1/auth/refresh", body: jsonBody(t, refreshRequest{RefreshToken: student.RefreshToken})},
		{method: "GET", path: "/api/v1/users", token: h.tokenFor(h.admin)},
		{method: "GET", path: "/readyz"},
	}
	proxy.cut()
	for _, r := range calls {
		resp := h.do(r)
		if resp.status != 503 || resp.err(t).Code != marksmith.EUNAVAILABLE || resp.header.Get("Retry-After") == "" {
			t.Errorf("%s %s while the database is unreachable: %d %s (Retry-After %q)", r.method, r.path, resp.status, resp.body, resp.header.Get("Retry-After"))
		}
		if strings.Contains(string(resp.body), "127.0.0.1") || strings.Contains(string(resp.body), "dial") {
			t.Errorf("%s %s: the error shows the cause: %s", r.method, r.path, resp.body)
		}
	}
	if resp := h.do(request{method: "GET", path: "/healthz"}); resp.status != 200 {
		t.Errorf("healthz while the database is unreachable: %d", resp.status)
	}
	proxy.restore(t)
	for _, r := range calls[:2] {
		if resp := h.do(r); resp.status != 200 {
			t.Errorf("%s %s once the database is back: %d %s", r.method, r.path, resp.status, resp.body)
		}
	}
}
