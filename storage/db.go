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

	// inTx is set on the DB that WithTx hands its function: gorm is then
	// the transaction, and conn (on Postgres) the connection it runs on,
	// for the statements GORM cannot send (COPY).
	inTx bool
	conn *sql.Conn

	// groups commits autosaves in groups on PostgreSQL (nil: one by one).
	groups *saveGroups
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
// Migrate and SchemaStatus. A database that does not answer is an
// EUNAVAILABLE error (OpenWait waits for it). Failed and slow queries are
// logged to logger without their SQL or values; a nil logger discards
// them.
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
		// Open pings below, on ctx.
		DisableAutomaticPing: true,
		Logger:               newQueryLogger(logger.With("component", "gorm"), time.Second),
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
		// As many idle connections as open ones: with fewer, a burst
		// (a class starting at once, autosaves at the top of a minute)
		// closes each connection it finishes with beyond the idle limit
		// and opens another for the next query, a backend forked each
		// time: the 3,000-student start took 15.6 s with 10, 9.0 s with 25.
		sqlDB.SetMaxOpenConns(25)
		sqlDB.SetMaxIdleConns(25)
		sqlDB.SetConnMaxLifetime(30 * time.Minute)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	}
	db := &DB{gorm: g, sql: sqlDB, dialect: dialect, logger: logger, Now: time.Now}
	if dialect == DialectPostgres {
		db.groups = newSaveGroups(db)
	}
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

// The back-off of OpenWait: its first wait, doubled after each failure up
// to the longest.
const (
	openWaitFirst = 500 * time.Millisecond
	openWaitMax   = 10 * time.Second
)

// OpenWait is Open that waits for a database that is down at start. While
// Open fails because the database cannot be reached or will not take
// connections yet (a refused connection, a server starting up or out of
// connections) it logs one line per try, "database unavailable,
// retrying in 2s", with the reason, and tries again: after 0.5 s, then
// twice as long each time, up to 10 s between tries, until ctx is done.
// Any other error (a malformed URL, a wrong password, a database that
// does not exist) is returned at once. When ctx ends first the error is
// the last one (EUNAVAILABLE), joined with ctx's.
func OpenWait(ctx context.Context, dsn string, logger *slog.Logger) (*DB, error) {
	return openWait(ctx, dsn, logger, openWaitFirst, openWaitMax)
}

// openWait is OpenWait with its back-off given.
func openWait(ctx context.Context, dsn string, logger *slog.Logger, first, longest time.Duration) (*DB, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	wait := first
	for {
		db, err := Open(ctx, dsn, logger)
		if err == nil || !unavailable(err) {
			return db, err
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w (stopped waiting: %w)", err, ctx.Err())
		}
		logger.WarnContext(ctx, fmt.Sprintf("database unavailable, retrying in %s", wait), "error", err.Error())
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%w (stopped waiting: %w)", err, ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, longest)
	}
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

// Ping checks that the database answers. A database that does not is an
// EUNAVAILABLE error whose text (for the log) says why.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.sql.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s database: %w: %w", db.dialect, err, errUnavailable())
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

// querier runs SQL without GORM.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// pool returns what to send SQL on without GORM: the transaction inside
// WithTx, the connection pool otherwise.
func (db *DB) pool() querier {
	if q, ok := db.gorm.Statement.ConnPool.(querier); ok {
		return q
	}
	return db.sql
}

// transaction runs fn in one transaction on ctx; fn's error rolls it back.
// Inside WithTx it runs in the surrounding transaction.
func (db *DB) transaction(ctx context.Context, fn func(tx *gorm.DB) error) error {
	if db.inTx {
		return fn(db.gorm.WithContext(ctx))
	}
	return db.gorm.WithContext(ctx).Transaction(fn)
}

// withTx runs fn with a DB bound to one transaction: every statement of
// fn's DB runs in it, and fn's error (or panic) rolls it back. On Postgres
// the transaction is opened on a connection of its own, which fn's DB
// keeps for COPY. Inside a transaction it runs fn with the same DB.
func (db *DB) withTx(ctx context.Context, fn func(tx *DB) error) error {
	if db.inTx {
		return fn(db)
	}
	g := db.gorm.WithContext(ctx)
	var conn *sql.Conn
	if db.dialect == DialectPostgres {
		c, err := db.sql.Conn(ctx)
		if err != nil {
			return translate(err, "begin transaction")
		}
		defer c.Close()
		conn = c
		g = db.gorm.Session(&gorm.Session{NewDB: true, Context: ctx})
		g.Statement.ConnPool = c
	}
	return g.Transaction(func(tx *gorm.DB) error {
		return fn(&DB{gorm: tx, sql: db.sql, dialect: db.dialect, logger: db.logger, migrations: db.migrations,
			Now: db.Now, inTx: true, conn: conn})
	})
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
		return done, outage(err, fmt.Sprintf("migrate %s database up", db.dialect))
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
		return 0, outage(err, fmt.Sprintf("migrate %s database down", db.dialect))
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
		return nil, outage(err, fmt.Sprintf("%s migration status", db.dialect))
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
		return 0, latest, outage(err, fmt.Sprintf("%s schema status", db.dialect))
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
		return false, outage(err, fmt.Sprintf("look for table %s in %s database", name, db.dialect))
	}
	return n > 0, nil
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}

// anyTime scans a time from a driver value that is a time.Time (Postgres,
// and SQLite columns declared TIMESTAMP) or a string (SQLite expressions,
// such as MAX over a TIMESTAMP column, come back as the stored text).
type anyTime struct{ Time time.Time }

// Scan implements sql.Scanner.
func (t *anyTime) Scan(v any) error {
	switch x := v.(type) {
	case time.Time:
		t.Time = x
		return nil
	case nil:
		t.Time = time.Time{}
		return nil
	case string:
		return t.parse(x)
	case []byte:
		return t.parse(string(x))
	}
	return fmt.Errorf("scan time: unexpected %T", v)
}

func (t *anyTime) parse(s string) error {
	for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"} {
		if v, err := time.Parse(layout, s); err == nil {
			t.Time = v
			return nil
		}
	}
	return fmt.Errorf("scan time: cannot read %q", s)
}
