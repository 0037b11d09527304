// Package pgtest gives tests a PostgreSQL schema of their own. Without a
// reachable server a test skips, or fails when CI=true, as the project's
// tests must.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// DefaultURL is the server tests use unless MARKSMITH_TEST_POSTGRES names
// another.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// URL returns the server's URL: MARKSMITH_TEST_POSTGRES, or DefaultURL.
func URL() string {
	if u := os.Getenv("MARKSMITH_TEST_POSTGRES"); u != "" {
		return u
	}
	return DefaultURL
}

// Schema creates a schema for the test, named prefix and random letters,
// drops it when the test ends, and returns a URL whose search_path selects
// it, so that tests and packages running at once never meet.
func Schema(t testing.TB, prefix string) string {
	t.Helper()
	base := URL()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	admin, err := sql.Open("pgx", base)
	if err == nil {
		err = admin.PingContext(ctx)
	}
	if err != nil {
		if admin != nil {
			admin.Close()
		}
		if os.Getenv("CI") == "true" {
			t.Fatalf("postgres not reachable at %s (required when CI=true): %v", redacted(base), err)
		}
		t.Skipf("postgres not reachable at %s: %v (set MARKSMITH_TEST_POSTGRES)", redacted(base), err)
	}
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	schema := prefix + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("MARKSMITH_TEST_POSTGRES %q: %v", base, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// redacted hides the password of a database URL.
func redacted(dsn string) string {
	if u, err := url.Parse(dsn); err == nil {
		return u.Redacted()
	}
	return dsn
}
