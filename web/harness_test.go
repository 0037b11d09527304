package web

import (
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/marksmith/marksmith"
)

// The people of the tests.
var (
	admin      = &marksmith.User{ID: 1, Email: "admin@example.edu", Name: "Ada Admin", Role: marksmith.RoleAdmin}
	instructor = &marksmith.User{ID: 2, Email: "prof@example.edu", Name: "Prof Pat", Role: marksmith.RoleInstructor}
	ann        = &marksmith.User{ID: 3, Email: "ann@example.edu", Name: "Ann", Role: marksmith.RoleStudent, StudentKey: "3035000001"}
	ben        = &marksmith.User{ID: 4, Email: "ben@example.edu", Name: "Ben", Role: marksmith.RoleStudent, StudentKey: "3035000002"}
	otherProf  = &marksmith.User{ID: 6, Email: "ivy@example.edu", Name: "Ivy", Role: marksmith.RoleInstructor}
	newcomer   = &marksmith.User{ID: 7, Email: "new@example.edu", Name: "New", Role: marksmith.RoleStudent, MustChangePassword: true}
)

// harness is the pages on fake services, served by a Fiber app.
type harness struct {
	t     testing.TB
	web   *Web
	app   *fiber.App
	auth  *fakeAuth
	users *fakeUsers
	tmpl  *fakeTemplates
	exams *fakeExams
}

func newHarness(t testing.TB, cfg Config) *harness {
	t.Helper()
	paper := fullPaper(t, true)
	people := []*marksmith.User{admin, instructor, ann, ben, otherProf, newcomer}
	copies := make([]*marksmith.User, len(people))
	for i, u := range people {
		c := *u
		copies[i] = &c
	}
	h := &harness{t: t, auth: newFakeAuth(copies...), tmpl: &fakeTemplates{paper: paper}, exams: newFakeExams(paper)}
	h.users = &fakeUsers{auth: h.auth}
	if cfg.CSRFKey == nil {
		cfg.CSRFKey = []byte("a test key of thirty-two bytes..")
	}
	w, err := New(cfg, Deps{Auth: h.auth, Users: h.users, Templates: h.tmpl, Exams: h.exams, Now: func() time.Time { return testNow }, Logger: slog.New(slog.NewTextHandler(testLog{t}, nil)),
		GradebookCSV: func(w io.Writer, g *marksmith.Gradebook) error {
			cw := csv.NewWriter(w)
			cw.Write([]string{"email", "total"})
			for _, r := range g.Rows {
				total := ""
				if r.Total != nil {
					total = formatScore(*r.Total)
				}
				cw.Write([]string{r.Email, total})
			}
			cw.Flush()
			return cw.Error()
		}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.web, h.app = w, w.App()
	return h
}

// browser is one browser: its cookies, and the CSRF token its pages carry.
type browser struct {
	h       *harness
	cookies map[string]string
	token   string
}

// anon returns a browser that has opened the sign-in page.
func (h *harness) anon() *browser {
	b := &browser{h: h, cookies: map[string]string{}}
	res := b.do(http.MethodGet, "/login", nil, nil)
	if res.Code != http.StatusOK {
		h.t.Fatalf("GET /login: %d", res.Code)
	}
	b.token = csrfOf(h.t, res.Body.String())
	return b
}

// as returns a browser signed in as u.
func (h *harness) as(u *marksmith.User) *browser {
	b := h.anon()
	s := h.auth.login(h.auth.users[u.ID])
	b.cookies[cookieAccess], b.cookies[cookieRefresh] = s.AccessToken, s.RefreshToken
	return b
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`)

func csrfOf(t testing.TB, body string) string {
	t.Helper()
	m := csrfMeta.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token on the page")
	}
	return m[1]
}

// result is a response, read.
type result struct {
	Code   int
	Header http.Header
	Body   *strings.Builder
}

func (b *browser) do(method, path string, body io.Reader, header map[string]string) *result {
	b.h.t.Helper()
	req := httptest.NewRequest(method, path, body)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	var cs []string
	for k, v := range b.cookies {
		cs = append(cs, k+"="+v)
	}
	if len(cs) > 0 {
		req.Header.Set("Cookie", strings.Join(cs, "; "))
	}
	res, err := b.h.app.Test(req, -1)
	if err != nil {
		b.h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	out := &result{Code: res.StatusCode, Header: res.Header, Body: &strings.Builder{}}
	io.Copy(out.Body, res.Body)
	for _, c := range res.Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	return out
}

func (b *browser) get(path string) *result { return b.do(http.MethodGet, path, nil, nil) }

// post sends a form with the browser's CSRF token.
func (b *browser) post(path string, form url.Values) *result {
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form[csrfField]; !ok {
		form.Set(csrfField, b.token)
	}
	return b.do(http.MethodPost, path, strings.NewReader(form.Encode()), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
}

// putJSON sends JSON with the browser's CSRF header, as the exam page's
// script does.
func (b *browser) putJSON(path, body string) *result {
	return b.do(http.MethodPut, path, strings.NewReader(body), map[string]string{"Content-Type": "application/json", csrfHeader: b.token})
}

func (r *result) String() string { return fmt.Sprintf("%d %s", r.Code, clip(r.Body.String(), 400)) }

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// testLog sends the pages' log to the test's.
type testLog struct{ t testing.TB }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
