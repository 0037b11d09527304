package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	gormlogger "gorm.io/gorm/logger"
)

// queryLogger is GORM's logger for Marksmith. It logs a failed query at
// error and a slow one at warn, each as its operation, its table and (for a
// failure) an error code, and never the SQL text, its values or the
// database's message: a failed INSERT's values are a new user's password
// hash or a student's answer, and Postgres puts values in its messages
// (invalid input syntax for type integer: "…") and their details (Key
// (email)=(…) already exists). Errors storage turns into answers (a
// missing row, a taken email, a value the column cannot hold) and queries
// whose caller went away are not logged: they are not faults.
type queryLogger struct {
	logger *slog.Logger
	level  gormlogger.LogLevel
	slow   time.Duration
}

// newQueryLogger returns a queryLogger writing to logger at warn.
func newQueryLogger(logger *slog.Logger, slow time.Duration) *queryLogger {
	return &queryLogger{logger: logger, level: gormlogger.Warn, slow: slow}
}

// LogMode returns the logger at another level.
func (l *queryLogger) LogMode(level gormlogger.LogLevel) gormlogger.Interface {
	c := *l
	c.level = level
	return &c
}

// Info logs GORM's own message at info, without its arguments, which may
// hold values.
func (l *queryLogger) Info(ctx context.Context, msg string, _ ...any) {
	if l.level >= gormlogger.Info {
		l.logger.InfoContext(ctx, msg)
	}
}

// Warn logs GORM's own message at warn, without its arguments.
func (l *queryLogger) Warn(ctx context.Context, msg string, _ ...any) {
	if l.level >= gormlogger.Warn {
		l.logger.WarnContext(ctx, msg)
	}
}

// Error logs GORM's own message at error, without its arguments.
func (l *queryLogger) Error(ctx context.Context, msg string, _ ...any) {
	if l.level >= gormlogger.Error {
		l.logger.ErrorContext(ctx, msg)
	}
}

// Trace logs a failed or slow query by its operation and table.
func (l *queryLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	if l.level <= gormlogger.Silent {
		return
	}
	elapsed := time.Since(begin)
	failed := err != nil && constraintKind(err) == "" && !errors.Is(err, context.Canceled)
	slow := l.slow > 0 && elapsed > l.slow
	if !(failed && l.level >= gormlogger.Error) && !(slow && l.level >= gormlogger.Warn) {
		return
	}
	sql, _ := fc()
	op, table := statementOf(sql)
	attrs := []any{"op", op, "table", table, "ms", elapsed.Milliseconds()}
	if failed {
		l.logger.ErrorContext(ctx, "query failed", append(attrs, "code", errorCode(err))...)
		return
	}
	l.logger.WarnContext(ctx, "slow query", attrs...)
}

// ParamsFilter keeps the values out of the SQL GORM hands to Trace.
func (l *queryLogger) ParamsFilter(_ context.Context, sql string, _ ...any) (string, []any) {
	return sql, nil
}

var (
	sqlVerb  = regexp.MustCompile(`^\s*([A-Za-z]+)`)
	sqlTable = regexp.MustCompile(`(?i)\b(?:from|into|update|join)\s+"?([A-Za-z_][A-Za-z0-9_]*)`)
)

// statementOf returns a statement's operation (its first word, upper
// case) and the first table it names, from SQL with placeholders.
func statementOf(sql string) (op, table string) {
	if m := sqlVerb.FindStringSubmatch(sql); m != nil {
		op = strings.ToUpper(m[1])
	}
	if m := sqlTable.FindStringSubmatch(sql); m != nil {
		table = m[1]
	}
	return op, table
}

// errorCode names an error for the log without its message: the SQLSTATE
// of a Postgres error, the result code of a SQLite one, "unavailable" for
// a database that cannot be reached, else the error's Go type.
func errorCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return "SQLSTATE " + pe.Code
	}
	var sc sqliteCoder
	if errors.As(err, &sc) {
		return fmt.Sprintf("SQLite %d", sc.Code())
	}
	if unavailable(err) {
		return "unavailable"
	}
	for next := errors.Unwrap(err); next != nil; next = errors.Unwrap(err) {
		err = next
	}
	return fmt.Sprintf("%T", err)
}
