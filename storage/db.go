// Package storage keeps Marksmith's data in a SQL database through GORM:
// Postgres in production, or an embedded SQLite file (pure Go, no cgo) when
// no database URL is given. The rest of the program sees only the domain
// types and service interfaces of the root package; the GORM row structs
// stay here. Every query runs on the caller's context, every service method
// that writes more than one row runs in one transaction, and database errors
// are translated to *marksmith.Error in one place (errors.go).
package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	gormlogger "gorm.io/gorm/logger"

	"github.com/marksmith/marksmith/migrations"
)

// The dialects Open knows.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// DefaultSQLitePath is the file Open uses when the DSN is empty.
const DefaultSQLitePath = "marksmith.db"

// gooseTable is the table goose records applied migrations in.
const gooseTable = "goose_db_version"

// DB is an open database. Now is the clock the services read when the
// caller gives no time (CreatedAt and UpdatedAt); tests replace it.
type DB struct {
	gorm    *gorm.DB
	sql     *sql.DB
	dialect string
	logger  *slog.Logger

	// migrations applies and reports the embedded migrations; it is safe
	// for concurrent use.
	migrations *goose.Provider

	// Now returns the current time; Open sets it to time.Now.
	Now func() time.Time
}

// Open opens the database named by dsn:
//
//   - "" opens the embedded SQLite file ./marksmith.db;
//   - "sqlite:PATH", "file:PATH", or a PATH ending in .db, .sqlite or
//     .sqlite3 opens the SQLite file PATH (created if missing; its directory
//     must exist), with foreign keys on, WAL journaling, a busy timeout and
//     immediate write transactions; "sqlite::memory:" is a private in-memory
//     database on one connection;
//   - "postgres://..." or "postgresql://..." opens Postgres with pgx.
//
// Open checks that the database answers but does not migrate it; see
// Migrate and SchemaStatus. A nil logger discards GORM's warnings.
func Open(ctx context.Context, dsn string, logger *slog.Logger) (*DB, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	dialect, target, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	var dialector gorm.Dialector
	switch dialect {
	case DialectSQLite:
		if err := createPrivate(target); err != nil {
			return nil, err
		}
		dialector = sqlite.Open(target)
	case DialectPostgres:
		dialector = postgres.Open(target)
	}
	g, err := gorm.Open(dialector, &gorm.Config{
		// Methods open their own transactions where they write more than one row.
		SkipDefaultTransaction: true,
		TranslateError:         true,
		Logger: quietLogger{gormlogger.NewSlogLogger(logger.With("component", "gorm"), gormlogger.Config{
			SlowThreshold:             time.Second,
			IgnoreRecordNotFoundError: true,
			ParameterizedQueries:      true,
			LogLevel:                  gormlogger.Warn,
		})},
	})
	if err != nil {
		return nil, fmt.Errorf("open %s database %s: %w", dialect, redact(dsn), err)
	}
	sqlDB, err := g.DB()
	if err != nil {
		return nil, fmt.Errorf("open %s database %s: %w", dialect, redact(dsn), err)
	}
	switch {
	case dialect == DialectSQLite && strings.HasPrefix(target, "file::memory:"):
		// Each connection to :memory: is a database of its own.
		sqlDB.SetMaxOpenConns(1)
	case dialect == DialectSQLite:
		// WAL lets readers run beside the one writer; writers queue on
		// the busy timeout, so a few connections are plenty.
		sqlDB.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)))
		sqlDB.SetMaxIdleConns(max(4, runtime.GOMAXPROCS(0)))
	default:
		sqlDB.SetMaxOpenConns(25)
		sqlDB.SetMaxIdleConns(10)
		sqlDB.SetConnMaxLifetime(30 * time.Minute)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	}
	db := &DB{gorm: g, sql: sqlDB, dialect: dialect, logger: logger, Now: time.Now}
	if db.migrations, err = db.newProvider(); err != nil {
		sqlDB.Close()
		return nil, err
	}
	if err := db.Ping(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("open %s database %s: %w", dialect, redact(dsn), err)
	}
	return db, nil
}

