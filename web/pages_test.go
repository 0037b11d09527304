package web

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/marksmith/marksmith"
)

// TestTemplatesParse checks that New parses every template and that each
// page file defines its content.
func TestTemplatesParse(t *testing.T) {
	h := newHarness(t, Config{})
	want := []string{"error", "login", "password", "my-exams", "my-exam", "exam", "submit", "attempt", "bank", "template",
		"upload", "exams", "exam-form", "exam-admin", "monitor", "review", "gradebook", "stats", "audit", "users"}
	for _, name := range want {
		if h.web.pages.byName[name] == nil {
			t.Errorf("no page %q", name)
		}
	}
	if len(h.web.pages.byName) != len(want) {
		t.Errorf("%d pages parsed, want %d: a page without a test", len(h.web.pages.byName), len(want))
	}
	for _, name := range []string{"part-result", "monitor-table", "review-card", "review-error", "pager"} {
		if h.web.pages.partials.Lookup(name) == nil {
			t.Errorf("no partial %q", name)
		}
	}
}

// pageCase is one page as one reader sees it.
type pageCase struct {
	who    *marksmith.User
	path   string
	status int
	want   []string // in the body
}

// TestEveryPage renders every page for each role that may see it, with
// the fakes' data, and checks what it must show and what no page may have
// (inline script, inline style, event handler attributes).
func TestEveryPage(t *testing.T) {
	h := newHarness(t, Config{})
	cases := []pageCase{
		{nil, "/login", 200, []string{`action="/login"`, `name="_csrf"`, `autocomplete="current-password"`}},
		{ann, "/exams", 200, []string{"My exams", "Resume the exam", `href="/attempts/10"`, "Quiz 2", "Upcoming", "51.5", "Start the exam"}},
		{ann, "/exams/3", 200, []string{"Quiz 2", "not open yet"}},
		{ann, "/attempts/10", 200, []string{`id="exam"`, `data-remaining="5400"`, `data-save-url="/attempts/10/answers"`,
			"1 h 30 min", "How to answer:", `class="points-chart"`, `class="grid"`, `class="ans token"`, `type="radio"`,
			`type="checkbox"`, `class="ans essay"`, "None of the options", `data-answer="twelve"`, "“twelve” is not a number.",
			`<span class="math">`, "<table>", "This exam page needs JavaScript"}},
		{ann, "/password", 200, []string{"Change your password"}},
		{ben, "/attempts/11", 200, []string{"Score: ", "Half right.", "Reviewer:</strong> Names both limits.", "Key", "key-point"}},
		{instructor, "/attempts/10", 200, []string{"still open", "Key"}},
		{instructor, "/instructor/exams", 200, []string{"DASC7606 final", "Quiz 1 (draft)", `href="/instructor/exams/1/monitor"`}},
		{instructor, "/instructor/exams/new", 200, []string{"New exam", `name="q"`, "dasc7606/q5", `type="datetime-local"`}},
		{instructor, "/instructor/exams/1", 200, []string{"Exam-day controls", "End the exam now", "Release the results", "ann@example.edu", "15 min (SEN)"}},
		{instructor, "/instructor/exams/2", 200, []string{"Publish", "Delete the draft", "Set the roster"}},
		{instructor, "/instructor/exams/2/edit", 200, []string{"Edit the exam", `value="Quiz 1 (draft)"`, "checked"}},
		{instructor, "/instructor/exams/1/monitor", 200, []string{`hx-trigger="every 5s"`, "not started", "Reopen", "Close this attempt now"}},
		{instructor, "/instructor/exams/1/monitor/rows", 200, []string{`id="monitor"`, "ann@example.edu"}},
		{instructor, "/instructor/exams/1/review", 200, []string{"2 group(s), 3 answer(s)", "Accept every suggestion", `hx-post="/instructor/exams/1/review"`, `name="attempt_ids" value="10,11"`, `name="group" value="v1"`, "names both limits"}},
		{instructor, "/instructor/exams/1/gradebook", 200, []string{"Download CSV", `aria-sort="ascending"`, "ann@example.edu", "21", `tabindex="0" role="region" aria-labelledby="gradebook-h"`}},
		{instructor, "/instructor/exams/1/stats", 200, []string{`class="plot"`, "flagged", "n=13", "Discrimination"}},
		{instructor, "/instructor/exams/1/audit", 200, []string{"override", "Names both limits.", `tabindex="0" role="region" aria-labelledby="audit-h"`}},
		{instructor, "/instructor/bank", 200, []string{"dasc7606/q6", "Upload a template", `hx-get="/instructor/bank"`}},
		{instructor, "/instructor/bank?q=q6", 200, []string{"1 template(s)", "dasc7606/q6"}},
		{instructor, "/instructor/bank/template?id=dasc7606/q5", 200, []string{"canonical variant", "Key", "key-point", "Source", `<pre class="source" tabindex="0" aria-labelledby="source-h">`}},
		{instructor, "/instructor/bank/template?id=dasc7606/q1&seed=123", 200, []string{"variant 123"}},
		{instructor, "/instructor/bank/upload", 200, []string{`enctype="multipart/form-data"`}},
		{admin, "/admin/users", 200, []string{"Create a user", "ann@example.edu", "Reset password"}},
		{admin, "/instructor/exams/1", 200, []string{"DASC7606 final"}},
	}
	for _, tc := range cases {
		name := "anonymous"
		if tc.who != nil {
			name = tc.who.Email
		}
		t.Run(name+" "+tc.path, func(t *testing.T) {
			b := h.anon()
			if tc.who != nil {
				b = h.as(tc.who)
			}
			res := b.get(tc.path)
			if res.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", res.Code, tc.status, res)
			}
			body := res.Body.String()
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("the page lacks %q", w)
				}
			}
			checkPage(t, res)
		})
	}
}

