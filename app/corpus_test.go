package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/auth"
	"github.com/marksmith/marksmith/internal/pgtest"
	"github.com/marksmith/marksmith/storage"
)

// The bad-input corpus: app/testdata/badinput/*.json, one file per group
// of routes, each a list of requests a client should not send, with the
// answer each must get. TestBadInputCorpus sends every one over HTTP to a
// whole server (app.New and Run, as serve runs it) on SQLite and on
// PostgreSQL and checks the status, the error shape, the security
// headers, that the log has no panic and no internal error, that the
// server still answers, and that a refusal changed nothing.

// corpusDir holds the corpus.
const corpusDir = "testdata/badinput"

// minCorpusCases and minRouteCases are the least the corpus must hold, in
// all and for each route.
const (
	minCorpusCases = 300
	minRouteCases  = 4
)

// corpusCase is one request of the corpus and the answer it must get.
type corpusCase struct {
	Name   string `json:"name"`
	Method string `json:"method"`
	// Path, like the body, Authorization and Headers, may hold the
	// fixture's placeholders: {exam} (published, with attempts), {draft}
	// and {other_exam} (another instructor's draft); {attempt} (the
	// student's, open), {other_attempt} (submitted), {disabled_attempt},
	// {pending_attempt}; {student}, {other_student} and {<caller>_id} (a
	// caller's user id: {admin_id}, {reset_id}, ...); {xff} (the byte
	// 0xff, not UTF-8); and {repeat:S:N} (S written N times).
	Path string `json:"path"`
	// As is who sends it: anonymous, admin, instructor, other-instructor,
	// student, other-student, must-change-password (signed in with a
	// one-time password), disabled (disabled after signing in) or reset
	// (a student who has not started).
	As string `json:"as"`
	// Token replaces the caller's access token with a bad one: alg-none,
	// tampered, wrong-key, expired, forged-role, ghost, garbage, refresh.
	Token string `json:"token,omitempty"`
	// Authorization, if set, is sent as the Authorization header as it is.
	Authorization string `json:"authorization,omitempty"`
	// ContentType defaults to application/json when there is a body; "-"
	// sends none.
	ContentType string            `json:"content_type,omitempty"`
	Headers     map[string]string `json:"headers,omitempty"`
	// The body: Body as text, JSON as written (both with the placeholders
	// of Path), or Gen, a generated body (see generate).
	Body string          `json:"body,omitempty"`
	JSON json.RawMessage `json:"json,omitempty"`
	Gen  string          `json:"gen,omitempty"`
	// Raw sends the request over a bare TCP connection, as written.
	Raw bool `json:"raw,omitempty"`

	Status int    `json:"status"`
	Code   string `json:"code,omitempty"` // default: the code of Status
	// Contains are substrings the response body must hold; Fields, field
	// names the error's details must name.
	Contains []string `json:"contains,omitempty"`
	Fields   []string `json:"fields,omitempty"`
	// WantHeaders are response headers and a substring each must hold.
	WantHeaders map[string]string `json:"want_headers,omitempty"`
	// Check names a check of the state after the case (see checkState).
	Check string `json:"check,omitempty"`
	// Changes says the case may change the state (a request the server
	// should accept); any other case must leave it as it was.
	Changes bool `json:"changes,omitempty"`

	// Pending marks a case whose expected answer is the correct one but
	// which the server does not give yet (Finding names the defect): it is
	// run and logged, and does not fail; once it passes, the test fails
	// until the mark is removed.
	Pending bool   `json:"pending,omitempty"`
	Finding string `json:"finding,omitempty"`

	group string
}

func (c *corpusCase) id() string { return c.group + "/" + c.Name }

// loadCorpus reads every file of the corpus, in name order, and checks
// that each case is well formed.
func loadCorpus(t *testing.T) []*corpusCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus in %s: %v", corpusDir, err)
	}
	sort.Strings(files)
	var all []*corpusCase
	seen := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cases []*corpusCase
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cases); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		group := strings.TrimSuffix(filepath.Base(f), ".json")
		for i, c := range cases {
			c.group = group
			var problems []string
			if c.Name == "" {
				problems = append(problems, "no name")
			}
			if seen[c.id()] {
				problems = append(problems, "name used twice")
			}
			seen[c.id()] = true
			if c.Method == "" || !strings.HasPrefix(c.Path, "/") {
				problems = append(problems, "no method or path")
			}
			if !slices.Contains(corpusCallers, c.As) {
				problems = append(problems, fmt.Sprintf("as %q is not one of %v", c.As, corpusCallers))
			}
			if c.Token != "" && !slices.Contains(corpusBadTokens, c.Token) {
				problems = append(problems, fmt.Sprintf("token %q is not one of %v", c.Token, corpusBadTokens))
			}
			n := 0
			for _, set := range []bool{c.Body != "", len(c.JSON) > 0, c.Gen != ""} {
				if set {
					n++
				}
			}
			if n > 1 {
				problems = append(problems, "more than one of body, json and gen")
			}
			if http.StatusText(c.Status) == "" {
				problems = append(problems, fmt.Sprintf("status %d", c.Status))
			}
			if c.Status >= 400 && c.Code == "" {
				c.Code = codeOfStatus[c.Status]
			}
			if c.Pending != (c.Finding != "") {
				problems = append(problems, "pending and finding go together")
			}
			if len(problems) > 0 {
				t.Errorf("%s case %d (%s): %s", f, i, c.Name, strings.Join(problems, "; "))
			}
			all = append(all, c)
		}
	}
	return all
}

