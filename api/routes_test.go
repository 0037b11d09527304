package api

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gofiber/fiber/v2"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/bank"
)

// seedTemplate stores a testdata template as its next version, uploaded
// by owner (nil: nobody's).
func (h *harness) seedTemplate(file string, owner *marksmith.User) *marksmith.TemplateVersion {
	h.t.Helper()
	src, err := os.ReadFile("testdata/" + file)
	if err != nil {
		h.t.Fatal(err)
	}
	t, err := bank.Load(file, src)
	if err != nil {
		h.t.Fatalf("load %s: %v", file, err)
	}
	tv := &marksmith.TemplateVersion{TemplateID: t.ID, Title: t.Title, Marks: t.Marks, Tags: t.Tags,
		Format: t.Format, Source: string(src), CreatedAt: h.clock.Now()}
	if owner != nil {
		tv.CreatedBy = &owner.ID
	}
	if err := h.store.CreateTemplateVersion(context.Background(), tv); err != nil {
		h.t.Fatal(err)
	}
	return tv
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRouteRoles calls every route outside exams as each kind of caller
// and checks the status. Each call gets a fresh server, so that one call's
// effects (a user created, a template stored, a password changed) do not
// change another's answer. The exam routes are TestExamRouteRoles'.
func TestRouteRoles(t *testing.T) {
	type roleStatus struct{ anon, student, instructor, admin int }
	staffOnly := func(ok int) roleStatus { return roleStatus{401, 403, ok, ok} }
	adminOnly := func(ok int) roleStatus { return roleStatus{401, 403, 403, ok} }
	signedIn := func(ok int) roleStatus { return roleStatus{401, ok, ok, ok} }
	anyone := func(ok int) roleStatus { return roleStatus{ok, ok, ok, ok} }
	target := func(h *harness) *marksmith.User {
		if u, err := h.store.FindUserByEmail(h.t.Context(), "target@example.edu"); err == nil {
			return u
		}
		return h.seedUser("target@example.edu", marksmith.RoleStudent, testPassword)
	}
	tests := []struct {
		method, path string
		// req returns the body and headers, and the path when the row's
		// has a placeholder; method and token are set from the row.
		req  func(h *harness) request
		want roleStatus
	}{
		{"GET", "/healthz", nil, anyone(200)},
		{"GET", "/readyz", nil, anyone(200)},
		{"GET", "/metrics", nil, anyone(200)},
		{"GET", "/openapi.json", nil, anyone(200)},
		{"POST", "/api/v1/auth/login", func(h *harness) request {
			return request{body: jsonBody(h.t, marksmith.LoginInput{Email: "student@example.edu", Password: testPassword})}
		}, anyone(200)},
		{"POST", "/api/v1/auth/refresh", func(h *harness) request {
			return request{body: jsonBody(h.t, refreshRequest{RefreshToken: h.login("student@example.edu", testPassword).RefreshToken})}
		}, anyone(200)},
		{"POST", "/api/v1/auth/logout", func(h *harness) request {
			return request{body: jsonBody(h.t, refreshRequest{RefreshToken: h.login("student@example.edu", testPassword).RefreshToken})}
		}, anyone(204)},
		{"POST", "/api/v1/auth/logout-all", nil, signedIn(204)},
		{"GET", "/api/v1/users/me", nil, signedIn(200)},
		{"PUT", "/api/v1/users/me/password", func(h *harness) request {
			return request{body: []byte(`{"current_password":"` + testPassword + `","new_password":"a brand new passphrase"}`)}
		}, signedIn(204)},
		{"GET", "/api/v1/users", nil, staffOnly(200)},
		{"GET", "/api/v1/users?role=student&q=stud&limit=10", nil, staffOnly(200)},
		{"POST", "/api/v1/users", func(h *harness) request {
			return request{body: []byte(`{"email":"new@example.edu","name":"New Student"}`)}
		}, staffOnly(201)},
		{"POST", "/api/v1/users", func(h *harness) request {
			return request{body: []byte(`{"email":"new@example.edu","name":"New Instructor","role":"instructor"}`)}
		}, roleStatus{401, 403, 403, 201}},
		{"POST", "/api/v1/users/import", func(h *harness) request {
			return request{contentType: "text/csv", body: []byte("email,name\nnew@example.edu,New Student\n")}
		}, staffOnly(200)},
		{"PATCH", "/api/v1/users/{id}", func(h *harness) request {
			return request{path: fmt.Sprintf("/api/v1/users/%d", target(h).ID), body: []byte(`{"disabled":true}`)}
		}, adminOnly(200)},
		{"PATCH", "/api/v1/users/{id}", func(h *harness) request {
			return request{path: "/api/v1/users/999", body: []byte(`{"disabled":true}`)}
		}, adminOnly(404)},
		{"POST", "/api/v1/users/{id}/password-reset", func(h *harness) request {
			return request{path: fmt.Sprintf("/api/v1/users/%d/password-reset", target(h).ID)}
		}, adminOnly(200)},
		{"POST", "/api/v1/users/{id}/password-reset", func(h *harness) request {
			return request{path: "/api/v1/users/999/password-reset"}
		}, adminOnly(404)},
		{"GET", "/api/v1/templates", nil, staffOnly(200)},
		{"POST", "/api/v1/templates", func(h *harness) request {
			return request{contentType: "application/yaml", body: []byte(strings.Replace(string(readTestdata(h.t, "area.yaml")), "id: test/area", "id: test/upload", 1))}
		}, staffOnly(201)},
		{"GET", "/api/v1/templates/test%2Farea", nil, staffOnly(200)},
		{"GET", "/api/v1/templates/test%2Farea/preview?seed=3", nil, staffOnly(200)},
		{"GET", "/api/v1/templates/test%2Farea/export/moodle?count=3", nil, staffOnly(200)},
		{"GET", "/api/v1/templates/test%2Fnone", nil, staffOnly(404)},
	}
	// Refusals, and calls that change nothing another call depends on, go
	// to one server; each allowed call that changes something gets a
	// fresh one.
	newServer := func(t *testing.T) *harness {
		h := newHarness(t)
		h.seedTemplate("area.yaml", h.instructor)
		return h
	}
	shared := newServer(t)
	count := func() (users, templates int) {
		_, users, _ = shared.store.FindUsers(t.Context(), marksmith.UserFilter{})
		_, templates, _ = shared.store.FindTemplates(t.Context(), marksmith.TemplateFilter{})
		return users, templates
	}
	target(shared)
	usersBefore, templatesBefore := count()
	for _, tt := range tests {
		mutates := tt.method != "GET"
		switch tt.method + " " + tt.path {
		case "POST /api/v1/auth/login", "POST /api/v1/auth/refresh", "POST /api/v1/auth/logout":
			mutates = false // a session of one's own
		}
		for _, role := range []string{"anonymous", "student", "instructor", "admin"} {
			t.Run(tt.method+" "+tt.path+" as "+role, func(t *testing.T) {
				want := map[string]int{"anonymous": tt.want.anon, "student": tt.want.student, "instructor": tt.want.instructor, "admin": tt.want.admin}[role]
				h := shared
				if mutates && want < 300 {
					h = newServer(t)
				}
				h.t = t
				defer func() { h.t = t }()
				var r request
				if tt.req != nil {
					r = tt.req(h)
				}
				r.method = tt.method
				if r.path == "" {
					r.path = tt.path
				}
				switch role {
				case "student":
					r.token = h.tokenFor(h.student)
				case "instructor":
					r.token = h.tokenFor(h.instructor)
				case "admin":
					r.token = h.tokenFor(h.admin)
				}
				if got := h.do(r); got.status != want {
					t.Errorf("status %d, want %d: %s", got.status, want, got.body)
				}
			})
		}
	}
	shared.t = t
	if u, tm := count(); u != usersBefore || tm != templatesBefore {
		t.Errorf("refused calls changed the server: %d users and %d templates, then %d and %d", usersBefore, templatesBefore, u, tm)
	}
	if u, err := shared.store.FindUserByEmail(t.Context(), "target@example.edu"); err != nil || u.Disabled || u.MustChangePassword {
		t.Errorf("refused calls changed the target account: %+v %v", u, err)
	}
	shared.login("student@example.edu", testPassword) // no refused password change took
}

// pendingRoutes are the routes an account may call while it must still
// change its one-time password.
var pendingRoutes = map[string]bool{
	"GET /api/v1/users/me":          true,
	"PUT /api/v1/users/me/password": true,
	"POST /api/v1/auth/logout-all":  true,
}

// TestEveryRouteHasAccess checks that the app serves exactly the routes of
// routes.go, that each is public or names the roles it needs, and that the
// OpenAPI document describes each (and nothing else).
func TestEveryRouteHasAccess(t *testing.T) {
	h := newHarness(t)
	table := map[string]route{}
	for _, r := range h.srv.routes() {
		key := r.method + " " + r.path
		if _, dup := table[key]; dup {
			t.Errorf("route %s listed twice", key)
		}
		table[key] = r
		if r.access.public == (len(r.access.roles) > 0) {
			t.Errorf("route %s must be either public or require roles, has %+v", key, r.access)
		}
		if r.access.pending != pendingRoutes[key] {
			t.Errorf("route %s: allowed while a one-time password is pending = %v, want %v", key, r.access.pending, pendingRoutes[key])
		}
		if r.access.claims && (key != "PUT /api/v1/attempts/:id/answers/:question/:part" || len(r.access.roles) != 1) {
			t.Errorf("route %s takes the token's claims without loading the account; only the autosave may", key)
		}
		for _, role := range r.access.roles {
			if !role.Valid() {
				t.Errorf("route %s requires unknown role %q", key, role)
			}
		}
	}
	served := map[string]bool{}
	for _, fr := range h.app.GetRoutes(true) {
		if fr.Method == "HEAD" {
			continue // Fiber serves HEAD for every GET
		}
		key := fr.Method + " " + fr.Path
		served[key] = true
		if _, ok := table[key]; !ok {
			t.Errorf("app serves %s, which routes.go does not list", key)
			continue
		}
		// One handler: the route's, wrapped with its access rules.
		if len(fr.Handlers) != 1 {
			t.Errorf("route %s has %d handlers, want 1", key, len(fr.Handlers))
		}
	}
	for key := range table {
		if !served[key] {
			t.Errorf("routes.go lists %s, which the app does not serve", key)
		}
	}

	doc, err := openapi3.NewLoader().LoadFromData(openAPIDocument)
	if err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`:(\w+)`)
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			key := method + " " + path
			documented[key] = true
			fiberKey := method + " " + regexp.MustCompile(`\{(\w+)\}`).ReplaceAllString(path, ":$1")
			r, ok := table[fiberKey]
			if !ok {
				t.Errorf("openapi.json documents %s, which routes.go does not list", key)
				continue
			}
			secured := op.Security == nil || len(*op.Security) > 0
			if secured == r.access.public {
				t.Errorf("%s: openapi.json says secured=%v, routes.go public=%v", key, secured, r.access.public)
			}
			always := []string{"413", "500"}
			if path != "/healthz" && path != "/metrics" && path != "/openapi.json" {
				always = append(always, "503") // the database is unreachable
			}
			for _, status := range always {
				if op.Responses.Value(status) == nil {
					t.Errorf("%s: openapi.json lists no %s response", key, status)
				}
			}
			// Every path parameter is described, and no other.
			inPath := map[string]bool{}
			for _, m := range regexp.MustCompile(`\{(\w+)\}`).FindAllStringSubmatch(path, -1) {
				inPath[m[1]] = true
			}
			described := map[string]bool{}
			for _, ps := range []openapi3.Parameters{item.Parameters, op.Parameters} {
				for _, p := range ps {
					if p.Value != nil && p.Value.In == openapi3.ParameterInPath {
						described[p.Value.Name] = true
					}
				}
			}
			if !reflect.DeepEqual(inPath, described) {
				t.Errorf("%s: path parameters %v, described %v", key, inPath, described)
			}
			// A route that reads a JSON body can refuse it as malformed (400)
			// or invalid (422).
			if op.RequestBody != nil && op.RequestBody.Value.Content.Get("application/json") != nil {
				for _, status := range []string{"400", "422"} {
					if op.Responses.Value(status) == nil {
						t.Errorf("%s: takes a JSON body but lists no %s response", key, status)
					}
				}
			}
			if !r.access.public {
				for _, status := range []string{"401", "403"} {
					if op.Responses.Value(status) == nil {
						t.Errorf("%s: protected route lists no %s response", key, status)
					}
				}
			}
		}
	}
	for key := range table {
		method, path, _ := strings.Cut(key, " ")
		if !documented[method+" "+param.ReplaceAllString(path, "{$1}")] {
			t.Errorf("routes.go lists %s, which openapi.json does not document", key)
		}
	}
}

