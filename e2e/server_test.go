package e2e

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/app"
	"github.com/marksmith/marksmith/auth"
	"github.com/marksmith/marksmith/internal/pgtest"
	"github.com/marksmith/marksmith/storage"
)

// testPassword is the password of the accounts the tests create with one.
const testPassword = "correct horse battery staple"

// server is the whole server on a loopback port, on a PostgreSQL schema
// of its own, with the built-in bank seeded.
type server struct {
	app *app.App
	url string
}

// startServer runs the server until the test ends.
func startServer(t *testing.T) *server {
	t.Helper()
	dsn := pgtest.Schema(t, "marksmith_e2e_")
	ctx := t.Context()
	db, err := storage.Open(ctx, dsn, nil)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	a, err := app.New(app.Config{
		JWTSecret:      []byte("an e2e test secret of 32 bytes.."),
		PasswordParams: &auth.Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32},
	}, app.Deps{DB: db})
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
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx, ln) }()
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
	s := &server{app: a, url: "http://" + ln.Addr().String()}
	s.waitHealthy(t)
	return s
}

func (s *server) waitHealthy(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(s.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			err = errors.New(resp.Status)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server does not answer /healthz: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// user creates an account through the user service, as an admin would:
// with testPassword, or with a one-time password when oneTime is set (the
// password is returned).
func (s *server) user(t *testing.T, email, name string, role marksmith.Role, oneTime bool) (*marksmith.User, string) {
	t.Helper()
	in := marksmith.NewUser{Email: email, Name: name, Role: role, Password: testPassword}
	if oneTime {
		in.Password = ""
	}
	na, err := s.app.Users.Create(t.Context(), in)
	if err != nil {
		t.Fatalf("create %s: %v", email, err)
	}
	if oneTime {
		if na.Password == "" || !na.User.MustChangePassword {
			t.Fatalf("%s: no one-time password (%+v)", email, na)
		}
		return na.User, na.Password
	}
	return na.User, testPassword
}

// chromiumPath is the browser the tests drive: MARKSMITH_CHROMIUM when
// set, or the first Chromium found.
func chromiumPath(t *testing.T) string {
	t.Helper()
	candidates := []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"}
	if p := os.Getenv("MARKSMITH_CHROMIUM"); p != "" {
		candidates = []string{p}
	}
	for _, p := range candidates {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("no Chromium at %v (required when CI=true; set MARKSMITH_CHROMIUM)", candidates)
	}
	t.Skipf("no Chromium at %v: the browser tests need it (set MARKSMITH_CHROMIUM)", candidates)
	return ""
}
