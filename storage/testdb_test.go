package storage

import (
	"github.com/marksmith/marksmith/internal/pgtest"
	"path/filepath"
	"testing"
	"time"
)

// testClock is the fixed time test databases start at.
var testClock = time.Date(2026, 3, 4, 5, 6, 7, 890123000, time.UTC)

// testDB is one database a test runs against.
type testDB struct {
	name string // "sqlite" or "postgres"
	db   *DB
}

// forEachDB runs f as a subtest on a fresh, migrated SQLite file and, when
// Postgres is reachable, on a fresh Postgres schema. Each database's clock
// is fixed at testClock.
func forEachDB(t *testing.T, f func(t *testing.T, db *DB)) {
	t.Helper()
	for _, name := range []string{DialectSQLite, DialectPostgres} {
		t.Run(name, func(t *testing.T) {
			db := openTestDB(t, name)
			if err := db.Migrate(t.Context()); err != nil {
				t.Fatalf("migrate: %v", err)
			}
			f(t, db)
		})
	}
}

// openTestDB opens an empty, unmigrated database of the dialect that is
// closed (and on Postgres dropped) when the test ends. Without Postgres it
// skips the test, or fails it when CI=true.
func openTestDB(t *testing.T, dialect string) *DB {
	t.Helper()
	var dsn string
	switch dialect {
	case DialectSQLite:
		dsn = "sqlite:" + filepath.Join(t.TempDir(), "test.db")
	case DialectPostgres:
		dsn = testPostgresSchema(t)
	default:
		t.Fatalf("unknown dialect %q", dialect)
	}
	db, err := Open(t.Context(), dsn, nil)
	if err != nil {
		t.Fatalf("open %s: %v", dialect, err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	db.Now = func() time.Time { return testClock }
	return db
}

// testPostgresSchema creates a schema of its own for the test, dropped when
// it ends, and returns a DSN whose search_path selects it, so that tests
// and packages running in parallel do not meet.
func testPostgresSchema(t *testing.T) string {
	t.Helper()
	return pgtest.Schema(t, "marksmith_test_")
}
