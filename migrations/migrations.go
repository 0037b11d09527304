// Package migrations holds the versioned SQL that builds the database
// schema, one directory per dialect, embedded in the binary. Files are named
// NNNNN_what.sql and carry goose annotations (-- +goose Up / -- +goose Down).
// Both dialects must define the same versions and end at the same schema;
// storage's schema test checks this. Applying them is storage's job
// (storage.DB.Migrate); this package only serves the files.
package migrations

import (
	"embed"
	"fmt"
	"io/fs"
)

// files holds every migration of every dialect.
//
//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// Dialects lists the dialects there are migrations for.
func Dialects() []string { return []string{"postgres", "sqlite"} }

// FS returns the migrations of one dialect ("postgres" or "sqlite") as a
// flat file system of NNNNN_*.sql files.
func FS(dialect string) (fs.FS, error) {
	switch dialect {
	case "postgres", "sqlite":
		sub, err := fs.Sub(files, dialect)
		if err != nil {
			return nil, fmt.Errorf("migrations for %s: %w", dialect, err)
		}
		return sub, nil
	default:
		return nil, fmt.Errorf("migrations: unknown dialect %q (want postgres or sqlite)", dialect)
	}
}
