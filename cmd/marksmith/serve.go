package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/app"
	"github.com/marksmith/marksmith/storage"
	"github.com/marksmith/marksmith/users"
)

const serveUsage = `usage: marksmith serve [flags]

Serves the JSON API. With nothing set it opens ./marksmith.db (SQLite),
migrates it, stores the built-in question bank and, on the very first
start, creates an admin account whose one-time password it prints once.
Every flag can also be set by the environment variable named with it; see
docs/operations.md.

flags:`

// runServe is the serve command.
func runServe(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv env) error {
	cfg, rest, err := loadConfig("serve", serveUsage, args, getenv, stderr, true)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	} else if err != nil {
		return err
	}
	if len(rest) > 0 {
		return &exitError{code: 2, err: fmt.Errorf("serve takes no arguments, got %q", rest)}
	}
	logger := cfg.newLogger(stderr)

	// Check the whole configuration before touching the database.
	dialect, err := storage.DialectOf(cfg.DatabaseURL)
	if err != nil {
		return err
	}
	appCfg, err := cfg.appConfig(dialect, logger)
	if err != nil {
		return err
	}
	db, err := openDatabase(ctx, cfg, logger, true)
	if err != nil {
		return err
	}
	defer db.Close()
	// Take the port before anything is created, so that a port in use
	// fails the start before a one-time password is printed.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	defer ln.Close()

	registry := prometheus.NewRegistry()
	registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(db.SQLDB(), db.Dialect()),
	)
	a, err := app.New(appCfg, app.Deps{DB: db, Logger: logger, Metrics: registry})
	if err != nil {
		return err
	}
	if cfg.SeedBank {
		if err := a.Templates.SeedBuiltin(ctx); err != nil {
			return err
		}
	}
	if err := bootstrapAdmin(ctx, a.Users, cfg.AdminEmail, stdout, logger); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "marksmith: serving on http://%s\n", displayAddr(ln.Addr()))
	if err := a.Run(ctx, ln); err != nil {
		return err
	}
	logger.Info("stopped")
	return nil
}

// displayAddr turns a listening address into one a browser can open.
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return a.String()
	}
	return net.JoinHostPort("localhost", fmt.Sprint(tcp.Port))
}

// openDatabase opens the configured database and makes sure its schema is
// current: it applies pending migrations when the configuration allows
// (see config.migrateOnStart) and otherwise refuses a stale schema.
//
// With wait (serve) a database that is down is waited for, with back-off
// and a log line per try, until ctx ends; without it (the commands a
// person types) it is an error at once.
func openDatabase(ctx context.Context, cfg *config, logger *slog.Logger, wait bool) (*storage.DB, error) {
	open := storage.Open
	if wait {
		open = storage.OpenWait
	}
	db, err := open(ctx, cfg.DatabaseURL, logger)
	if err != nil {
		return nil, err
	}
	current, latest, err := db.SchemaStatus(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	if current < latest && cfg.migrateOnStart(db.Dialect()) {
		applied, err := db.MigrateUp(ctx)
		if err != nil {
			db.Close()
			return nil, err
		}
		logger.Info("migrated the database", "from", current, "to", latest, "applied", len(applied))
		return db, nil
	}
	if err := db.CheckSchema(ctx); err != nil {
		db.Close()
		return nil, errors.New(marksmith.ErrorMessage(err))
	}
	return db, nil
}

// bootstrapAdmin creates the first admin account when there are no users
// at all, with a generated one-time password it prints to stdout this
// once (the account must change it at first login). It never sets a fixed
// password.
func bootstrapAdmin(ctx context.Context, us *users.Service, email string, stdout io.Writer, logger *slog.Logger) error {
	acc, err := us.Bootstrap(ctx, email)
	if marksmith.ErrorCode(err) == marksmith.ECONFLICT {
		return nil // another instance starting at the same moment created it
	} else if err != nil {
		return fmt.Errorf("create the first admin %s: %w", email, err)
	}
	if acc == nil {
		return nil
	}
	logger.Info("created the first admin account", "email", acc.User.Email, "user_id", acc.User.ID)
	fmt.Fprintf(stdout, `
================================================================================
Created the first admin account. Its one-time password is shown only this once:

    email:     %s
    password:  %s

Sign in at the address below; you will be asked to choose your own password.
To set a new one later, run marksmith user password --email %s
================================================================================

`, acc.User.Email, acc.Password, acc.User.Email)
	return nil
}