var (
	inlineScript  = regexp.MustCompile(`(?i)<script\b[^>]*>`)
	eventHandler  = regexp.MustCompile(`(?i)\son[a-z]+\s*=`)
	styleAttr     = regexp.MustCompile(`(?i)\sstyle\s*=`)
	styleElement  = regexp.MustCompile(`(?i)<style\b`)
	javascriptURL = regexp.MustCompile(`(?i)(href|src|action)\s*=\s*"\s*javascript:`)
)

// checkPage checks what every page must have (the security headers) and
// must not have (anything the CSP would have to allow inline).
func checkPage(t *testing.T, res *result) {
	t.Helper()
	for k, want := range map[string]string{
		"Content-Security-Policy": contentSecurityPolicy,
		"X-Frame-Options":         "DENY",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "same-origin",
		"Cache-Control":           "no-store",
	} {
		if got := res.Header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	csp := res.Header.Get("Content-Security-Policy")
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q is not strict", csp)
	}
	body := res.Body.String()
	for _, m := range inlineScript.FindAllString(body, -1) {
		if !strings.Contains(m, ` src="/static/`) {
			t.Errorf("inline script: %s", m)
		}
	}
	for name, re := range map[string]*regexp.Regexp{"event handler": eventHandler, "style attribute": styleAttr, "style element": styleElement, "javascript: URL": javascriptURL} {
		if m := re.FindString(body); m != "" {
			t.Errorf("%s on the page: %q", name, m)
		}
	}
	if strings.Contains(body, "ZgotmplZ") {
		t.Errorf("the template escaper refused a value (ZgotmplZ)")
	}
}

// TestSignedOutGoesToLogin sends every page that needs a user to the
// sign-in page, which brings the reader back.
func TestSignedOutGoesToLogin(t *testing.T) {
	h := newHarness(t, Config{})
	for _, path := range []string{"/exams", "/attempts/10", "/instructor/exams", "/instructor/bank", "/instructor/exams/1/review", "/admin/users", "/password"} {
		res := h.anon().get(path)
		if res.Code != http.StatusSeeOther {
			t.Errorf("GET %s signed out: %d, want 303", path, res.Code)
			continue
		}
		if loc := res.Header.Get("Location"); loc != "/login?next="+strings.ReplaceAll(path, "/", "%2F") {
			t.Errorf("GET %s signed out: to %q", path, loc)
		}
	}
	if loc := h.anon().get("/").Header.Get("Location"); loc != "/login" {
		t.Errorf("GET / signed out: to %q, want /login", loc)
	}
	// A script's request gets 401 JSON, not a page.
	b := h.anon()
	res := b.putJSON("/attempts/10/answers/1/a", `{"answer":"1","seq":1}`)
	if res.Code != http.StatusUnauthorized || !strings.Contains(res.Body.String(), `"code":"unauthorized"`) {
		t.Errorf("autosave signed out: %s", res)
	}
}

