package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/auth"
	"github.com/marksmith/marksmith/storage"
)

// FuzzTemplateUploadHTTP posts arbitrary bodies, as YAML or as JSON, to
// POST /api/v1/templates on a whole server (one per fuzzing process, on
// SQLite): each must be answered 200, 201, 400, 413 or 422, never 5xx; a
// refusal in the one error shape with the status of its code; the log
// without a panic or an internal error; and the server must still answer
// afterwards. The seeds are the hostile templates of the bad-input corpus.
func FuzzTemplateUploadHTTP(f *testing.F) {
	good := corpusTemplate("fuzz/good", "Good")
	f.Add([]byte(good), false)
	f.Add([]byte(`{"id":"fuzz/json","title":"J","marks":1,"parts":[{"id":"a","marks":1,"prompt":"{{1+1}}","answer":{"type":"integer","value":"2"}}]}`), true)
	// The megabyte bodies of the corpus (100,000 keys, 200,000
	// placeholders) are left out: mutating them costs the fuzzer far more
	// than the size check that refuses them.
	for _, gen := range []string{"alias-bomb:params", "alias-bomb:canonical", "alias-bomb:key", "keys:1001", "placeholders:1001",
		"params:201", "parts:101", "nested:200"} {
		b, err := generate(gen)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
	}
	f.Add([]byte(strings.Repeat("[", 120_000)), true)
	f.Add([]byte(strings.Repeat("[", 120_000)), false)
	f.Add([]byte(strings.Repeat("{b: ", 30_000)), false)
	f.Add([]byte(strings.Repeat(`{"b": `, 20_000)), true)
	f.Add([]byte("id: fuzz/aliases\na: &a 1\nb: ["+strings.Repeat("*a, ", 101)+"]\n"), false)
	f.Add([]byte(strings.Replace(good, "title: Good", "title: \"A\\0B\"", 1)), false)
	f.Add([]byte(strings.Replace(good, "title: Good", "title: A\x00B", 1)), false)
	f.Add([]byte(strings.Replace(good, "title: Good", "title: \xff", 1)), false)
	f.Add([]byte("id: [\n"), false)
	f.Add([]byte("&a x: *a\n"), false)
	f.Add([]byte(`{"id": "fuzz/x", "title": `), true)
	f.Add([]byte("id: fuzz/big\ntitle: '"+strings.Repeat("a", 300<<10)+"'\n"), false) // over the 256 KiB limit

	s := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, body []byte, asJSON bool) {
		ct := "application/yaml"
		if asJSON {
			ct = "application/json"
		}
		_, offset := s.logs.since(0)
		req, err := http.NewRequest("POST", s.base+"/api/v1/templates", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Authorization", "Bearer "+s.token)
		resp, err := s.client.Do(req)
		if err != nil {
			t.Fatalf("upload: %v", err)
		}
		rb, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("upload: read the answer: %v", err)
		}
		switch resp.StatusCode {
		case http.StatusOK, http.StatusCreated:
			var tv struct {
				ID      string `json:"id"`
				Version int    `json:"version"`
			}
			if err := json.Unmarshal(rb, &tv); err != nil || tv.ID == "" || tv.Version < 1 {
				t.Fatalf("%d without a template version (%v): %s", resp.StatusCode, err, rb)
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
			if msg := errorShape(resp.StatusCode, rb); msg != "" {
				t.Fatalf("%d: %s: %s", resp.StatusCode, msg, truncate(rb, 600))
			}
		default:
			t.Fatalf("status %d: %s", resp.StatusCode, truncate(rb, 600))
		}
		h, err := s.client.Get(s.base + "/healthz")
		if err != nil {
			t.Fatalf("the server no longer answers: %v", err)
		}
		h.Body.Close()
		if h.StatusCode != http.StatusOK {
			t.Fatalf("/healthz answers %d", h.StatusCode)
		}
		logged, _ := s.logs.since(offset)
		for _, line := range strings.Split(logged, "\n") {
			if strings.Contains(strings.ToLower(line), "panic") || strings.Contains(line, "level=ERROR") {
				t.Fatalf("the log has: %s", line)
			}
		}
	})
}

// errorShape says what is wrong with an error answer: "" if it is the one
// error shape with the status of its code.
func errorShape(status int, body []byte) string {
	var e struct {
		Error struct {
			Code    string          `json:"code"`
			Message string          `json:"message"`
			Details json.RawMessage `json:"details"`
		} `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return fmt.Sprintf("not the error shape: %v", err)
	}
	if e.Error.Code == "" || e.Error.Message == "" {
		return "an error without a code or a message"
	}
	if codeOfStatus[status] != e.Error.Code {
		return fmt.Sprintf("code %q under status %d", e.Error.Code, status)
	}
	return ""
}

// fuzzServer is a whole server for a fuzzing process, and an instructor's
// token.
type fuzzServer struct {
	base   string
	token  string
	client *http.Client
	logs   *logBuffer
}

// newFuzzServer starts a server on a fresh SQLite file with an
// instructor, stopped when f ends.
func newFuzzServer(f *testing.F) *fuzzServer {
	f.Helper()
	dir, err := os.MkdirTemp("", "marksmith-fuzz-")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { os.RemoveAll(dir) })
	logs := &logBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx := context.Background()
	db, err := storage.Open(ctx, "sqlite:"+filepath.Join(dir, "fuzz.db"), logger)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		f.Fatal(err)
	}
	a, err := New(Config{
		JWTSecret:      corpusSecret,
		PasswordParams: &auth.Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32},
	}, Deps{DB: db, Logger: logger})
	if err != nil {
		f.Fatal(err)
	}
	na, err := a.Users.Create(ctx, marksmith.NewUser{Email: "fuzz@corpus.test", Name: "Fuzz", Role: marksmith.RoleInstructor, Password: corpusPassword})
	if err != nil {
		f.Fatal(err)
	}
	token, _, err := mustTokens(f).Issue(na.User.ID, na.User.Role)
	if err != nil {
		f.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(sctx, ln) }()
	f.Cleanup(func() {
		stop()
		select {
		case err := <-done:
			if err != nil {
				f.Errorf("run: %v", err)
			}
		case <-time.After(30 * time.Second):
			f.Error("the server did not stop")
		}
	})
	s := &fuzzServer{base: "http://" + ln.Addr().String(), token: token, client: &http.Client{Timeout: time.Minute}, logs: logs}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := s.client.Get(s.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			f.Fatalf("the server does not answer /healthz: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// mustTokens signs access tokens as the corpus servers verify them.
func mustTokens(tb testing.TB) *auth.Tokens {
	tb.Helper()
	tk, err := auth.NewHS256(corpusSecret, auth.TokenConfig{Issuer: DefaultIssuer, Audience: DefaultAudience, TTL: 24 * time.Hour})
	if err != nil {
		tb.Fatal(err)
	}
	return tk
}