// corpusCallers are the values of corpusCase.As.
var corpusCallers = []string{"anonymous", "admin", "instructor", "other-instructor", "student", "other-student", "must-change-password", "disabled", "reset"}

// corpusBadTokens are the values of corpusCase.Token.
var corpusBadTokens = []string{"alg-none", "tampered", "wrong-key", "expired", "forged-role", "ghost", "garbage", "refresh"}

// codeOfStatus is the error code each status stands for (docs/api.md).
var codeOfStatus = map[int]string{
	400: marksmith.EINVALID, 401: marksmith.EUNAUTHORIZED, 403: marksmith.EFORBIDDEN, 404: marksmith.ENOTFOUND,
	405: "method_not_allowed", 409: marksmith.ECONFLICT, 410: marksmith.EGONE, 413: marksmith.ETOOLARGE,
	422: marksmith.EUNPROCESSABLE, 429: marksmith.ERATELIMIT, 500: marksmith.EINTERNAL, 503: marksmith.EUNAVAILABLE,
}

// TestBadInputCorpusCoversEveryRoute checks the corpus's size and that it
// sends at least minRouteCases requests to each route of the API, as the
// OpenAPI document the server serves lists them (a test of package api
// checks that it lists exactly the routes of routes.go).
func TestBadInputCorpusCoversEveryRoute(t *testing.T) {
	cases := loadCorpus(t)
	if len(cases) < minCorpusCases {
		t.Errorf("the corpus has %d cases, want at least %d", len(cases), minCorpusCases)
	}
	db, err := storage.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "routes.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a, err := New(Config{JWTSecret: corpusSecret}, Deps{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := a.HTTP.Test(httptest.NewRequest(http.MethodGet, "/openapi.json", nil), -1)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatalf("/openapi.json: %v", err)
	}
	var routes []string
	for path, ops := range doc.Paths {
		segments := strings.Split(path, "/")
		for i, seg := range segments {
			if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
				segments[i] = `[^/]*` // a path parameter
			} else {
				segments[i] = regexp.QuoteMeta(seg)
			}
		}
		pattern := regexp.MustCompile("^" + strings.Join(segments, "/") + "$")
		for method := range ops {
			method = strings.ToUpper(method)
			if !slices.Contains([]string{"GET", "POST", "PUT", "PATCH", "DELETE"}, method) {
				continue // parameters, summary
			}
			n := 0
			for _, c := range cases {
				p, _, _ := strings.Cut(c.Path, "?")
				if c.Method == method && pattern.MatchString(p) {
					n++
				}
			}
			routes = append(routes, method+" "+path)
			if n < minRouteCases {
				t.Errorf("%s %s: %d cases, want at least %d", method, path, n, minRouteCases)
			}
		}
	}
	if len(routes) < 40 {
		t.Fatalf("the OpenAPI document lists %d routes; it is not being read", len(routes))
	}
	groups := map[string]int{}
	for _, c := range cases {
		groups[c.group]++
	}
	t.Logf("%d cases on %d routes: %v", len(cases), len(routes), groups)
}

// TestBadInputCorpus sends the corpus to a whole server on each database.
func TestBadInputCorpus(t *testing.T) {
	cases := loadCorpus(t)
	if t.Failed() {
		return
	}
	for _, dialect := range []string{storage.DialectSQLite, storage.DialectPostgres} {
		t.Run(dialect, func(t *testing.T) {
			start := time.Now()
			f := newCorpusFixture(t, dialect)
			t.Logf("fixture ready in %v", time.Since(start).Round(time.Millisecond))
			start = time.Now()
			var pending []string
			for _, c := range cases {
				t.Run(c.id(), func(t *testing.T) {
					if msg := f.run(t, c); msg != "" {
						pending = append(pending, c.id()+" ("+c.Finding+"): "+msg)
					}
				})
			}
			t.Logf("%d cases in %v", len(cases), time.Since(start).Round(time.Millisecond))
			for _, p := range pending {
				t.Logf("pending %s", p)
			}
		})
	}
}

