package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/auth"
	"github.com/marksmith/marksmith/storage"
)

// newStorageHarness is a harness whose services are the real storage on a
// fresh, migrated SQLite file. Its fakes are nil: seed through the API or
// the services.
func newStorageHarness(t *testing.T) (*harness, marksmith.UserStore) {
	t.Helper()
	db, err := storage.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "api.db"), nil)
	if err != nil {
		t.Fatalf("open: %v", err)
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
		clock:    &clock{t: time.Now().UTC().Truncate(time.Second)},
		logs:     &syncBuffer{},
		registry: prometheus.NewRegistry(),
	}
	users := storage.NewUserStore(db)
	srv, err := newServer(Config{JWTSecret: testSecret, PasswordParams: cheapParams()}, Deps{
		Users: users, Tokens: storage.NewTokenStore(db), Templates: storage.NewTemplateStore(db),
		Logger: slog.New(slog.NewJSONHandler(h.logs, nil)), Now: h.clock.Now, Metrics: h.registry,
		Ready: func(ctx context.Context) error { return db.CheckSchema(ctx) },
	})
	if err != nil {
		t.Fatal(err)
	}
	h.srv, h.app, h.router = srv, srv.app(), openAPIRouter(t)
	hash, err := auth.HashPasswordParams(testPassword, cheapParams())
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []*marksmith.User{
		{Email: "admin@example.edu", Name: "Admin", Role: marksmith.RoleAdmin, PasswordHash: hash},
		{Email: "student@example.edu", Name: "Student", Role: marksmith.RoleStudent, StudentKey: "3035000000", PasswordHash: hash},
	} {
		if err := users.CreateUser(t.Context(), u); err != nil {
			t.Fatalf("seed %s: %v", u.Email, err)
		}
		if u.Role == marksmith.RoleAdmin {
			h.admin = u
		} else {
			h.student = u
		}
	}
	return h, users
}

// TestStorageLoginRefreshFlow runs login, rotation, reuse detection and
// logout against real storage on SQLite.
func TestStorageLoginRefreshFlow(t *testing.T) {
	h, _ := newStorageHarness(t)
	refresh := func(tok string) response {
		return h.do(request{method: "POST", path: "/api/v1/auth/refresh", body: jsonBody(t, refreshRequest{RefreshToken: tok})})
	}
	if resp := h.do(request{method: "GET", path: "/readyz"}); resp.status != 200 {
		t.Fatalf("readyz: %d %s", resp.status, resp.body)
	}
	first := h.login("student@example.edu", testPassword)
	if resp := h.do(request{method: "GET", path: "/api/v1/users/me", token: first.AccessToken}); resp.status != 200 {
		t.Fatalf("me: %d", resp.status)
	}
	h.clock.Advance(time.Second)
	resp := refresh(first.RefreshToken)
	if resp.status != 200 {
		t.Fatalf("refresh: %d %s", resp.status, resp.body)
	}
	var second tokenResponse
	resp.decode(t, &second)
	if resp := refresh(first.RefreshToken); resp.status != 401 {
		t.Fatalf("reused token: %d, want 401", resp.status)
	}
	if resp := refresh(second.RefreshToken); resp.status != 401 {
		t.Fatalf("token rotated before the reuse: %d, want 401 (family revoked)", resp.status)
	}
	// A fresh login, logged out, cannot refresh.
	third := h.login("student@example.edu", testPassword)
	if resp := h.do(request{method: "POST", path: "/api/v1/auth/logout", body: jsonBody(t, refreshRequest{RefreshToken: third.RefreshToken})}); resp.status != 204 {
		t.Fatalf("logout: %d", resp.status)
	}
	if resp := refresh(third.RefreshToken); resp.status != 401 {
		t.Fatalf("refresh after logout: %d", resp.status)
	}
	// Wrong passwords count against the account on real storage too.
	for range 5 {
		h.do(request{method: "POST", path: "/api/v1/auth/login", body: jsonBody(t, loginRequest{Email: "student@example.edu", Password: "wrong-password"})})
	}
	if resp := h.do(request{method: "POST", path: "/api/v1/auth/login", body: jsonBody(t, loginRequest{Email: "student@example.edu", Password: testPassword})}); resp.status != 429 {
		t.Errorf("sixth attempt: %d, want 429", resp.status)
	}
}

// TestStorageUsersAndTemplates imports a roster and uploads, reads and
// previews a template through real storage.
func TestStorageUsersAndTemplates(t *testing.T) {
	h, users := newStorageHarness(t)
	tok := h.tokenFor(h.admin)
	resp := h.do(request{method: "POST", path: "/api/v1/users/import", token: tok, contentType: "text/csv",
		body: []byte("email,name,role\nprof@example.edu,Prof,instructor\nstudent@example.edu,Dup,\nbad,Bad,\n")})
	var ir importResponse
	resp.decode(t, &ir)
	if resp.status != 200 || ir.Created != 1 || ir.Existing != 1 || ir.Failed != 1 || ir.Rows[2].Line != 4 {
		t.Fatalf("import: %d %s", resp.status, resp.body)
	}
	if u, err := users.FindUserByEmail(t.Context(), "prof@example.edu"); err != nil || u.Role != marksmith.RoleInstructor {
		t.Fatalf("imported instructor: %+v %v", u, err)
	}
	if resp := h.do(request{method: "POST", path: "/api/v1/users", token: tok, body: []byte(`{"email":"Student@Example.edu","name":"Again"}`)}); resp.status != 409 {
		t.Errorf("duplicate create: %d %s", resp.status, resp.body)
	}
	src := readTestdata(t, "area.yaml")
	for i, want := range []int{201, 200} {
		if resp := h.do(request{method: "POST", path: "/api/v1/templates", token: tok, contentType: "application/yaml", body: src}); resp.status != want {
			t.Fatalf("upload %d: %d, want %d: %s", i+1, resp.status, want, resp.body)
		}
	}
	resp = h.do(request{method: "GET", path: "/api/v1/templates/test%2Farea", token: tok})
	var tr templateResponse
	resp.decode(t, &tr)
	if resp.status != 200 || tr.Source != string(src) || len(tr.Versions) != 1 || tr.CreatedBy == nil || *tr.CreatedBy != h.admin.ID {
		t.Fatalf("get: %d %s", resp.status, resp.body)
	}
	if resp := h.do(request{method: "GET", path: "/api/v1/templates/test%2Farea/preview?seed=9", token: tok}); resp.status != 200 {
		t.Fatalf("preview: %d %s", resp.status, resp.body)
	}
	if resp := h.do(request{method: "GET", path: "/api/v1/templates?tag=geometry", token: tok}); resp.status != 200 || !json.Valid(resp.body) {
		t.Fatalf("list: %d", resp.status)
	}
}
