package storage

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/marksmith/marksmith"
)

func TestParseDSN(t *testing.T) {
	const pragmas = "_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_txlock=immediate&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	for _, tc := range []struct {
		dsn, dialect, target, err string
	}{
		{"", "sqlite", "file:marksmith.db?" + pragmas, ""},
		{"sqlite:/var/lib/m/data.sqlite", "sqlite", "file:/var/lib/m/data.sqlite?" + pragmas, ""},
		{"sqlite://rel/x", "sqlite", "file:rel/x?" + pragmas, ""},
		{"file:x.db?cache=shared", "sqlite", "file:x.db?cache=shared&" + pragmas, ""},
		{"./data/m.db", "sqlite", "file:./data/m.db?" + pragmas, ""},
		{"m.sqlite3", "sqlite", "file:m.sqlite3?" + pragmas, ""},
		{"sqlite::memory:", "sqlite", "file::memory:?_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_txlock=immediate", ""},
		{"postgres://u:p@db:5432/m?sslmode=disable", "postgres", "postgres://u:p@db:5432/m?sslmode=disable", ""},
		{"postgresql://db/m", "postgres", "postgresql://db/m", ""},
		{"sqlite:", "", "", "missing SQLite file path"},
		{"mysql://u:secret@db/m", "", "", "want postgres://"},
		{"/var/lib/data", "", "", "want postgres://"},
	} {
		dialect, target, err := parseDSN(tc.dsn)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseDSN(%q) error = %v, want one containing %q", tc.dsn, err, tc.err)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("parseDSN(%q) error shows the password: %v", tc.dsn, err)
			}
			continue
		}
		if err != nil || dialect != tc.dialect || target != tc.target {
			t.Errorf("parseDSN(%q) = %q, %q, %v; want %q, %q", tc.dsn, dialect, target, err, tc.dialect, tc.target)
		}
	}
}

func TestOpenSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	db, err := Open(t.Context(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.Dialect() != DialectSQLite {
		t.Fatalf("Dialect() = %q", db.Dialect())
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("database file mode = %v, %v; want 0600", info.Mode(), err)
	}
	for pragma, want := range map[string]string{"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": "5000"} {
		var got string
		if err := db.gorm.Raw("PRAGMA " + pragma).Scan(&got).Error; err != nil || got != want {
			t.Errorf("PRAGMA %s = %q, %v; want %q", pragma, got, err, want)
		}
	}
	if _, err := Open(t.Context(), filepath.Join(t.TempDir(), "no", "such", "dir.db"), nil); err == nil {
		t.Fatal("Open in a missing directory: no error")
	}
}

func TestTranslate(t *testing.T) {
	own := marksmith.Errorf(marksmith.EGONE, "closed")
	for _, tc := range []struct {
		err  error
		code string
	}{
		{nil, ""},
		{own, marksmith.EGONE},
		{errors.New("constraint failed: UNIQUE constraint failed: users.email (2067)"), marksmith.ECONFLICT},
		{errors.New("constraint failed: FOREIGN KEY constraint failed (787)"), marksmith.EINVALID},
		{pgError("23505"), marksmith.ECONFLICT},
		{pgError("23503"), marksmith.EINVALID},
		{pgError("40001"), marksmith.EINTERNAL},
		{errors.New("connection refused"), marksmith.EINTERNAL},
	} {
		got := translate(tc.err, "thing 1")
		if marksmith.ErrorCode(got) != tc.code {
			t.Errorf("translate(%v) = %v, want code %q", tc.err, got, tc.code)
		}
		if tc.code == marksmith.EINTERNAL && !errors.Is(got, tc.err) {
			t.Errorf("translate(%v) = %v does not wrap the cause", tc.err, got)
		}
	}
}

type pgError string

func (e pgError) Error() string    { return "pg error " + string(e) }
func (e pgError) SQLState() string { return string(e) }

// TestOpenSQLiteMemory checks that an in-memory database is one database
// however many queries run: it lives on a single connection.
func TestOpenSQLiteMemory(t *testing.T) {
	db, err := Open(t.Context(), "sqlite::memory:", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := db.SQLDB().Stats().MaxOpenConnections; got != 1 {
		t.Fatalf("in-memory database allows %d connections, want 1", got)
	}
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	users := NewUserStore(db)
	for i := range 3 {
		if err := users.CreateUser(t.Context(), &marksmith.User{Email: fmt.Sprintf("m%d@x.org", i), Role: marksmith.RoleStudent}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := users.CountUsers(t.Context()); err != nil || n != 3 {
		t.Fatalf("CountUsers = %d, %v; want 3", n, err)
	}
}

// TestQueryLogging checks that expected errors (a taken email, a missing
// row) are not logged but real failures are.
func TestQueryLogging(t *testing.T) {
	var logs strings.Builder
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "log.db"), logger)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	users := NewUserStore(db)
	for range 2 {
		users.CreateUser(t.Context(), &marksmith.User{Email: "dup@x.org", Role: marksmith.RoleStudent})
	}
	users.FindUserByID(t.Context(), 99)
	if logs.Len() != 0 {
		t.Fatalf("expected errors were logged:\n%s", logs.String())
	}
	if err := db.gorm.WithContext(t.Context()).Exec("SELECT * FROM no_such_table").Error; err == nil {
		t.Fatal("query of a missing table succeeded")
	}
	if !strings.Contains(logs.String(), "no_such_table") || !strings.Contains(logs.String(), "level=ERROR") {
		t.Fatalf("failed query not logged as an error:\n%s", logs.String())
	}
}