// corpusSecret is the HS256 secret of the corpus servers.
var corpusSecret = []byte("corpus-secret-corpus-secret-0123456789")

// corpusPassword is every fixture account's password.
const corpusPassword = "corpus horse battery"

// corpusUser is a fixture account and its session.
type corpusUser struct {
	user    *marksmith.User
	access  string
	refresh string
}

// corpusFixture is a whole server on a fresh database, with accounts,
// templates, exams and attempts for the corpus's placeholders.
type corpusFixture struct {
	t       *testing.T
	dialect string
	app     *App
	base    string
	addr    string
	client  *http.Client
	logs    *logBuffer
	users   map[string]*corpusUser
	tokens  map[string]string // bad tokens for the student, by corpusBadTokens name
	ph      *strings.Replacer
	state   string // the state a refusal must leave as it is

	exam, draft, otherExam, attempt, otherAttempt, disabledAttempt, pendingAttempt int64
}

// logBuffer is the server's log, safe for its goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// since returns what was logged after offset, and the new offset.
func (b *logBuffer) since(offset int) (string, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()[offset:], b.buf.Len()
}

func newCorpusFixture(t *testing.T, dialect string) *corpusFixture {
	t.Helper()
	var dsn string
	switch dialect {
	case storage.DialectSQLite:
		// Not t.TempDir: storage cannot open a path with a percent sign
		// (see api-findings.md), and these subtests' names have them.
		dir, err := os.MkdirTemp("", "marksmith-corpus-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		dsn = "sqlite:" + filepath.Join(dir, "corpus.db")
	case storage.DialectPostgres:
		dsn = pgtest.Schema(t, "marksmith_corpus_")
	}
	logs := &logBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx := t.Context()
	db, err := storage.Open(ctx, dsn, logger)
	if err != nil {
		t.Fatalf("open %s: %v", dialect, err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	a, err := New(Config{
		JWTSecret:      corpusSecret,
		PasswordParams: &auth.Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32},
	}, Deps{DB: db, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Templates.SeedBuiltin(ctx); err != nil {
		t.Fatalf("seed the bank: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(sctx, ln) }()
	t.Cleanup(func() {
		stop()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("the server did not stop")
		}
	})
	f := &corpusFixture{t: t, dialect: dialect, app: a, addr: ln.Addr().String(), base: "http://" + ln.Addr().String(),
		client: &http.Client{Timeout: 2 * time.Minute}, logs: logs, users: map[string]*corpusUser{}}
	f.waitHealthy()
	f.seed(ctx)
	f.state = f.snapshot()
	return f
}

// waitHealthy waits for /healthz to answer 200.
func (f *corpusFixture) waitHealthy() {
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := f.client.Get(f.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("the server does not answer /healthz: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// seed creates the accounts (through the service, with chosen passwords)
// and logs them in over HTTP, uploads a template for each instructor,
// and creates the exams and attempts the corpus refers to.
func (f *corpusFixture) seed(ctx context.Context) {
	t := f.t
	accounts := []struct {
		as, email string
		role      marksmith.Role
		password  string
	}{
		{"admin", "admin@corpus.test", marksmith.RoleAdmin, corpusPassword},
		{"instructor", "prof@corpus.test", marksmith.RoleInstructor, corpusPassword},
		{"other-instructor", "other@corpus.test", marksmith.RoleInstructor, corpusPassword},
		{"student", "sam@corpus.test", marksmith.RoleStudent, corpusPassword},
		{"other-student", "ben@corpus.test", marksmith.RoleStudent, corpusPassword},
		{"must-change-password", "pending@corpus.test", marksmith.RoleStudent, corpusPassword},
		{"disabled", "gone@corpus.test", marksmith.RoleStudent, corpusPassword},
		{"reset", "reset@corpus.test", marksmith.RoleStudent, corpusPassword},
	}
	for _, acc := range accounts {
		na, err := f.app.Users.Create(ctx, marksmith.NewUser{Email: acc.email, Name: "Corpus " + acc.as, Role: acc.role, Password: acc.password})
		if err != nil {
			t.Fatalf("create %s: %v", acc.email, err)
		}
		var sess marksmith.Session
		f.must("POST", "/api/v1/auth/login", "", map[string]string{"email": acc.email, "password": acc.password}, 200, &sess)
		f.users[acc.as] = &corpusUser{user: na.User, access: sess.AccessToken, refresh: sess.RefreshToken}
	}
	admin := f.users["admin"]
	// Templates of each instructor's own.
	f.must("POST", "/api/v1/templates", f.users["instructor"].access, rawYAML(corpusTemplate("corpus/mine", "Mine")), 201, nil)
	f.must("POST", "/api/v1/templates", f.users["other-instructor"].access, rawYAML(corpusTemplate("corpus/theirs", "Theirs")), 201, nil)

	now := time.Now().UTC()
	exam := func(title string, roster ...string) map[string]any {
		return map[string]any{
			"title": title, "questions": []map[string]any{{"template": "dasc7606/q7"}, {"template": "dasc7606/q1"}},
			"opens_at": now.Add(-time.Minute), "closes_at": now.Add(6 * time.Hour), "roster": roster,
			"time_limit_seconds": 3 * 3600, "late_grace_seconds": 60,
			"feedback": map[string]string{"after_submit": "parts", "after_release": "parts"},
		}
	}
	prof, other := f.users["instructor"].access, f.users["other-instructor"].access
	var e marksmith.Exam
	f.must("POST", "/api/v1/exams", prof, exam("Corpus", "sam@corpus.test", "ben@corpus.test", "gone@corpus.test", "reset@corpus.test", "pending@corpus.test"), 201, &e)
	f.exam = e.ID
	f.must("POST", fmt.Sprintf("/api/v1/exams/%d/publish", f.exam), prof, nil, 200, nil)
	f.must("POST", "/api/v1/exams", prof, exam("Corpus draft", "sam@corpus.test"), 201, &e)
	f.draft = e.ID
	f.must("POST", "/api/v1/exams", other, exam("Theirs", "ben@corpus.test"), 201, &e)
	f.otherExam = e.ID
	var v marksmith.AttemptView
	f.must("POST", fmt.Sprintf("/api/v1/exams/%d/attempts", f.exam), f.users["student"].access, nil, 200, &v)
	f.attempt = v.Attempt.ID
	f.must("PUT", fmt.Sprintf("/api/v1/attempts/%d/answers/1/a", f.attempt), f.users["student"].access, map[string]any{"answer": "cross_entropy", "seq": 1}, 200, nil)
	f.must("POST", fmt.Sprintf("/api/v1/exams/%d/attempts", f.exam), f.users["other-student"].access, nil, 200, &v)
	f.otherAttempt = v.Attempt.ID
	f.must("PUT", fmt.Sprintf("/api/v1/attempts/%d/answers/2/e", f.otherAttempt), f.users["other-student"].access, map[string]any{"answer": "Swish is smooth.", "seq": 1}, 200, nil)
	f.must("POST", fmt.Sprintf("/api/v1/attempts/%d/submit", f.otherAttempt), f.users["other-student"].access, nil, 200, nil)
	f.must("POST", fmt.Sprintf("/api/v1/exams/%d/attempts", f.exam), f.users["disabled"].access, nil, 200, &v)
	f.disabledAttempt = v.Attempt.ID
	f.must("POST", fmt.Sprintf("/api/v1/exams/%d/attempts", f.exam), f.users["must-change-password"].access, nil, 200, &v)
	f.pendingAttempt = v.Attempt.ID
	// An admin gives that student a one-time password (their laptop was
	// stolen, say): they sign in with it and must choose their own.
	pending := f.users["must-change-password"]
	na, err := f.app.Users.ResetPassword(ctx, admin.user, pending.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	var sess marksmith.Session
	f.must("POST", "/api/v1/auth/login", "", map[string]string{"email": pending.user.Email, "password": na.Password}, 200, &sess)
	if !sess.MustChangePassword {
		t.Fatal("a session with a one-time password need not change it")
	}
	pending.access, pending.refresh = sess.AccessToken, sess.RefreshToken
	// Disabled after logging in and starting: the token is valid, the
	// account is not.
	if _, err := f.app.Users.SetDisabled(ctx, admin.user, f.users["disabled"].user.ID, true); err != nil {
		t.Fatal(err)
	}

	f.tokens = f.badTokens(f.users["student"])
	ph := []string{
		"{exam}", fmt.Sprint(f.exam), "{draft}", fmt.Sprint(f.draft), "{other_exam}", fmt.Sprint(f.otherExam),
		"{attempt}", fmt.Sprint(f.attempt), "{other_attempt}", fmt.Sprint(f.otherAttempt), "{disabled_attempt}", fmt.Sprint(f.disabledAttempt),
		"{pending_attempt}", fmt.Sprint(f.pendingAttempt),
		"{xff}", "\xff",
	}
	for as, u := range f.users {
		ph = append(ph, "{"+strings.ReplaceAll(as, "-", "_")+"_id}", fmt.Sprint(u.user.ID))
	}
	ph = append(ph, "{student}", fmt.Sprint(f.users["student"].user.ID), "{other_student}", fmt.Sprint(f.users["other-student"].user.ID))
	f.ph = strings.NewReplacer(ph...)
}

// badTokens are tokens a client should not have, made from u's.
func (f *corpusFixture) badTokens(u *corpusUser) map[string]string {
	t := f.t
	parts := strings.Split(u.access, ".")
	if len(parts) != 3 {
		t.Fatalf("access token %q is not a JWT", u.access)
	}
	enc := base64.RawURLEncoding
	payload, err := enc.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	claims["role"] = "admin"
	admin, _ := json.Marshal(claims)
	sign := func(secret []byte, now time.Time, id int64, role marksmith.Role) string {
		tk, err := auth.NewHS256(secret, auth.TokenConfig{Issuer: DefaultIssuer, Audience: DefaultAudience, TTL: DefaultAccessTTL,
			Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		s, _, err := tk.Issue(id, role)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	now := time.Now()
	id := u.user.ID
	return map[string]string{
		"alg-none":    enc.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + ".",
		"tampered":    parts[0] + "." + enc.EncodeToString(admin) + "." + parts[2],
		"wrong-key":   sign([]byte("another-secret-another-secret-01234567"), now, id, u.user.Role),
		"expired":     sign(corpusSecret, now.Add(-2*time.Hour), id, u.user.Role),
		"forged-role": sign(corpusSecret, now, id, marksmith.RoleAdmin), // a valid signature, but not the account's role
		"ghost":       sign(corpusSecret, now, 987654321, u.user.Role),  // no such account
		"garbage":     "not-a-token",
		"refresh":     u.refresh,
	}
}

// rawYAML marks a body to send as YAML.
type rawYAML string

// corpusTemplate is a small valid template.
func corpusTemplate(id, title string) string {
	return "id: " + id + "\ntitle: " + title + "\nmarks: 2\nparams:\n  x: {choice: [2, 3, 4]}\ncanonical: {x: 3}\n" +
		"parts:\n  - id: a\n    marks: 2\n    prompt: \"What is {{x}} squared?\"\n    answer: {type: integer, value: \"x*x\"}\n"
}

// must sends a fixture request and fails the test unless it gets status.
func (f *corpusFixture) must(method, path, token string, body any, status int, out any) {
	f.t.Helper()
	var b []byte
	ct := "application/json"
	switch v := body.(type) {
	case nil:
	case rawYAML:
		b, ct = []byte(v), "application/yaml"
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			f.t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, f.base+path, bytes.NewReader(b))
	if err != nil {
		f.t.Fatal(err)
	}
	if b != nil {
		req.Header.Set("Content-Type", ct)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		f.t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, status, rb)
	}
	if out != nil {
		if err := json.Unmarshal(rb, out); err != nil {
			f.t.Fatalf("%s %s: %v: %s", method, path, err, rb)
		}
	}
}

// snapshot describes what a refused request must not change: the
// exams, the templates' versions, the accounts and the student's saved
// answers.
func (f *corpusFixture) snapshot() string {
	ctx := f.t.Context()
	admin := f.users["admin"].user
	var b strings.Builder
	for _, id := range []int64{f.exam, f.draft, f.otherExam} {
		e, err := f.app.Exams.FindExam(ctx, admin, id)
		if err != nil {
			f.t.Fatalf("snapshot: exam %d: %v", id, err)
		}
		fmt.Fprintf(&b, "exam %d: %q %s %d %v %d %d %v released=%v\n", e.ID, e.Title, e.Status, len(e.Questions), e.Questions,
			e.TimeLimitSeconds, e.LateGraceSeconds, e.UpdatedAt.UnixMicro(), e.Released)
		roster, err := f.app.Exams.FindRoster(ctx, admin, id)
		if err != nil {
			f.t.Fatalf("snapshot: roster %d: %v", id, err)
		}
		for _, r := range roster {
			fmt.Fprintf(&b, "  roster %s +%d %v %q\n", r.Email, r.ExtraSeconds, r.ClosesAt, r.AccommodationReason)
		}
	}
	ts, _, err := f.app.Templates.FindTemplates(ctx, admin, marksmith.TemplateFilter{Limit: 200})
	if err != nil {
		f.t.Fatalf("snapshot: templates: %v", err)
	}
	for _, tv := range ts {
		fmt.Fprintf(&b, "template %s v%d %q\n", tv.TemplateID, tv.Version, tv.Title)
	}
	us, _, err := f.app.Users.FindUsers(ctx, admin, marksmith.UserFilter{Limit: 200})
	if err != nil {
		f.t.Fatalf("snapshot: users: %v", err)
	}
	for _, u := range us {
		fmt.Fprintf(&b, "user %d %s %q %s disabled=%v must_change=%v %v\n", u.ID, u.Email, u.Name, u.Role, u.Disabled, u.MustChangePassword, u.UpdatedAt.UnixMicro())
	}
	for _, id := range []int64{f.attempt, f.otherAttempt, f.disabledAttempt, f.pendingAttempt} {
		v, err := f.app.Exams.GetAttempt(ctx, admin, id)
		if err != nil {
			f.t.Fatalf("snapshot: attempt %d: %v", id, err)
		}
		fmt.Fprintf(&b, "attempt %d %s %v\n", v.Attempt.ID, v.Attempt.Status, v.Attempt.DeadlineAt.UnixMicro())
		for _, q := range v.Questions {
			for _, a := range q.Answers {
				fmt.Fprintf(&b, "  answer %d %s %q %d\n", a.Position, a.Part, a.Raw, a.Seq)
			}
		}
	}
	return b.String()
}

// corpusResponse is what came back for a case.
type corpusResponse struct {
	status int
	header http.Header
	body   []byte
}

// run sends one case and checks its answer. A pending case's failures are
// logged, not reported; run returns them.
func (f *corpusFixture) run(t *testing.T, c *corpusCase) (pendingFailure string) {
	_, offset := f.logs.since(0)
	var failures []string
	fail := func(format string, args ...any) { failures = append(failures, fmt.Sprintf(format, args...)) }

	resp, err := f.send(c)
	if err != nil {
		fail("request failed: %v", err)
	} else {
		f.checkResponse(c, resp, fail)
	}
	// The server still answers.
	if h, err := f.client.Get(f.base + "/healthz"); err != nil {
		t.Fatalf("the server no longer answers after %s: %v", c.id(), err)
	} else {
		h.Body.Close()
		if h.StatusCode != http.StatusOK {
			t.Fatalf("/healthz answers %d after %s", h.StatusCode, c.id())
		}
	}
	logged, _ := f.logs.since(offset)
	for _, line := range strings.Split(logged, "\n") {
		switch {
		case strings.Contains(strings.ToLower(line), "panic"):
			fail("the log has a panic: %s", line)
		case strings.Contains(line, "level=ERROR") && strings.Contains(line, "query failed"):
			// A value that reached the database and failed there; the
			// status check says whether it was answered well.
			t.Logf("log: %s", line)
		case strings.Contains(line, "level=ERROR"):
			fail("the log has an error: %s", line)
		}
	}
	if c.Check != "" {
		f.checkState(c, fail)
	}
	if c.Changes {
		f.state = f.snapshot()
	} else if now := f.snapshot(); now != f.state {
		fail("the refused request changed the state:\n%s", diffLines(f.state, now))
		f.state = now
	}
	if len(failures) == 0 {
		if c.Pending {
			t.Errorf("pending case passes now (%s): remove its pending mark", c.Finding)
		}
		return ""
	}
	if resp != nil {
		failures = append(failures, fmt.Sprintf("got %d %s", resp.status, truncate(resp.body, 600)))
	}
	msg := strings.Join(failures, "\n")
	if c.Pending {
		t.Logf("pending (%s): %s", c.Finding, msg)
		return failures[0]
	}
	t.Error(msg)
	return ""
}

// checkResponse checks the status, the error shape and the headers.
func (f *corpusFixture) checkResponse(c *corpusCase, r *corpusResponse, fail func(string, ...any)) {
	if r.status != c.Status {
		fail("status %d, want %d", r.status, c.Status)
	}
	body := string(r.body)
	for _, s := range c.Contains {
		if s = f.ph.Replace(s); !strings.Contains(body, s) {
			fail("the body does not contain %q", s)
		}
	}
	for h, want := range c.WantHeaders {
		if got := r.header.Get(h); !strings.Contains(got, want) {
			fail("header %s is %q, want it to contain %q", h, got, want)
		}
	}
	// Every response of the API carries the security headers.
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		fail("Content-Security-Policy is %q", csp)
	}
	if r.header.Get("Referrer-Policy") == "" {
		fail("no Referrer-Policy")
	}
	if got := r.header.Get("X-Content-Type-Options"); got != "nosniff" {
		fail("X-Content-Type-Options is %q", got)
	}
	if r.status < 400 {
		return
	}
	// The one error shape, with the status of its code.
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		fail("an error of Content-Type %q", ct)
	}
	var e struct {
		Error struct {
			Code    string          `json:"code"`
			Message string          `json:"message"`
			Details json.RawMessage `json:"details"`
		} `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		fail("not the error shape: %v", err)
		return
	}
	if e.Error.Code == "" || e.Error.Message == "" {
		fail("an error without a code or a message")
	}
	if codeOfStatus[r.status] != e.Error.Code {
		fail("code %q under status %d", e.Error.Code, r.status)
	}
	if c.Code != "" && e.Error.Code != c.Code {
		fail("code %q, want %q", e.Error.Code, c.Code)
	}
	if e.Error.Code == marksmith.EINTERNAL && e.Error.Message != "Internal error." {
		fail("an internal error shows %q", e.Error.Message)
	}
	if len(c.Fields) > 0 {
		var details []struct {
			Field string `json:"field"`
		}
		_ = json.Unmarshal(e.Error.Details, &details)
		var got []string
		for _, d := range details {
			got = append(got, d.Field)
		}
		for _, want := range c.Fields {
			if !slices.Contains(got, want) {
				fail("the details name %v, not %q", got, want)
			}
		}
	}
}

// send sends a case's request.
func (f *corpusFixture) send(c *corpusCase) (*corpusResponse, error) {
	path := expand(f.ph.Replace(c.Path))
	var body []byte
	switch {
	case c.Body != "":
		body = []byte(expand(f.ph.Replace(c.Body)))
	case len(c.JSON) > 0:
		body = []byte(expand(f.ph.Replace(string(c.JSON))))
	case c.Gen != "":
		b, err := generate(c.Gen)
		if err != nil {
			return nil, err
		}
		body = b
	}
	header := http.Header{}
	switch ct := c.ContentType; {
	case ct == "-":
	case ct != "":
		header.Set("Content-Type", ct)
	case body != nil:
		header.Set("Content-Type", "application/json")
	}
	if u := f.users[c.As]; u != nil {
		header.Set("Authorization", "Bearer "+u.access)
	}
	if c.Token != "" {
		header.Set("Authorization", "Bearer "+f.tokenFor(c))
	}
	if c.Authorization != "" {
		header.Set("Authorization", expand(f.ph.Replace(c.Authorization)))
	}
	for k, v := range c.Headers {
		header.Set(k, expand(f.ph.Replace(v)))
	}
	if c.Raw || len(body) > 1<<20 {
		// A large body too: the server answers 413 and closes before
		// reading it, which net/http reports as a failed write.
		return f.sendRaw(c.Method, path, header, body)
	}
	target, query, _ := strings.Cut(path, "?")
	req, err := http.NewRequest(c.Method, f.base, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	// Opaque sends the path exactly as written, escapes and all.
	req.URL = &url.URL{Scheme: "http", Host: f.addr, Opaque: target, RawQuery: query}
	req.Header = header
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &corpusResponse{status: resp.StatusCode, header: resp.Header, body: rb}, nil
}

// tokenFor is the bad token of a case, made from its caller's (the
// student's when the caller is anonymous).
func (f *corpusFixture) tokenFor(c *corpusCase) string {
	if u := f.users[c.As]; u != nil && u.user.ID != f.users["student"].user.ID {
		return f.badTokens(u)[c.Token]
	}
	return f.tokens[c.Token]
}

// sendRaw writes the request on a connection of its own, as it is.
func (f *corpusFixture) sendRaw(method, path string, header http.Header, body []byte) (*corpusResponse, error) {
	conn, err := net.DialTimeout("tcp", f.addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Minute))
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", method, path, f.addr)
	for k, vs := range header {
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(body))
	b.Write(body)
	// Written while the answer is read: a server may answer before it has
	// read the whole request, and close.
	written := make(chan error, 1)
	go func() {
		_, err := conn.Write(b.Bytes())
		written <- err
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		if werr := <-written; werr != nil {
			return nil, fmt.Errorf("write: %v; read: %w", werr, err)
		}
		return nil, err
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &corpusResponse{status: resp.StatusCode, header: resp.Header, body: rb}, nil
}

// repeatPattern is the inline generator {repeat:S:N}.
var repeatPattern = regexp.MustCompile(`(?s)\{repeat:(.+?):(\d+)\}`)

// expand writes out the {repeat:S:N} of s.
func expand(s string) string {
	return repeatPattern.ReplaceAllStringFunc(s, func(m string) string {
		sub := repeatPattern.FindStringSubmatch(m)
		n, _ := strconv.Atoi(sub[2])
		return strings.Repeat(sub[1], n)
	})
}

// generate makes the large or intricate bodies the corpus names rather
// than holds:
//
//	alias-bomb:params|canonical|key   a template with a 704-byte YAML alias bomb there
//	keys:N                            a template whose canonical mapping has N keys
//	placeholders:N                    a template whose prompt has N placeholders
//	params:N, parts:N                 a template with N parameters or N parts
//	nested:N                          N levels of block mappings
//	template:ID                       a small valid template of that id
func generate(gen string) ([]byte, error) {
	kind, arg, _ := strings.Cut(gen, ":")
	n, _ := strconv.Atoi(arg)
	var b strings.Builder
	switch kind {
	case "alias-bomb":
		bomb := aliasBomb()
		switch arg {
		case "params":
			return []byte(minimalTemplate("params:\n  x: {value: " + bomb + "}\n")), nil
		case "canonical":
			return []byte(minimalTemplate("params:\n  x: {choice: [1, 2]}\ncanonical: {x: " + bomb + "}\n")), nil
		case "key":
			return []byte("id: corpus/bomb\ntitle: K\nmarks: 1\nparts:\n  - {id: a, marks: 1, prompt: x, answer: {type: sequence, key: " + bomb + "}}\n"), nil
		}
	case "keys":
		b.WriteString("id: corpus/keys\ntitle: Keys\nmarks: 1\ncanonical:\n")
		for i := range n {
			fmt.Fprintf(&b, "  k%d: 1\n", i)
		}
		b.WriteString("parts:\n  - {id: a, marks: 1, prompt: x, answer: {type: integer, key: 1}}\n")
		return []byte(b.String()), nil
	case "placeholders":
		return []byte("id: corpus/prompt\ntitle: P\nmarks: 1\nparams:\n  x: {value: 2}\nparts:\n  - id: a\n    marks: 1\n    prompt: \"" +
			strings.Repeat("{{x}} ", n) + "\"\n    answer: {type: integer, value: x}\n"), nil
	case "params":
		b.WriteString("params:\n")
		for i := range n {
			fmt.Fprintf(&b, "  p%d: {value: %d}\n", i, i)
		}
		return []byte(minimalTemplate(b.String())), nil
	case "parts":
		fmt.Fprintf(&b, "id: corpus/parts\ntitle: P\nmarks: %d\nparts:\n", n)
		for i := range n {
			fmt.Fprintf(&b, "  - {id: p%d, marks: 1, prompt: x, answer: {type: integer, key: 1}}\n", i)
		}
		return []byte(b.String()), nil
	case "nested":
		for i := range n {
			b.WriteString(strings.Repeat("  ", i) + "b:\n")
		}
		return []byte(b.String()), nil
	case "template":
		return []byte(corpusTemplate(arg, "Corpus upload")), nil
	}
	return nil, fmt.Errorf("unknown generator %q", gen)
}

// aliasBomb is a list of nine anchored lists, each holding nine aliases of
// the one before: 9^9 values once written out, in under 704 bytes.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString(`[&a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]`)
	for c := 'b'; c <= 'i'; c++ {
		fmt.Fprintf(&b, ", &%c [", c)
		for j := range 9 {
			if j > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "*%c", c-1)
		}
		b.WriteString("]")
	}
	b.WriteString("]")
	return b.String()
}

// minimalTemplate is a valid template with extra lines before its parts.
func minimalTemplate(extra string) string {
	return "id: corpus/min\ntitle: M\nmarks: 1\n" + extra + "parts:\n  - {id: a, marks: 1, prompt: x, answer: {type: integer, key: 1}}\n"
}

// checkState runs a case's named check of the state after it:
//
//	user:EMAIL / no-user:EMAIL   the account exists / does not
//	versions:ID=N                template ID has N versions
func (f *corpusFixture) checkState(c *corpusCase, fail func(string, ...any)) {
	ctx := f.t.Context()
	admin := f.users["admin"].user
	for _, check := range strings.Split(c.Check, ",") {
		kind, arg, _ := strings.Cut(strings.TrimSpace(check), ":")
		switch kind {
		case "user", "no-user":
			email := arg
			us, _, err := f.app.Users.FindUsers(ctx, admin, marksmith.UserFilter{Query: email, Limit: 10})
			if err != nil {
				fail("check %s: %v", check, err)
				continue
			}
			found := slices.ContainsFunc(us, func(u *marksmith.User) bool { return u.Email == email })
			if found != (kind == "user") {
				fail("check %s: the account exists: %v", check, found)
			}
		case "versions":
			id, n, _ := strings.Cut(arg, "=")
			want, _ := strconv.Atoi(n)
			_, versions, err := f.app.Templates.FindTemplate(ctx, admin, id, 0)
			if marksmith.ErrorCode(err) == marksmith.ENOTFOUND {
				versions, err = nil, nil
			}
			if err != nil {
				fail("check %s: %v", check, err)
			} else if len(versions) != want {
				fail("check %s: %d versions", check, len(versions))
			}
		default:
			fail("unknown check %q", check)
		}
	}
}

// diffLines lists the lines of b that a lacks and the other way round.
func diffLines(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	for _, l := range al {
		if !slices.Contains(bl, l) {
			out = append(out, "- "+l)
		}
	}
	for _, l := range bl {
		if !slices.Contains(al, l) {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}

func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + fmt.Sprintf("... (%d bytes)", len(b))
}
