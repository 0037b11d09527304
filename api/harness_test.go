package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/auth"
)

func TestMain(m *testing.M) {
	// kin-openapi knows application/yaml but not the other YAML media
	// types the upload route accepts.
	openapi3filter.RegisterBodyDecoder("text/yaml", openapi3filter.YamlBodyDecoder)
	// The document describes a CSV roster as a string: its rows are the
	// API's to judge, one by one, not kin-openapi's all-or-nothing reader.
	openapi3filter.RegisterBodyDecoder("text/csv", openapi3filter.PlainBodyDecoder)
	m.Run()
}

// testSecret is the HS256 secret of the test apps.
var testSecret = []byte("test-secret-test-secret-test-secret-0123")

// cheapParams keep argon2id fast in tests; production uses auth.DefaultParams.
func cheapParams() *auth.Params {
	return &auth.Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// syncBuffer is a log sink safe for the app's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// harness is an app over in-memory fakes with seeded users (one per role)
// and a client that checks every request and response against the OpenAPI
// document.
type harness struct {
	t         *testing.T
	app       *fiber.App
	srv       *server
	users     *fakeUsers
	tokens    *fakeTokens
	templates *fakeTemplates
	clock     *clock
	logs      *syncBuffer
	registry  *prometheus.Registry
	router    routers.Router
	baseURL   string // set by serve: requests go over loopback TCP instead of app.Test

	admin, instructor, student *marksmith.User
}

const testPassword = "correct horse battery"

type harnessOption func(*Config, *Deps)

func newHarness(t *testing.T, opts ...harnessOption) *harness {
	t.Helper()
	h := &harness{
		t:         t,
		clock:     &clock{t: time.Date(2026, 5, 19, 9, 0, 0, 0, time.UTC)},
		templates: newFakeTemplates(),
		tokens:    newFakeTokens(),
		logs:      &syncBuffer{},
		registry:  prometheus.NewRegistry(),
	}
	h.users = newFakeUsers(h.clock.Now)
	cfg := Config{JWTSecret: testSecret, PasswordParams: cheapParams()}
	deps := Deps{
		Users: h.users, Tokens: h.tokens, Templates: h.templates,
		Logger:  slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:     h.clock.Now,
		Metrics: h.registry,
	}
	for _, o := range opts {
		o(&cfg, &deps)
	}
	srv, err := newServer(cfg, deps)
	if err != nil {
		t.Fatalf("newServer: %v", err)
	}
	h.srv = srv
	h.app = srv.app()
	h.router = openAPIRouter(t)
	h.admin = h.seedUser("admin@example.edu", marksmith.RoleAdmin, testPassword)
	h.instructor = h.seedUser("instructor@example.edu", marksmith.RoleInstructor, testPassword)
	h.student = h.seedUser("student@example.edu", marksmith.RoleStudent, testPassword)
	return h
}

// openAPIRouter loads and validates the embedded document.
func openAPIRouter(t *testing.T) routers.Router {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openAPIDocument)
	if err != nil {
		t.Fatalf("load openapi.json: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI 3 document: %v", err)
	}
	r, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatalf("router: %v", err)
	}
	return r
}

func (h *harness) seedUser(email string, role marksmith.Role, password string) *marksmith.User {
	h.t.Helper()
	hash, err := auth.HashPasswordParams(password, cheapParams())
	if err != nil {
		h.t.Fatal(err)
	}
	u := &marksmith.User{Email: email, Name: strings.Split(email, "@")[0], Role: role, PasswordHash: hash}
	if role == marksmith.RoleStudent {
		u.StudentKey = email
	}
	if err := h.users.CreateUser(context.Background(), u); err != nil {
		h.t.Fatal(err)
	}
	return u
}

// tokenFor issues an access token for u directly.
func (h *harness) tokenFor(u *marksmith.User) string {
	h.t.Helper()
	if u == nil {
		return ""
	}
	tok, _, err := h.srv.jwt.Issue(u.ID, u.Role)
	if err != nil {
		h.t.Fatal(err)
	}
	return tok
}

