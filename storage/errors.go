package storage

import (
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/marksmith/marksmith"
)

// sqlStater is implemented by Postgres errors (pgconn.PgError).
type sqlStater interface{ SQLState() string }

// translate turns a database error into the error callers see. It is the
// one place database errors are interpreted: a missing row becomes
// ENOTFOUND, a unique or primary key violation ECONFLICT, a foreign key or
// check violation EINVALID. what names the thing the query was about, as a
// user may read it ("user 7", "template q1 version 2"). Any other error is
// wrapped with what and stays internal. nil stays nil.
func translate(err error, what string) error {
	if err == nil {
		return nil
	}
	var me *marksmith.Error
	if errors.As(err, &me) {
		return err
	}
	switch constraintKind(err) {
	case "not_found":
		return marksmith.Errorf(marksmith.ENOTFOUND, "%s not found", what)
	case "unique":
		return marksmith.Errorf(marksmith.ECONFLICT, "%s already exists", what)
	case "foreign_key":
		return marksmith.Errorf(marksmith.EINVALID, "%s refers to a record that does not exist", what)
	case "check":
		return marksmith.Errorf(marksmith.EINVALID, "%s has a value the database does not accept", what)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// constraintKind classifies err as "not_found", "unique", "foreign_key",
// "check" or "".
func constraintKind(err error) string {
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return "not_found"
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return "unique"
	case errors.Is(err, gorm.ErrForeignKeyViolated):
		return "foreign_key"
	case errors.Is(err, gorm.ErrCheckConstraintViolated):
		return "check"
	}
	var pe sqlStater
	if errors.As(err, &pe) {
		switch pe.SQLState() {
		case "23505":
			return "unique"
		case "23503":
			return "foreign_key"
		case "23514", "23502":
			return "check"
		}
	}
	// SQLite errors that escaped the dialector's translation.
	msg := err.Error()
	switch {
	case strings.Contains(msg, "UNIQUE constraint failed"), strings.Contains(msg, "PRIMARY KEY constraint failed"):
		return "unique"
	case strings.Contains(msg, "FOREIGN KEY constraint failed"):
		return "foreign_key"
	case strings.Contains(msg, "CHECK constraint failed"), strings.Contains(msg, "NOT NULL constraint failed"):
		return "check"
	}
	return ""
}

// schemaError says why a schema at version current cannot serve a binary
// that knows migrations up to latest, or returns nil when they match.
func schemaError(current, latest int64) error {
	switch {
	case current == latest:
		return nil
	case current < latest:
		return &marksmith.Error{
			Code:    marksmith.EUNAVAILABLE,
			Message: fmt.Sprintf("database schema is at version %d, this release needs %d: run `marksmith migrate up` (or serve with --migrate)", current, latest),
		}
	default:
		return &marksmith.Error{
			Code:    marksmith.EUNAVAILABLE,
			Message: fmt.Sprintf("database schema is at version %d, newer than this release knows (%d): upgrade marksmith", current, latest),
		}
	}
}
