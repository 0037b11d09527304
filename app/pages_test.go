package app

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/auth"
	"github.com/marksmith/marksmith/internal/pgtest"
	"github.com/marksmith/marksmith/storage"
)

var csrfInput = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// running is a whole server on a loopback port.
type running struct {
	app *App
	url string
}

// start runs a server on db until the test ends.
func start(t *testing.T, db *storage.DB, secret string, reg *prometheus.Registry) running {
	t.Helper()
	a, err := New(Config{JWTSecret: []byte(secret), PasswordParams: &auth.Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}}, Deps{DB: db, Metrics: reg})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	return running{app: a, url: "http://" + ln.Addr().String()}
}

// openDB opens and migrates a database of the dialect for the test.
func openDB(t *testing.T, dialect string) *storage.DB {
	t.Helper()
	dsn := filepath.Join(t.TempDir(), "pages.db")
	if dialect == storage.DialectPostgres {
		dsn = pgtest.Schema(t, "marksmith_app_")
	}
	db, err := storage.Open(t.Context(), dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestPagesBesideTheAPI serves the pages and the API from one server, on
// each database: a student signs in through the form on one instance and
// keeps working on another that shares the signing key (the CSRF key is
// derived from it); an unknown page is an HTML 404, an unknown API path
// the JSON error; page routes get metric labels of their own.
func TestPagesBesideTheAPI(t *testing.T) {
	for _, dialect := range []string{storage.DialectSQLite, storage.DialectPostgres} {
		t.Run(dialect, func(t *testing.T) {
			db := openDB(t, dialect)
			const secret = "0123456789abcdef0123456789abcdef"
			reg := prometheus.NewRegistry()
			one := start(t, db, secret, reg)
			two := start(t, db, secret, nil)
			if _, err := one.app.Users.Create(t.Context(), marksmith.NewUser{Email: "sam@example.edu", Name: "Sam", Password: "correct horse battery"}); err != nil {
				t.Fatal(err)
			}
			jar, _ := cookiejar.New(nil)
			client := &http.Client{Jar: jar, Timeout: 20 * time.Second}
			get := func(u string) (int, http.Header, string) {
				t.Helper()
				resp, err := client.Get(u)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, resp.Header, string(b)
			}

			status, _, body := get(one.url + "/login")
			m := csrfInput.FindStringSubmatch(body)
			if status != 200 || m == nil {
				t.Fatalf("login page: %d, CSRF field %v", status, m)
			}
			// The form goes to the other instance: same cookies (same host),
			// a token signed with the key both derive.
			resp, err := client.PostForm(two.url+"/login", url.Values{"_csrf": {m[1]}, "email": {"sam@example.edu"}, "password": {"correct horse battery"}})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(b), "Sign out") {
				t.Fatalf("sign in on the second instance: %d %.300s", resp.StatusCode, b)
			}
			status, _, body = get(one.url + "/exams")
			if status != 200 || !strings.Contains(body, "<h1>") || !strings.Contains(body, "Sam") {
				t.Errorf("the student's exams on the first instance: %d %.300s", status, body)
			}

			status, h, body := get(one.url + "/no/such/page")
			if status != 404 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") || !strings.Contains(body, "<!doctype html>") {
				t.Errorf("unknown page: %d %s %.200s", status, h.Get("Content-Type"), body)
			}
			// No page handler ran, yet the 404 page has the pages' headers.
			if !strings.Contains(h.Get("Content-Security-Policy"), "script-src 'self'") || h.Get("X-Content-Type-Options") != "nosniff" ||
				h.Get("Referrer-Policy") != "same-origin" || h.Get("X-Frame-Options") != "DENY" {
				t.Errorf("unknown page: headers %v", h)
			}
			status, h, body = get(one.url + "/api/v1/no/such/route")
			if status != 404 || h.Get("Content-Type") != "application/json" || !strings.Contains(body, `"code":"not_found"`) {
				t.Errorf("unknown API path: %d %s %s", status, h.Get("Content-Type"), body)
			}
			if h.Get("Content-Security-Policy") != "default-src 'none'; frame-ancestors 'none'" || h.Get("X-Content-Type-Options") != "nosniff" ||
				h.Get("Referrer-Policy") != "no-referrer" || h.Get("X-Frame-Options") != "DENY" {
				t.Errorf("unknown API path: headers %v", h)
			}
			if h.Get(fiberRequestID) == "" {
				t.Error("no request id on an API 404")
			}

			_, _, metrics := get(one.url + "/metrics")
			for _, label := range []string{`route="/login"`, `route="/exams"`, `route="unmatched"`} {
				if !strings.Contains(metrics, label) {
					t.Errorf("metrics have no %s", label)
				}
			}
		})
	}
}

// fiberRequestID is the API's request id header.
const fiberRequestID = "X-Request-ID"