// request is one call to the app.
type request struct {
	method, path string
	token        string // bearer access token, if any
	contentType  string // defaults to application/json when there is a body
	body         []byte
	header       map[string]string
	// undocumented marks a request the document rightly does not describe
	// (an unknown route); the error shape is still checked.
	undocumented bool
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func jsonBody(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (r request) httpRequest() *http.Request {
	req := httptest.NewRequest(r.method, r.path, bytes.NewReader(r.body))
	if len(r.body) > 0 {
		ct := r.contentType
		if ct == "" {
			ct = fiber.MIMEApplicationJSON
		}
		req.Header.Set("Content-Type", ct)
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	return req
}

// do sends r to the app. Unless r is undocumented, the request must match
// a documented operation, and the response must match the document: its
// status must be listed and its body fit the schema. A request the document
// rejects must be rejected by the API too (a 4xx). Every response must
// carry a request id, and every error response must have the error shape
// with the status of its code.
func (h *harness) do(r request) response {
	h.t.Helper()
	var (
		resp *http.Response
		err  error
	)
	if h.baseURL != "" {
		req := r.httpRequest()
		req.RequestURI = ""
		req.URL, err = url.Parse(h.baseURL + r.path)
		if err != nil {
			h.t.Fatal(err)
		}
		resp, err = http.DefaultClient.Do(req)
	} else {
		resp, err = h.app.Test(r.httpRequest(), -1)
	}
	if err != nil {
		h.t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	out := response{status: resp.StatusCode, header: resp.Header, body: body}
	if out.header.Get(HeaderRequestID) == "" {
		h.t.Errorf("%s %s: no %s header", r.method, r.path, HeaderRequestID)
	}
	if out.status >= 400 {
		h.checkErrorShape(r, out)
	}
	if !r.undocumented {
		h.checkOpenAPI(r, out)
	}
	return out
}

func (h *harness) checkErrorShape(r request, out response) {
	h.t.Helper()
	var e struct {
		Error *struct {
			Code    string          `json:"code"`
			Message string          `json:"message"`
			Details json.RawMessage `json:"details"`
		} `json:"error"`
	}
	if err := json.Unmarshal(out.body, &e); err != nil || e.Error == nil {
		h.t.Errorf("%s %s: status %d body %q is not the error shape", r.method, r.path, out.status, out.body)
		return
	}
	if e.Error.Message == "" {
		h.t.Errorf("%s %s: error without a message: %s", r.method, r.path, out.body)
	}
	if got := errorStatus(e.Error.Code); got != out.status {
		h.t.Errorf("%s %s: status %d with code %q, whose status is %d", r.method, r.path, out.status, e.Error.Code, got)
	}
	if ct := out.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		h.t.Errorf("%s %s: error Content-Type %q", r.method, r.path, ct)
	}
}

func (h *harness) checkOpenAPI(r request, out response) {
	h.t.Helper()
	ctx := context.Background()
	req := r.httpRequest()
	// Route on the escaped path so that a percent-encoded slash in a
	// template id stays inside its path segment, as it does for Fiber.
	routing := req.Clone(ctx)
	routing.URL.Path = req.URL.EscapedPath()
	route, params, err := h.router.FindRoute(routing)
	if err != nil {
		h.t.Errorf("%s %s is not in openapi.json: %v", r.method, r.path, err)
		return
	}
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
	}
	if reqErr := openapi3filter.ValidateRequest(ctx, in); reqErr != nil && (out.status < 400 || out.status >= 500) {
		h.t.Errorf("%s %s: openapi.json rejects the request (%v) but the API answered %d", r.method, r.path, reqErr, out.status)
	}
	rin := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 out.status,
		Header:                 out.header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	rin.SetBodyBytes(out.body)
	if err := openapi3filter.ValidateResponse(ctx, rin); err != nil {
		h.t.Errorf("%s %s: response %d does not match openapi.json: %v\nbody: %.500s", r.method, r.path, out.status, err, out.body)
	}
}

func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %q: %v", r.body, err)
	}
}

// apiError is the decoded error shape.
type apiError struct {
	Code    string          `json:"code"`
	Message string          `json:"message"`
	Details json.RawMessage `json:"details"`
}

func (r response) err(t *testing.T) apiError {
	t.Helper()
	var e struct {
		Error apiError `json:"error"`
	}
	r.decode(t, &e)
	return e.Error
}

// serve runs the app on a loopback port until the test ends; later
// requests go over TCP, through the whole fasthttp server (body limits,
// header limits) that app.Test skips.
func (h *harness) serve() {
	h.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, h.app, ln, 5*time.Second) }()
	h.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			h.t.Errorf("Serve: %v", err)
		}
	})
	h.baseURL = "http://" + ln.Addr().String()
}

// login logs in and returns the tokens, failing the test unless it is 200.
func (h *harness) login(email, password string) tokenResponse {
	h.t.Helper()
	resp := h.do(request{method: "POST", path: "/api/v1/auth/login", body: jsonBody(h.t, loginRequest{Email: email, Password: password})})
	if resp.status != http.StatusOK {
		h.t.Fatalf("login %s: status %d: %s", email, resp.status, resp.body)
	}
	var tr tokenResponse
	resp.decode(h.t, &tr)
	return tr
}
