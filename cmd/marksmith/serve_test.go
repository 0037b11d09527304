package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marksmith/marksmith/bank"
	"github.com/marksmith/marksmith/storage"
)

// syncBuffer is a bytes.Buffer safe to write from the server while the
// test reads it.
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

// mapEnv returns an env reading from m.
func mapEnv(m map[string]string) env { return func(k string) string { return m[k] } }

var (
	servingLine  = regexp.MustCompile(`serving on (http://\S+)`)
	passwordLine = regexp.MustCompile(`(?m)^\s+password:\s+(\S+)$`)
)

// serveProcess is a running serve command.
type serveProcess struct {
	url            string
	stdout, stderr *syncBuffer
	stop           func() error // cancels the context and waits for run to return
}

// startServe runs `marksmith serve` with args and env until it prints
// where it serves, and returns it running.
func startServe(t *testing.T, environ map[string]string, args ...string) *serveProcess {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &serveProcess{stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), nil, s.stdout, s.stderr, mapEnv(environ))
	}()
	stopped := false
	s.stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(20 * time.Second):
			return fmt.Errorf("serve did not stop within 20s of cancel; stderr:\n%s", s.stderr)
		}
	}
	t.Cleanup(func() { s.stop() })
	deadline := time.After(20 * time.Second)
	for {
		if m := servingLine.FindStringSubmatch(s.stdout.String()); m != nil {
			s.url = m[1]
			return s
		}
		select {
		case err := <-done:
			stopped = true
			t.Fatalf("serve returned before serving: %v\nstdout:\n%s\nstderr:\n%s", err, s.stdout, s.stderr)
		case <-deadline:
			t.Fatalf("serve did not start within 20s\nstdout:\n%s\nstderr:\n%s", s.stdout, s.stderr)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// getJSON fetches url and decodes its JSON body.
func getJSON(t *testing.T, method, url, token, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil && !(errors.Is(err, io.EOF) && resp.StatusCode == http.StatusNoContent) {
		t.Fatalf("%s %s: status %d, body not JSON: %v", method, url, resp.StatusCode, err)
	}
	return resp.StatusCode, out
}

// TestServe starts the server twice on one fresh SQLite file: the first
// start migrates, stores the bank and prints a one-time admin password
// that logs in; the second prints no password and stores nothing new.
// Both stop cleanly when their context is cancelled.
func TestServe(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "m.db")
	environ := map[string]string{"MARKSMITH_DATABASE_URL": "sqlite:" + dbPath, "MARKSMITH_ADMIN_EMAIL": "Boss@Example.org"}

	first := startServe(t, environ)
	if code, body := getJSON(t, "GET", first.url+"/healthz", "", ""); code != 200 || body["status"] != "ok" {
		t.Fatalf("/healthz = %d %v", code, body)
	}
	if code, body := getJSON(t, "GET", first.url+"/readyz", "", ""); code != 200 || body["status"] != "ready" {
		t.Fatalf("/readyz = %d %v", code, body)
	}
	out := first.stdout.String()
	m := passwordLine.FindAllStringSubmatch(out, -1)
	if len(m) != 1 || !strings.Contains(out, "boss@example.org") || !strings.Contains(out, "shown only this once") {
		t.Fatalf("first start should print one admin password; stdout:\n%s", out)
	}
	password := m[0][1]
	if len(password) < 20 {
		t.Fatalf("admin password %q is shorter than 20 characters", password)
	}
	if strings.Contains(first.stderr.String(), password) {
		t.Fatalf("the admin password was logged:\n%s", first.stderr)
	}
	code, login := getJSON(t, "POST", first.url+"/api/v1/auth/login", "",
		fmt.Sprintf(`{"email":"boss@example.org","password":%q}`, password))
	token, _ := login["access_token"].(string)
	if code != 200 || token == "" || login["must_change_password"] != true {
		t.Fatalf("login with the printed password = %d %v; want a session that must change its password", code, login)
	}
	// The one-time password opens only the page that changes it.
	if code, body := getJSON(t, "GET", first.url+"/api/v1/templates", token, ""); code != 403 {
		t.Fatalf("templates with a one-time password = %d %v; want 403", code, body)
	}
	const chosen = "a password of my own"
	if code, body := getJSON(t, "PUT", first.url+"/api/v1/users/me/password", token,
		fmt.Sprintf(`{"current_password":%q,"new_password":%q}`, password, chosen)); code != 204 {
		t.Fatalf("change password = %d %v", code, body)
	}
	code, login = getJSON(t, "POST", first.url+"/api/v1/auth/login", "", fmt.Sprintf(`{"email":"boss@example.org","password":%q}`, chosen))
	token, _ = login["access_token"].(string)
	if code != 200 || login["must_change_password"] != nil {
		t.Fatalf("login with the new password = %d %v", code, login)
	}
	builtin, err := bank.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	code, list := getJSON(t, "GET", first.url+"/api/v1/templates", token, "")
	if total, _ := list["total"].(float64); code != 200 || int(total) != len(builtin) {
		t.Fatalf("templates = %d %v; want the %d built-in ones", code, list, len(builtin))
	}
	if err := first.stop(); err != nil {
		t.Fatalf("first serve: %v", err)
	}
	if !strings.Contains(first.stderr.String(), "msg=stopped") {
		t.Fatalf("no clean shutdown logged:\n%s", first.stderr)
	}

	second := startServe(t, environ)
	if code, body := getJSON(t, "GET", second.url+"/readyz", "", ""); code != 200 || body["status"] != "ready" {
		t.Fatalf("second /readyz = %d %v", code, body)
	}
	code, login = getJSON(t, "POST", second.url+"/api/v1/auth/login", "",
		fmt.Sprintf(`{"email":"boss@example.org","password":%q}`, chosen))
	if code != 200 {
		t.Fatalf("login after restart = %d %v (the JWT secret should persist)", code, login)
	}
	if err := second.stop(); err != nil {
		t.Fatalf("second serve: %v", err)
	}
	if out := second.stdout.String(); passwordLine.MatchString(out) || strings.Contains(out, "admin account") {
		t.Fatalf("second start printed a password:\n%s", out)
	}
	if strings.Contains(second.stderr.String(), "stored built-in template") {
		t.Fatalf("second start stored templates again:\n%s", second.stderr)
	}
	db, err := storage.Open(t.Context(), dbPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n, err := storage.NewUserStore(db).CountUsers(t.Context()); err != nil || n != 1 {
		t.Fatalf("users after two starts = %d, %v; want 1", n, err)
	}
	for _, tmpl := range builtin {
		vs, err := storage.NewTemplateStore(db).FindTemplateVersions(t.Context(), tmpl.ID)
		if err != nil || len(vs) != 1 || !vs[0].Builtin || vs[0].Source != string(tmpl.Source) {
			t.Fatalf("%s stored as %d versions (%v), want 1 built-in", tmpl.ID, len(vs), err)
		}
	}
}

// TestServeRefuses checks the configurations serve must refuse before it
// listens.
func TestServeRefuses(t *testing.T) {
	dir := t.TempDir()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for _, tc := range []struct {
		name    string
		environ map[string]string
		args    []string
		want    string
	}{
		{"stale schema without migrate", map[string]string{"MARKSMITH_DATABASE_URL": filepath.Join(dir, "a.db")},
			[]string{"--migrate=false"}, "run `marksmith migrate up`"},
		{"stale schema, env says no", map[string]string{"MARKSMITH_DATABASE_URL": filepath.Join(dir, "b.db"), "MARKSMITH_AUTO_MIGRATE": "false"},
			nil, "schema is at version 0"},
		{"short secret", map[string]string{"MARKSMITH_DATABASE_URL": filepath.Join(dir, "c.db"), "MARKSMITH_JWT_SECRET": "short"},
			nil, "JWT secret is 5 bytes"},
		{"bad duration", map[string]string{"MARKSMITH_ACCESS_TTL": "soon"}, nil, `MARKSMITH_ACCESS_TTL="soon"`},
		{"bad flag", nil, []string{"--body-limit", "-3"}, "body-limit"},
		{"unknown database", map[string]string{"MARKSMITH_DATABASE_URL": "mysql://x"}, nil, "want postgres://"},
		{"port in use", map[string]string{"MARKSMITH_DATABASE_URL": filepath.Join(dir, "e.db")},
			[]string{"--addr", taken.Addr().String()}, "address already in use"},
		{"stray argument", map[string]string{"MARKSMITH_DATABASE_URL": filepath.Join(dir, "d.db")}, []string{"now"}, "no arguments"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr syncBuffer
			err := run(t.Context(), append([]string{"serve", "--addr", "127.0.0.1:0"}, tc.args...), nil, &stdout, &stderr, mapEnv(tc.environ))
			if err == nil || !strings.Contains(err.Error()+stderr.String(), tc.want) {
				t.Fatalf("serve = %v (stderr %q); want an error mentioning %q", err, stderr.String(), tc.want)
			}
			if strings.Contains(stdout.String(), "serving on") || strings.Contains(stdout.String(), "password") {
				t.Fatalf("refused serve printed:\n%s", stdout.String())
			}
		})
	}
}
