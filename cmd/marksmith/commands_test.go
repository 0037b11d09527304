package main

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/marksmith/marksmith/auth"
	"github.com/marksmith/marksmith/internal/pgtest"
	"github.com/marksmith/marksmith/migrations"
	"github.com/marksmith/marksmith/storage"
)

// runWithEnv runs one marksmith command and returns its stdout and error.
func runWithEnv(t *testing.T, environ map[string]string, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr syncBuffer
	err := run(t.Context(), args, nil, &stdout, &stderr, mapEnv(environ))
	return stdout.String(), err
}

// cliStep is one command of a scripted session and what it must print.
type cliStep struct {
	args  []string
	want  []string // substrings of stdout, in order
	err   string   // substring of the error; "" for success
	check func(out string)
}

// TestMigrateAndUserCommands drives migrate and user on a SQLite file.
func TestMigrateAndUserCommands(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "cli.db")
	environ := map[string]string{"MARKSMITH_DATABASE_URL": dbPath}
	created := regexp.MustCompile(`shown only now[^:]*: (\S+)`)
	latest := latestMigration(t)
	of := fmt.Sprintf(" of %d", latest)
	var password string
	steps := []cliStep{
		{[]string{"migrate", "status"}, []string{"00001", "00001_init.sql", "pending", "schema at version 0" + of + " (stale: run marksmith migrate up)"}, "", nil},
		{[]string{"migrate", "up"}, []string{"applied 00001", fmt.Sprintf("applied %05d", latest), fmt.Sprintf("sqlite schema at version %d%s", latest, of)}, "", nil},
		{[]string{"migrate", "up"}, []string{"nothing to apply"}, "", nil},
		{[]string{"migrate", "status"}, []string{"00001_init.sql", "applied", "(current)"}, "", nil},
		{[]string{"user", "create", "--email", "Ada@Uni.edu", "--name", "Ada L", "--role", "instructor"},
			[]string{"Created instructor ada@uni.edu (id 1).", "One-time password, shown only now (it must be changed at first login): "}, "",
			func(out string) { password = created.FindStringSubmatch(out)[1] }},
		{[]string{"user", "create", "--email", "ada@uni.edu", "--role", "student"}, nil, `A user with email ada@uni.edu already exists`, nil},
		{[]string{"user", "create", "--email", "bob@uni.edu", "--role", "dean"}, nil, "--role admin|instructor|student", nil},
		{[]string{"user", "create", "--email", "bob@uni.edu", "--role", "student", "--student-key", "3035000001"},
			[]string{"Created student bob@uni.edu (id 2)."}, "", nil},
		{[]string{"user", "list"}, []string{"ID", "EMAIL", "ada@uni.edu", "Ada L", "instructor", "bob@uni.edu", "3035000001", "2 of 2 users"}, "", nil},
		{[]string{"user", "list", "--role", "student"}, []string{"bob@uni.edu", "1 of 1 users"}, "", nil},
		{[]string{"user", "password", "--email", "ADA@uni.edu"}, []string{"New one-time password for ada@uni.edu, shown only now", "signed out"}, "",
			func(out string) {
				old := password
				password = created.FindStringSubmatch(out)[1]
				if password == old {
					t.Fatal("password did not change")
				}
			}},
		{[]string{"user", "password", "--email", "nobody@uni.edu"}, nil, `No account has the email nobody@uni.edu`, nil},
		{[]string{"user", "frobnicate"}, nil, `unknown user command "frobnicate"`, nil},
		{[]string{"migrate", "sideways"}, nil, `unknown migrate command "sideways"`, nil},
	}
	// Versions need not be contiguous: a branch may number its migration
	// ahead of one still being written elsewhere.
	versions := migrationVersions(t)
	for i := len(versions) - 1; i >= 0; i-- {
		prev := 0
		if i > 0 {
			prev = versions[i-1]
		}
		steps = append(steps, cliStep{[]string{"migrate", "down"}, []string{fmt.Sprintf("rolled back %05d", versions[i]), fmt.Sprintf("schema at version %d%s", prev, of)}, "", nil})
	}
	steps = append(steps, cliStep{[]string{"migrate", "down"}, []string{"nothing to roll back"}, "", nil})
	for _, step := range steps {
		name := strings.Join(step.args, " ")
		out, err := runWithEnv(t, environ, step.args...)
		if step.err != "" {
			if err == nil || !strings.Contains(err.Error(), step.err) {
				t.Fatalf("%s: error %v, want one containing %q", name, err, step.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, out)
		}
		rest := out
		for _, w := range step.want {
			i := strings.Index(rest, w)
			if i < 0 {
				t.Fatalf("%s: output lacks %q (in order):\n%s", name, w, out)
			}
			rest = rest[i+len(w):]
		}
		if step.check != nil {
			step.check(out)
		}
		if name == "user password --email ADA@uni.edu" {
			// The printed password is the one stored.
			db, err := storage.Open(t.Context(), dbPath, nil)
			if err != nil {
				t.Fatal(err)
			}
			u, err := storage.NewUserStore(db).FindUserByEmail(t.Context(), "ada@uni.edu")
			db.Close()
			if err != nil {
				t.Fatal(err)
			}
			if ok, err := auth.CheckPassword(password, u.PasswordHash); !ok || err != nil {
				t.Fatalf("printed password does not match the stored hash (%v)", err)
			}
		}
	}
}

