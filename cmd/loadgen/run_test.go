package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/app"
	"github.com/marksmith/marksmith/auth"
	"github.com/marksmith/marksmith/bank"
	"github.com/marksmith/marksmith/storage"
)

// TestRunAgainstServer runs the whole load generator against a server on a
// loopback port over a fresh SQLite file with the built-in bank: it must
// prepare the exam, save without errors, and stop at its request budget.
func TestRunAgainstServer(t *testing.T) {
	ctx := t.Context()
	db, err := storage.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "load.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	users, templates, store := storage.NewUserStore(db), storage.NewTemplateStore(db), storage.NewExamStore(db)
	builtin, err := bank.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range builtin {
		if err := templates.CreateTemplateVersion(ctx, &marksmith.TemplateVersion{TemplateID: b.ID, Title: b.Title, Marks: b.Marks,
			Tags: b.Tags, Format: b.Format, Source: string(b.Source), Builtin: true, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	cheap := &auth.Params{Memory: 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}
	hash, err := auth.HashPasswordParams("admin password", cheap)
	if err != nil {
		t.Fatal(err)
	}
	// As a server's first admin: a one-time password, replaced at login.
	if err := users.CreateUser(ctx, &marksmith.User{Email: "admin@localhost", Name: "Admin", Role: marksmith.RoleAdmin, PasswordHash: hash,
		MustChangePassword: true}); err != nil {
		t.Fatal(err)
	}
	a, err := app.New(app.Config{JWTSecret: []byte("load-test-secret-load-test-secret-0123"), PasswordParams: cheap}, app.Deps{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(sctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})

	var out, errOut bytes.Buffer
	env := func(k string) string {
		if k == "LOADGEN_ADMIN_PASSWORD" {
			return "admin password"
		}
		return ""
	}
	url := "http://" + ln.Addr().String()
	// Given the one-time password without a file to keep the new one in,
	// it stops before changing anything.
	err = run(ctx, []string{"-url", url, "-students", "1", "-requests", "1", "-prefix", "none"}, &out, &errOut, env)
	if err == nil || !strings.Contains(err.Error(), "one-time") {
		t.Fatalf("one-time password without a file: %v", err)
	}
	out.Reset()
	errOut.Reset()
	pwFile := filepath.Join(t.TempDir(), "admin.pw")
	if err := os.WriteFile(pwFile, []byte("admin password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ackedPath := filepath.Join(t.TempDir(), "acked.txt")
	args := []string{"-url", url, "-admin-password-file", pwFile, "-students", "3", "-duration", "30s", "-requests", "60", "-prefix", "t",
		"-acked", ackedPath, "-error-pause", "10ms"}
	if err := run(ctx, args, &out, &errOut, env); err != nil {
		t.Fatalf("run: %v\n%s%s", err, out.String(), errOut.String())
	}
	report := out.String()
	// The new password is in the file, and it is the admin's now.
	pw, err := os.ReadFile(pwFile)
	if err != nil {
		t.Fatal(err)
	}
	if next := strings.TrimSpace(string(pw)); next == "admin password" || len(next) != 32 || !strings.Contains(report, "replaced the admin's one-time password") {
		t.Fatalf("password file holds %q after the run; report:\n%s", next, report)
	} else if admin, err := users.FindUserByEmail(ctx, "admin@localhost"); err != nil || admin.MustChangePassword {
		t.Fatalf("admin %+v, %v: want no change pending", admin, err)
	} else if ok, err := auth.CheckPassword(next, admin.PasswordHash); !ok || err != nil {
		t.Fatalf("the new password does not sign the admin in: %v, %v", ok, err)
	}
	for _, want := range []string{"students      3 ", "saves         60 in", "stored        60 (not stored: 0)", "errors        0"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	m := regexp.MustCompile(`throughput    (\d+) saves/s`).FindStringSubmatch(report)
	if m == nil {
		t.Fatalf("no throughput in:\n%s", report)
	}
	if n, _ := strconv.Atoi(m[1]); n <= 0 {
		t.Errorf("throughput %d", n)
	}
	// The saves are on the server: each student's attempt holds answers.
	list, _, err := store.FindExams(ctx, marksmith.ExamFilter{})
	if err != nil || len(list) != 1 {
		t.Fatalf("exams: %v %v", list, err)
	}
	attempts, err := store.FindAttempts(ctx, list[0].ID)
	if err != nil || len(attempts) != 3 {
		t.Fatalf("attempts: %v %v", attempts, err)
	}
	// The acknowledged saves are the 60 stored, and each part's latest
	// acknowledged seq is the one stored.
	b, err := os.ReadFile(ackedPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 60 {
		t.Fatalf("%d acknowledged saves in the file, want 60", len(lines))
	}
	latest := map[string]int64{}
	for _, l := range lines {
		var attempt, seq int64
		var question int
		var part string
		if _, err := fmt.Sscanf(l, "%d %d %s %d", &attempt, &question, &part, &seq); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		k := fmt.Sprintf("%d/%d/%s", attempt, question, part)
		latest[k] = max(latest[k], seq)
	}
	stored := map[string]int64{}
	for _, a := range attempts {
		answers, err := store.FindAnswers(ctx, a.ID)
		if err != nil || len(answers) == 0 {
			t.Errorf("attempt %d: %d answers, %v", a.ID, len(answers), err)
		}
		for _, ans := range answers {
			stored[fmt.Sprintf("%d/%d/%s", a.ID, ans.Position, ans.Part)] = ans.Seq
		}
	}
	if !reflect.DeepEqual(latest, stored) {
		t.Errorf("latest acknowledged seq by part = %v, stored = %v", latest, stored)
	}
}