// TestAccessWrapper checks the access wrapper on its own: roles, the
// account loaded per request (a disabled one refused, one whose role
// changed sent to log in again), the routes allowed while a one-time
// password is pending, and claims-only routes.
func TestAccessWrapper(t *testing.T) {
	h := newHarness(t)
	pending := h.seedUser("pending@example.edu", marksmith.RoleStudent, testPassword)
	if _, err := h.store.UpdateUser(t.Context(), pending.ID, marksmith.UserUpdate{MustChangePassword: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	disabled := h.seedUser("disabled@example.edu", marksmith.RoleInstructor, testPassword)
	if _, err := h.store.UpdateUser(t.Context(), disabled.ID, marksmith.UserUpdate{Disabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	promoted := h.seedUser("promoted@example.edu", marksmith.RoleStudent, testPassword)
	promotedToken := h.tokenFor(promoted) // issued while a student
	if _, err := h.store.UpdateUser(t.Context(), promoted.ID, marksmith.UserUpdate{Role: ptr(marksmith.RoleInstructor)}); err != nil {
		t.Fatal(err)
	}
	admin, instructor, student := marksmith.RoleAdmin, marksmith.RoleInstructor, marksmith.RoleStudent
	tests := []struct {
		name   string
		access access
		token  string
		want   int
		actor  string // the email the handler must see, when it runs
	}{
		{"admin route, admin", requireRole(admin), h.tokenFor(h.admin), 200, "admin@example.edu"},
		{"admin route, instructor", requireRole(admin), h.tokenFor(h.instructor), 403, ""},
		{"staff route, instructor", requireRole(admin, instructor), h.tokenFor(h.instructor), 200, "instructor@example.edu"},
		{"student route, student", requireRole(student), h.tokenFor(h.student), 200, "student@example.edu"},
		{"student route, no token", requireRole(student), "", 401, ""},
		{"public route, no token", public(), "", 200, ""},
		{"disabled account", requireRole(instructor), h.tokenFor(disabled), 403, ""},
		{"role changed since the token", requireRole(student, instructor), promotedToken, 401, ""},
		{"one-time password pending", requireRole(student), h.tokenFor(pending), 403, ""},
		{"one-time password pending, allowed route", requireRole(student).whilePending(), h.tokenFor(pending), 200, "pending@example.edu"},
		{"claims only: no account loaded", requireRole(student).claimsOnly(), h.tokenFor(h.student), 200, ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seen *marksmith.User
			app := h.srv.newApp()
			path := fmt.Sprintf("/probe/%d", i)
			app.Get(path, h.srv.handler(route{method: "GET", path: path, access: tt.access, handler: func(c *fiber.Ctx, actor *marksmith.User) error {
				seen = actor
				return c.SendStatus(200)
			}}))
			req := request{method: "GET", path: path, token: tt.token}
			resp, err := app.Test(req.httpRequest(), -1)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
			switch {
			case tt.want != 200:
			case tt.access.public && seen != nil:
				t.Errorf("a public route got an actor: %+v", seen)
			case tt.access.claims && (seen == nil || seen.ID != h.student.ID || seen.Role != student || seen.Email != ""):
				t.Errorf("claims-only route got %+v, want the token's id and role only", seen)
			case tt.actor != "" && (seen == nil || seen.Email != tt.actor):
				t.Errorf("handler saw %+v, want %s", seen, tt.actor)
			}
		})
	}
}
