package storage

import (
	"context"

	"github.com/marksmith/marksmith"
)

// Store is the whole of storage over one database: every store, and
// transactions that span them. It implements marksmith.Store.
type Store struct {
	*UserStore
	*TokenStore
	*TemplateStore
	*ExamStore
	*SubmissionStore
	*PrintJobStore
	*ThrottleStore
	db *DB
}

var _ marksmith.Store = (*Store)(nil)

// NewStore returns the Store of db.
func NewStore(db *DB) *Store {
	return &Store{UserStore: NewUserStore(db), TokenStore: NewTokenStore(db), TemplateStore: NewTemplateStore(db),
		ExamStore: NewExamStore(db), SubmissionStore: NewSubmissionStore(db), PrintJobStore: NewPrintJobStore(db),
		ThrottleStore: NewThrottleStore(db), db: db}
}

// WithTx runs fn in one transaction with a Store bound to it: every call
// fn makes on tx is part of the transaction, which fn's error (or a panic)
// rolls back and its nil return commits. Inside fn, tx.WithTx joins the
// same transaction.
func (s *Store) WithTx(ctx context.Context, fn func(tx marksmith.Store) error) error {
	return s.db.withTx(ctx, func(db *DB) error { return fn(NewStore(db)) })
}

// Exclusive runs fn while holding the lock named name: on Postgres a
// session advisory lock, which every server instance on the database
// shares, taken without waiting (fn does not run when another session
// holds it); on SQLite, whose database belongs to one server, fn just runs.
func (s *Store) Exclusive(ctx context.Context, name string, fn func(ctx context.Context) error) (bool, error) {
	if s.db.dialect != DialectPostgres {
		return true, fn(ctx)
	}
	conn, err := s.db.sql.Conn(ctx)
	if err != nil {
		return false, translate(err, "lock "+name)
	}
	defer conn.Close()
	var got bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock(hashtext($1))`, name).Scan(&got); err != nil {
		return false, translate(err, "lock "+name)
	}
	if !got {
		return false, nil
	}
	defer func() {
		// Unlock even when ctx is done; closing the session would too.
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(hashtext($1))`, name)
	}()
	return true, fn(ctx)
}