// quietLogger is GORM's logger without the errors storage turns into
// answers (a missing row, a taken email): they are the caller's to
// report, not faults to log. Slow queries are still logged.
type quietLogger struct{ gormlogger.Interface }

// Trace logs a query unless its only news is an expected error.
func (l quietLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	if err != nil && constraintKind(err) != "" {
		err = nil
	}
	l.Interface.Trace(ctx, begin, fc, err)
}

// LogMode returns the logger at another level, still quiet.
func (l quietLogger) LogMode(level gormlogger.LogLevel) gormlogger.Interface {
	return quietLogger{l.Interface.LogMode(level)}
}

// DialectOf returns the dialect ("sqlite" or "postgres") of a DSN as Open
// reads it, without opening anything.
func DialectOf(dsn string) (string, error) {
	dialect, _, err := parseDSN(dsn)
	return dialect, err
}

// parseDSN returns the dialect of dsn and the data source name to hand to
// the driver.
func parseDSN(dsn string) (dialect, target string, err error) {
	var path string
	switch {
	case dsn == "":
		path = DefaultSQLitePath
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return DialectPostgres, dsn, nil
	case strings.HasPrefix(dsn, "sqlite://"):
		path = strings.TrimPrefix(dsn, "sqlite://")
	case strings.HasPrefix(dsn, "sqlite:"):
		path = strings.TrimPrefix(dsn, "sqlite:")
	case strings.HasPrefix(dsn, "file:"):
		path = strings.TrimPrefix(dsn, "file:")
	default:
		p, _, _ := strings.Cut(dsn, "?")
		for _, ext := range []string{".db", ".sqlite", ".sqlite3"} {
			if strings.HasSuffix(p, ext) {
				path = dsn
			}
		}
		if path == "" {
			return "", "", fmt.Errorf("database URL %q: want postgres://..., sqlite:PATH or a file ending in .db", redact(dsn))
		}
	}
	if path == "" || strings.HasPrefix(path, "?") {
		return "", "", fmt.Errorf("database URL %q: missing SQLite file path", dsn)
	}
	// busy_timeout first: switching to WAL needs a lock another process may hold.
	params := "_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_txlock=immediate"
	if !strings.HasPrefix(path, ":memory:") {
		params += "&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return DialectSQLite, "file:" + path + sep + params, nil
}

// createPrivate creates the SQLite file of target, if missing, readable
// by its owner only: it holds password hashes.
func createPrivate(target string) error {
	path, _, _ := strings.Cut(strings.TrimPrefix(target, "file:"), "?")
	if strings.HasPrefix(path, ":memory:") {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create SQLite database: %w", err)
	}
	return f.Close()
}

// redact hides the password of a database URL.
func redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil {
		return u.Redacted()
	}
	return dsn
}

// Close closes the database.
func (db *DB) Close() error {
	if err := db.sql.Close(); err != nil {
		return fmt.Errorf("close %s database: %w", db.dialect, err)
	}
	return nil
}

// SQLDB returns the connection pool under the database, for metrics
// (sql.DBStats) and tools. Queries belong in the services.
func (db *DB) SQLDB() *sql.DB { return db.sql }

// Dialect returns "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.dialect }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.sql.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s database: %w", db.dialect, err)
	}
	return nil
}

// now returns the DB clock's time in UTC, truncated to the microsecond
// both dialects store.
func (db *DB) now() time.Time { return dbTime(db.Now()) }

// dbTime normalises t to what the database gives back: UTC, microseconds.
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// dbTimePtr is dbTime for optional times.
func dbTimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := dbTime(*t)
	return &v
}

// transaction runs fn in one transaction on ctx; fn's error rolls it back.
func (db *DB) transaction(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return db.gorm.WithContext(ctx).Transaction(fn)
}

// MigrationState is the state of one migration.
type MigrationState struct {
	Version   int64
	Name      string // the file name, e.g. 00001_init.sql
	Applied   bool
	AppliedAt time.Time // zero when pending
}