// latestMigration returns the number of the newest embedded migration.
func latestMigration(t *testing.T) int {
	t.Helper()
	v := migrationVersions(t)
	return v[len(v)-1]
}

// migrationVersions returns the numbers of the embedded migrations, oldest first.
func migrationVersions(t *testing.T) []int {
	t.Helper()
	fsys, err := migrations.FS("sqlite")
	if err != nil {
		t.Fatal(err)
	}
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("no migrations: %v", err)
	}
	var out []int
	for _, name := range names {
		n, err := strconv.Atoi(name[:5])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

// testPostgresURL creates a schema of its own for the test on the test
// Postgres, dropped when it ends, and returns a URL that selects it.
// Without Postgres it skips the test, or fails it when CI=true.
func testPostgresURL(t *testing.T) string {
	t.Helper()
	return pgtest.Schema(t, "marksmith_cmd_test_")
}

// TestServePostgres checks serve on Postgres: it needs a JWT secret,
// does not migrate by default, and with --migrate starts ready and
// creates the first admin.
func TestServePostgres(t *testing.T) {
	dsn := testPostgresURL(t)
	secret := "0123456789abcdef0123456789abcdef"

	_, err := runWithEnv(t, map[string]string{"MARKSMITH_DATABASE_URL": dsn, "MARKSMITH_JWT_SECRET": secret}, "serve", "--addr", "127.0.0.1:0")
	if err == nil || !strings.Contains(err.Error(), "run `marksmith migrate up`") {
		t.Fatalf("serve on an empty Postgres = %v; want a refusal to run on a stale schema", err)
	}
	_, err = runWithEnv(t, map[string]string{"MARKSMITH_DATABASE_URL": dsn}, "serve", "--addr", "127.0.0.1:0", "--migrate")
	if err == nil || !strings.Contains(err.Error(), "no JWT secret") {
		t.Fatalf("serve on Postgres without a secret = %v; want a refusal", err)
	}
	s := startServe(t, map[string]string{"MARKSMITH_DATABASE_URL": dsn, "MARKSMITH_JWT_SECRET": secret}, "--migrate")
	if code, body := getJSON(t, "GET", s.url+"/readyz", "", ""); code != 200 || body["status"] != "ready" {
		t.Fatalf("/readyz = %d %v", code, body)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	if !passwordLine.MatchString(s.stdout.String()) {
		t.Fatalf("no admin password printed on Postgres:\n%s", s.stdout)
	}
	out, err := runWithEnv(t, map[string]string{"MARKSMITH_DATABASE_URL": dsn}, "migrate", "status")
	if want := fmt.Sprintf("postgres schema at version %d of %d (current)", latestMigration(t), latestMigration(t)); err != nil || !strings.Contains(out, want) {
		t.Fatalf("migrate status = %v\n%s", err, out)
	}
}
