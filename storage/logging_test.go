package storage

import (
	"log/slog"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/marksmith/marksmith"
)

// TestFailedQueriesLogNoValues makes queries fail on both databases with
// secrets among their values (a password hash, an answer's text) and
// checks that the log names each failure by operation, table and code but
// shows no value, and no SQL.
func TestFailedQueriesLogNoValues(t *testing.T) {
	const hash = "$argon2id$v=19$m=65536,t=3,p=2$c2VjcmV0LXNhbHQ$SECRETHASHVALUE"
	const answer = "SECRET-ANSWER-TEXT"
	for _, dialect := range []string{DialectSQLite, DialectPostgres} {
		t.Run(dialect, func(t *testing.T) {
			var logs syncBuffer
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			var dsn string
			if dialect == DialectSQLite {
				dsn = "sqlite:" + filepath.Join(t.TempDir(), "log.db")
			} else {
				dsn = testPostgresSchema(t)
			}
			db, err := Open(t.Context(), dsn, logger)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Migrate(t.Context()); err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			users, templates := NewUserStore(db), NewTemplateStore(db)
			u := &marksmith.User{Email: "a@x.org", Role: marksmith.RoleStudent, PasswordHash: hash}
			if err := users.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			// The same code on both databases where they agree; where
			// SQLite stores what Postgres refuses, the value's storage
			// is the edges' to refuse.
			pgOr := func(sqlite string) string {
				if dialect == DialectPostgres {
					return marksmith.EINVALID
				}
				return sqlite
			}
			tests := []struct {
				name string
				run  func() error
				code string
			}{
				{"a taken email, with a hash", func() error {
					return users.CreateUser(ctx, &marksmith.User{Email: "a@x.org", Role: marksmith.RoleStudent, PasswordHash: hash})
				}, marksmith.ECONFLICT},
				{"a NUL byte beside a hash", func() error {
					return users.CreateUser(ctx, &marksmith.User{Email: "b@x.org", Name: "B\x00", Role: marksmith.RoleStudent, PasswordHash: hash})
				}, pgOr("")},
				{"a NUL byte in a stored text", func() error {
					return templates.CreateTemplateVersion(ctx, &marksmith.TemplateVersion{TemplateID: "t/nul", Title: "T", Marks: 1, Format: "yaml",
						Source: answer + "\x00", CreatedAt: testClock})
				}, pgOr("")},
				{"a number out of range", func() error {
					return NewExamStore(db).CreateExam(ctx, &marksmith.Exam{Title: answer, OpensAt: testClock, ClosesAt: testClock.Add(time.Hour),
						TimeLimitSeconds: math.MaxInt32 + 1, CreatedBy: u.ID})
				}, pgOr("")},
				{"a missing table, with a hash", func() error {
					return translate(db.gorm.WithContext(ctx).Exec("INSERT INTO no_such_table (hash, answer) VALUES (?, ?)", hash, answer).Error, "insert")
				}, marksmith.EINTERNAL},
			}
			for _, tt := range tests {
				if got := marksmith.ErrorCode(tt.run()); got != tt.code {
					t.Errorf("%s: code %q, want %q", tt.name, got, tt.code)
				}
			}
			out := logs.String()
			for _, secret := range []string{"SECRETHASHVALUE", "c2VjcmV0", answer, "VALUES", "$1", "INSERT INTO"} {
				if strings.Contains(out, secret) {
					t.Errorf("the log shows %q:\n%s", secret, out)
				}
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], `level=ERROR msg="query failed"`) || !strings.Contains(lines[0], "op=INSERT table=no_such_table") ||
				!strings.Contains(lines[0], map[string]string{DialectSQLite: `code="SQLite 1"`, DialectPostgres: `code="SQLSTATE 42P01"`}[dialect]) {
				t.Errorf("log = %s, want one error naming the INSERT into no_such_table and its code", out)
			}
		})
	}
}

// syncBuffer is a strings.Builder safe for a logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