// TestRoles refuses pages of another role with 403.
func TestRoles(t *testing.T) {
	h := newHarness(t, Config{})
	cases := []struct {
		who  *marksmith.User
		path string
		want int
	}{
		{ann, "/instructor/exams", 403},
		{ann, "/instructor/bank", 403},
		{ann, "/admin/users", 403},
		{instructor, "/exams", 403},
		{instructor, "/admin/users", 403},
		{admin, "/exams", 403},
		{otherProf, "/instructor/exams/1", 404}, // another instructor's exam: not found
		{otherProf, "/attempts/10", 404},
		{ann, "/", 303},
		{instructor, "/", 303},
	}
	for _, tc := range cases {
		if res := h.as(tc.who).get(tc.path); res.Code != tc.want {
			t.Errorf("%s GET %s: %d, want %d", tc.who.Email, tc.path, res.Code, tc.want)
		}
	}
	for who, want := range map[*marksmith.User]string{ann: "/exams", instructor: "/instructor/exams", admin: "/admin/users", newcomer: "/password"} {
		if loc := h.as(who).get("/").Header.Get("Location"); loc != want {
			t.Errorf("%s GET /: to %q, want %q", who.Email, loc, want)
		}
	}
}

// TestAnotherStudentsAttempt is a 404, for the page and for autosave, as
// for an attempt that does not exist.
func TestAnotherStudentsAttempt(t *testing.T) {
	h := newHarness(t, Config{})
	b := h.as(ben)
	if res := b.get("/attempts/10"); res.Code != http.StatusNotFound || !strings.Contains(res.Body.String(), "Not found") {
		t.Errorf("Ben GET Ann's attempt: %s", res)
	}
	if res := b.get("/attempts/999"); res.Code != http.StatusNotFound {
		t.Errorf("Ben GET no attempt: %d", res.Code)
	}
	res := b.putJSON("/attempts/10/answers/1/a", `{"answer":"1","seq":1}`)
	if res.Code != http.StatusNotFound || !strings.Contains(res.Body.String(), `"code":"not_found"`) {
		t.Errorf("Ben saves into Ann's attempt: %s", res)
	}
	if len(h.exams.saves) != 0 {
		t.Errorf("saves: %v", h.exams.saves)
	}
}

// TestFaultsAreNotShown answers a fault of ours (an error that is not the
// domain's, or a panic) with a generic page, never its details.
func TestFaultsAreNotShown(t *testing.T) {
	h := newHarness(t, Config{})
	b := h.as(instructor)
	for _, path := range []string{"/instructor/exams/2/stats", "/instructor/exams/2/audit"} {
		res := b.get(path)
		body := res.Body.String()
		if res.Code != http.StatusInternalServerError || !strings.Contains(body, "Something went wrong") || strings.Contains(body, "secret") || strings.Contains(body, "db.internal") {
			t.Errorf("GET %s: %s", path, res)
		}
		checkPage(t, res)
	}
}

// TestPathsAreServed lists the patterns Register adds, each once, and the
// app serves exactly those.
func TestPathsAreServed(t *testing.T) {
	h := newHarness(t, Config{})
	paths := h.web.Paths()
	served := map[string]bool{}
	for _, r := range h.app.GetRoutes(true) {
		served[r.Path] = true
	}
	if len(paths) != len(served) {
		t.Errorf("Paths lists %d patterns, the app serves %d", len(paths), len(served))
	}
	for _, p := range paths {
		if !served[p] {
			t.Errorf("%s is listed but not served", p)
		}
		if strings.HasPrefix(p, "/api/") || p == "/healthz" || p == "/openapi.json" || p == "/metrics" {
			t.Errorf("%s is the API's", p)
		}
	}
}

// TestWrongMethod answers a method a page does not take with a 405 page
// that says so, not a generic 400.
func TestWrongMethod(t *testing.T) {
	h := newHarness(t, Config{})
	res := h.anon().do(http.MethodDelete, "/login", nil, nil)
	if res.Code != http.StatusMethodNotAllowed || !strings.Contains(res.Body.String(), "does not take that kind of request") {
		t.Errorf("DELETE /login: %d %s", res.Code, res.Body)
	}
}