// newProvider returns a goose provider over this database's embedded
// migrations. It uses no goose global state; on Postgres a session
// advisory lock keeps two servers from migrating at once.
func (db *DB) newProvider() (*goose.Provider, error) {
	fsys, err := migrations.FS(db.dialect)
	if err != nil {
		return nil, err
	}
	opts := []goose.ProviderOption{
		goose.WithDisableGlobalRegistry(true),
		goose.WithSlog(db.logger.With("component", "migrate")),
	}
	dialect := goose.DialectSQLite3
	if db.dialect == DialectPostgres {
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 600))
		if err != nil {
			return nil, fmt.Errorf("migrations lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, db.sql, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("load %s migrations: %w", db.dialect, err)
	}
	return p, nil
}

// Migrate applies every pending migration.
func (db *DB) Migrate(ctx context.Context) error {
	_, err := db.MigrateUp(ctx)
	return err
}

// MigrateUp applies every pending migration and returns the versions applied.
func (db *DB) MigrateUp(ctx context.Context) ([]int64, error) {
	p := db.migrations
	res, err := p.Up(ctx)
	var done []int64
	for _, r := range res {
		if r.Error == nil {
			done = append(done, r.Source.Version)
		}
	}
	if err != nil {
		return done, fmt.Errorf("migrate %s database up: %w", db.dialect, err)
	}
	return done, nil
}

// MigrateDown rolls back the most recent migration and returns its version,
// or 0 when there was nothing to roll back.
func (db *DB) MigrateDown(ctx context.Context) (int64, error) {
	p := db.migrations
	r, err := p.Down(ctx)
	if errors.Is(err, goose.ErrNoNextVersion) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("migrate %s database down: %w", db.dialect, err)
	}
	return r.Source.Version, nil
}

// MigrationStatus lists every known migration, oldest first, and whether
// it is applied.
func (db *DB) MigrationStatus(ctx context.Context) ([]MigrationState, error) {
	p := db.migrations
	var out []MigrationState
	ok, err := db.hasTable(ctx, gooseTable)
	if err != nil {
		return nil, err
	}
	if !ok {
		for _, s := range p.ListSources() {
			out = append(out, MigrationState{Version: s.Version, Name: baseName(s.Path)})
		}
		return out, nil
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s migration status: %w", db.dialect, err)
	}
	for _, s := range st {
		out = append(out, MigrationState{
			Version:   s.Source.Version,
			Name:      baseName(s.Source.Path),
			Applied:   s.State == goose.StateApplied,
			AppliedAt: s.AppliedAt,
		})
	}
	return out, nil
}

// SchemaStatus returns the schema version the database is at (0 for an
// empty database) and the latest version this binary knows. The schema is
// current when they are equal; a database ahead of the binary (current >
// latest) was migrated by a newer release.
func (db *DB) SchemaStatus(ctx context.Context) (current, latest int64, err error) {
	srcs := db.migrations.ListSources()
	latest = srcs[len(srcs)-1].Version
	ok, err := db.hasTable(ctx, gooseTable)
	if err != nil {
		return 0, latest, err
	}
	if !ok {
		return 0, latest, nil
	}
	// GetVersions takes no lock, so probes never queue behind a migration.
	current, _, err = db.migrations.GetVersions(ctx)
	if err != nil {
		return 0, latest, fmt.Errorf("%s schema status: %w", db.dialect, err)
	}
	return current, latest, nil
}

// CheckSchema returns an EUNAVAILABLE *marksmith.Error unless the schema
// is exactly at the latest version; it suits a readiness probe.
func (db *DB) CheckSchema(ctx context.Context) error {
	current, latest, err := db.SchemaStatus(ctx)
	if err != nil {
		return err
	}
	return schemaError(current, latest)
}

// hasTable reports whether the table exists (in the current schema, on
// Postgres).
func (db *DB) hasTable(ctx context.Context, name string) (bool, error) {
	q := `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`
	if db.dialect == DialectPostgres {
		q = `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?`
	}
	var n int64
	if err := db.gorm.WithContext(ctx).Raw(q, name).Scan(&n).Error; err != nil {
		return false, fmt.Errorf("look for table %s in %s database: %w", name, db.dialect, err)
	}
	return n > 0, nil
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}
