package storage

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/marksmith/marksmith"
)

// sqlStater is implemented by Postgres errors (pgconn.PgError).
type sqlStater interface{ SQLState() string }

// sqliteCoder is implemented by SQLite errors; the low byte of the code
// is the primary result code.
type sqliteCoder interface{ Code() int }

// SQLite's primary result codes for a database another connection holds.
const (
	sqliteBusy   = 5
	sqliteLocked = 6
)

// translate turns a database error into the error callers see. It is the
// one place database errors are interpreted: a missing row becomes
// ENOTFOUND, a unique or primary key violation ECONFLICT, a foreign key or
// check violation EINVALID, a value the database cannot store (a NUL byte,
// a number out of range) EINVALID, and a database that cannot be reached
// or will not take the query now EUNAVAILABLE. what names the thing the
// query was about, as a user may read it ("user 7", "template q1 version
// 2"). An unavailable database's error keeps its cause for the operator's
// log (errors.Is still finds it); any other error is wrapped with what and
// stays internal. nil stays nil.
func translate(err error, what string) error {
	if err == nil {
		return nil
	}
	var me *marksmith.Error
	if errors.As(err, &me) {
		return err
	}
	if unavailable(err) {
		return fmt.Errorf("%s: %w: %w", what, err, errUnavailable())
	}
	switch constraintKind(err) {
	case "not_found":
		return marksmith.Errorf(marksmith.ENOTFOUND, "%s not found", what)
	case "unique":
		return marksmith.Errorf(marksmith.ECONFLICT, "%s already exists", what)
	case "foreign_key":
		return marksmith.Errorf(marksmith.EINVALID, "%s refers to a record that does not exist", what)
	case "check", "data":
		return marksmith.Errorf(marksmith.EINVALID, "%s has a value the database does not accept", what)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// outage is translate for the queries of migrations and schema checks:
// an unavailable database is EUNAVAILABLE, and any other error is wrapped
// with what, whatever it is, as a fault of the migration.
func outage(err error, what string) error {
	if unavailable(err) {
		return fmt.Errorf("%s: %w: %w", what, err, errUnavailable())
	}
	return fmt.Errorf("%s: %w", what, err)
}

// errUnavailable is the error users see while the database is down.
func errUnavailable() *marksmith.Error {
	return marksmith.Errorf(marksmith.EUNAVAILABLE, "The database is unavailable; try again shortly.")
}

// unavailable reports whether err means the database cannot be reached or
// will not serve now, so that the same request may succeed later: a
// refused or broken connection, a server shutting down, starting up, out
// of connections or read-only, or (SQLite) a database another connection
// held past the busy timeout. A wrong password or a missing database is
// not: waiting does not mend them.
func unavailable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch code := pe.Code; {
		case strings.HasPrefix(code, "08"), // connection exception
			code == "57P01", // admin shutdown
			code == "57P02", // crash shutdown
			code == "57P03", // cannot connect now
			code == "53300", // too many connections
			code == "25006": // read-only SQL transaction (a standby)
			return true
		}
		return false
	}
	var sc sqliteCoder
	if errors.As(err, &sc) {
		c := sc.Code() & 0xff
		return c == sqliteBusy || c == sqliteLocked
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce), errors.As(err, &ne),
		errors.Is(err, driver.ErrBadConn),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "conn closed") || strings.Contains(msg, "database is locked")
}

// constraintKind classifies err as "not_found", "unique", "foreign_key",
// "check", "data" (a value the column cannot hold) or "".
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
		// Class 22, data exception: a NUL byte or bad encoding (22021), a
		// number out of range (22003), text that is not a value of the
		// type (22P02), a date out of range (22008), a string too long
		// (22001). The value is the caller's, and so is the fault.
		if strings.HasPrefix(pe.SQLState(), "22") {
			return "data"
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
	case strings.Contains(msg, "failed to encode args["):
		// pgx could not write a value as its column's type (a number
		// too large for an INTEGER) and sent nothing.
		return "data"
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
