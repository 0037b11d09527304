package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/auth"
	"github.com/marksmith/marksmith/bank"
	"github.com/marksmith/marksmith/exams"
	"github.com/marksmith/marksmith/internal/pgtest"
	"github.com/marksmith/marksmith/storage"
)

// examStart is when the exam tests' clock starts.
var examStart = time.Date(2026, 5, 19, 9, 0, 0, 0, time.UTC)

// newExamHarness is a harness over real storage of the dialect (a fresh,
// migrated SQLite file, or a fresh Postgres schema) with the exam service,
// the built-in bank stored as serve stores it, and one admin. The API, the
// exam service and the database share the harness clock, so a test moves
// time for all of them at once. Without Postgres a postgres harness skips
// the test, or fails it when CI=true.
func newExamHarness(t *testing.T, dialect string) *harness {
	t.Helper()
	var dsn string
	switch dialect {
	case storage.DialectSQLite:
		dsn = "sqlite:" + filepath.Join(t.TempDir(), "exams.db")
	case storage.DialectPostgres:
		dsn = testPostgresSchema(t)
	default:
		t.Fatalf("unknown dialect %q", dialect)
	}
	db, err := storage.Open(t.Context(), dsn, nil)
	if err != nil {
		t.Fatalf("open %s: %v", dialect, err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	h := &harness{
		t:        t,
		clock:    &clock{t: examStart},
		logs:     &syncBuffer{},
		registry: prometheus.NewRegistry(),
	}
	db.Now = h.clock.Now
	logger := slog.New(slog.NewJSONHandler(h.logs, nil))
	users := storage.NewUserStore(db)
	templates := storage.NewTemplateStore(db)
	store := storage.NewExamStore(db)
	srv, err := newServer(Config{JWTSecret: testSecret, PasswordParams: cheapParams()}, Deps{
		Users: users, Tokens: storage.NewTokenStore(db), Templates: templates,
		Exams:  exams.New(store, users, templates, h.clock.Now, logger),
		Logger: logger, Now: h.clock.Now, Metrics: h.registry,
	})
	if err != nil {
		t.Fatal(err)
	}
	h.srv, h.app, h.router = srv, srv.app(), openAPIRouter(t)
	seedBuiltinBank(t, templates, h.clock.Now())
	hash, err := auth.HashPasswordParams(testPassword, cheapParams())
	if err != nil {
		t.Fatal(err)
	}
	h.admin = &marksmith.User{Email: "admin@example.edu", Name: "Admin", Role: marksmith.RoleAdmin, PasswordHash: hash}
	if err := users.CreateUser(t.Context(), h.admin); err != nil {
		t.Fatalf("seed admin: %v", err)
	}
	return h
}

// seedBuiltinBank stores the built-in bank as serve does on a first start:
// each template as a built-in version.
func seedBuiltinBank(t *testing.T, templates marksmith.TemplateStore, now time.Time) {
	t.Helper()
	builtin, err := bank.Builtin()
	if err != nil {
		t.Fatalf("built-in bank: %v", err)
	}
	for _, b := range builtin {
		tv := &marksmith.TemplateVersion{TemplateID: b.ID, Title: b.Title, Marks: b.Marks, Tags: b.Tags, Format: b.Format,
			Source: string(b.Source), Builtin: true, CreatedAt: now}
		if err := templates.CreateTemplateVersion(t.Context(), tv); err != nil {
			t.Fatalf("store %s: %v", b.ID, err)
		}
	}
}

// testPostgresSchema creates a schema of the test's own, dropped when it
// ends, and returns a DSN whose search_path selects it.
func testPostgresSchema(t *testing.T) string {
	t.Helper()
	return pgtest.Schema(t, "marksmith_api_")
}

// call sends a JSON request as the holder of token and fails the test
// unless the status is want; it decodes the body into out when out is not
// nil.
func (h *harness) call(method, path, token string, body any, want int, out any) response {
	h.t.Helper()
	r := request{method: method, path: path, token: token}
	if body != nil {
		if b, ok := body.([]byte); ok {
			r.body = b
		} else {
			r.body = jsonBody(h.t, body)
		}
	}
	resp := h.do(r)
	if resp.status != want {
		h.t.Fatalf("%s %s: status %d, want %d: %.600s", method, path, resp.status, want, resp.body)
	}
	if out != nil {
		resp.decode(h.t, out)
	}
	return resp
}

// studentLeaks walks a JSON document and returns the paths of anything a
// student must never see: a key, a correct flag that is true, a rubric, a
// reference answer, an error-carried-forward rule, accepted phrasings or
// patterns, or drawn parameters.
func studentLeaks(body []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return []string{"not JSON: " + err.Error()}
	}
	forbidden := map[string]bool{"key": true, "rubric": true, "reference": true, "follow": true, "follow_marks": true,
		"accept": true, "patterns": true, "params": true, "variant": true}
	var leaks []string
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, child := range x {
				p := path + "." + k
				if forbidden[k] {
					leaks = append(leaks, p)
				}
				if k == "correct" && child == true {
					leaks = append(leaks, p+"=true")
				}
				walk(p, child)
			}
		case []any:
			for i, child := range x {
				walk(fmt.Sprintf("%s[%d]", path, i), child)
			}
		}
	}
	walk("$", doc)
	return leaks
}

// TestStudentLeaks checks the leak scanner itself.
func TestStudentLeaks(t *testing.T) {
	tests := []struct {
		body string
		want string
	}{
		{`{"questions":[{"parts":[{"id":"a","prompt":"followed by a key idea"}]}]}`, ""},
		{`{"questions":[{"parts":[{"answer":{"key":null}}]}]}`, "$.questions[0].parts[0].answer.key"},
		{`{"options":[{"id":"x","correct":false}]}`, ""},
		{`{"options":[{"id":"x","correct":true}]}`, "$.options[0].correct=true"},
		{`{"a":{"rubric":[]}}`, "$.a.rubric"},
		{`{"reference":"x"}`, "$.reference"},
		{`{"follow":"ans.d"}`, "$.follow"},
		{`{"feedback":{"after_release":"key"}}`, ""},
	}
	for _, tt := range tests {
		got := strings.Join(studentLeaks([]byte(tt.body)), ",")
		if got != tt.want {
			t.Errorf("studentLeaks(%s) = %q, want %q", tt.body, got, tt.want)
		}
	}
}
