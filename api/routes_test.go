package api

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gofiber/fiber/v2"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/bank"
)

// seedTemplate stores a testdata template as its next version.
func (h *harness) seedTemplate(file string) *marksmith.TemplateVersion {
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
	if err := h.templates.CreateTemplateVersion(context.Background(), tv); err != nil {
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

// TestRouteRoles calls every route as each kind of caller and checks the
// status. Each call gets a fresh app, so that one call's effects (a user
// created, a template stored) do not change another's answer.
func TestRouteRoles(t *testing.T) {
	type roleStatus struct{ anon, student, instructor, admin int }
	staffOnly := func(ok int) roleStatus { return roleStatus{401, 403, ok, ok} }
	anyone := func(ok int) roleStatus { return roleStatus{ok, ok, ok, ok} }
	tests := []struct {
		method, path string
		req          func(h *harness) request // the body and headers; method, path and token are set from the row
		want         roleStatus
	}{
		{"GET", "/healthz", nil, anyone(200)},
		{"GET", "/readyz", nil, anyone(200)},
		{"GET", "/metrics", nil, anyone(200)},
		{"GET", "/openapi.json", nil, anyone(200)},
		{"POST", "/api/v1/auth/login", func(h *harness) request {
			return request{body: jsonBody(h.t, loginRequest{Email: "student@example.edu", Password: testPassword})}
		}, anyone(200)},
		{"POST", "/api/v1/auth/refresh", func(h *harness) request {
			return request{body: jsonBody(h.t, refreshRequest{RefreshToken: h.login("student@example.edu", testPassword).RefreshToken})}
		}, anyone(200)},
		{"POST", "/api/v1/auth/logout", func(h *harness) request {
			return request{body: jsonBody(h.t, refreshRequest{RefreshToken: h.login("student@example.edu", testPassword).RefreshToken})}
		}, anyone(204)},
		{"GET", "/api/v1/users/me", nil, roleStatus{401, 200, 200, 200}},
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
		{"GET", "/api/v1/templates", nil, staffOnly(200)},
		{"POST", "/api/v1/templates", func(h *harness) request {
			return request{contentType: "application/yaml", body: readTestdata(h.t, "area.yaml")}
		}, staffOnly(201)},
		{"GET", "/api/v1/templates/test%2Farea", nil, staffOnly(200)},
		{"GET", "/api/v1/templates/test%2Farea/preview?seed=3", nil, staffOnly(200)},
		{"GET", "/api/v1/templates/test%2Fnone", nil, staffOnly(404)},
	}
	for _, tt := range tests {
		for _, role := range []string{"anonymous", "student", "instructor", "admin"} {
			t.Run(tt.method+" "+tt.path+" as "+role, func(t *testing.T) {
				h := newHarness(t)
				if strings.Contains(tt.path, "/templates/test%2Farea") {
					h.seedTemplate("area.yaml")
				}
				var r request
				if tt.req != nil {
					r = tt.req(h)
				}
				r.method, r.path = tt.method, tt.path
				want := tt.want.anon
				switch role {
				case "student":
					r.token, want = h.tokenFor(h.student), tt.want.student
				case "instructor":
					r.token, want = h.tokenFor(h.instructor), tt.want.instructor
				case "admin":
					r.token, want = h.tokenFor(h.admin), tt.want.admin
				}
				if got := h.do(r); got.status != want {
					t.Errorf("status %d, want %d: %s", got.status, want, got.body)
				}
			})
		}
	}
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
		r, ok := table[key]
		if !ok {
			t.Errorf("app serves %s, which routes.go does not list", key)
			continue
		}
		// Protected routes run authenticate and authorize before the handler.
		wantHandlers := 1
		if !r.access.public {
			wantHandlers = 3
		}
		if len(fr.Handlers) != wantHandlers {
			t.Errorf("route %s has %d handlers, want %d", key, len(fr.Handlers), wantHandlers)
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
			for _, status := range []string{"500"} {
				if op.Responses.Value(status) == nil {
					t.Errorf("%s: openapi.json lists no %s response", key, status)
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

// TestAuthorizeRoles checks the role wrapper on its own.
func TestAuthorizeRoles(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		roles []marksmith.Role
		user  *marksmith.User
		want  int
	}{
		{[]marksmith.Role{marksmith.RoleAdmin}, h.admin, 200},
		{[]marksmith.Role{marksmith.RoleAdmin}, h.instructor, 403},
		{[]marksmith.Role{marksmith.RoleAdmin, marksmith.RoleInstructor}, h.instructor, 200},
		{[]marksmith.Role{marksmith.RoleStudent}, h.student, 200},
		{[]marksmith.Role{marksmith.RoleStudent}, nil, 401},
	}
	for i, tt := range tests {
		app := h.srv.app()
		app.Get("/probe", h.srv.authenticate, h.srv.authorize(tt.roles), func(c *fiber.Ctx) error { return c.SendStatus(200) })
		req := request{method: "GET", path: "/probe", token: h.tokenFor(tt.user)}
		resp, err := app.Test(req.httpRequest(), -1)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != tt.want {
			t.Errorf("case %d: roles %v user %v: status %d, want %d", i, tt.roles, tt.user, resp.StatusCode, tt.want)
		}
		resp.Body.Close()
	}
}
