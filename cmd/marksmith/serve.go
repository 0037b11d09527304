package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/api"
	"github.com/marksmith/marksmith/auth"
	"github.com/marksmith/marksmith/bank"
	"github.com/marksmith/marksmith/exams"
	"github.com/marksmith/marksmith/storage"
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
	apiCfg, err := cfg.apiConfig(dialect, logger)
	if err != nil {
		return err
	}
	db, err := openDatabase(ctx, cfg, logger)
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
	users := storage.NewUserStore(db)
	tokens := storage.NewTokenStore(db)
	templates := storage.NewTemplateStore(db)
	examStore := storage.NewExamStore(db)
	if cfg.SeedBank {
		if err := seedBank(ctx, templates, db.Now(), logger); err != nil {
			return err
		}
	}
	if err := bootstrapAdmin(ctx, users, cfg.AdminEmail, stdout, logger); err != nil {
		return err
	}

	registry := prometheus.NewRegistry()
	registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(db.SQLDB(), db.Dialect()),
	)
	examService := exams.New(examStore, users, templates, time.Now, logger)
	app := api.New(apiCfg, api.Deps{
		Users:     users,
		Tokens:    tokens,
		Templates: templates,
		Exams:     examService,
		Logger:    logger,
		Now:       time.Now,
		Ready: func(ctx context.Context) error {
			if err := db.Ping(ctx); err != nil {
				return err
			}
			return db.CheckSchema(ctx)
		},
		Metrics: registry,
	})

	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()
	sweepCtx, stopSweep := context.WithCancel(ctx)
	defer stopSweep()
	go sweepRefreshTokens(sweepCtx, tokens, apiCfg.RefreshTTL, time.Hour, time.Now, logger)
	go closeOverdue(sweepCtx, examService, overdueInterval, time.Now, logger)
	logger.Info("serving", "addr", ln.Addr().String(), "database", db.Dialect())
	fmt.Fprintf(stdout, "marksmith: serving on http://%s\n", displayAddr(ln.Addr()))

	select {
	case err := <-served:
		// The listener failed on its own.
		return fmt.Errorf("serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	// The context that stopped us is done; shutdown gets a deadline of its own.
	logger.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	if err := app.ShutdownWithTimeout(cfg.ShutdownTimeout); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; err != nil {
		return fmt.Errorf("serve on %s: %w", ln.Addr(), err)
	}
	logger.Info("stopped")
	return nil
}

// sweepRefreshTokens deletes, at start and then every interval until ctx
// ends, the refresh tokens that expired more than one refresh lifetime
// ago. By then every token rotated from them has expired too, so reuse
// detection loses nothing. Any number of instances may sweep at once.
func sweepRefreshTokens(ctx context.Context, tokens *storage.TokenStore, refreshTTL, interval time.Duration, now func() time.Time, logger *slog.Logger) {
	every(ctx, interval, func() {
		n, err := tokens.DeleteExpiredRefreshTokens(ctx, now().Add(-refreshTTL))
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Warn("delete expired refresh tokens", "error", err.Error())
		case n > 0:
			logger.Info("deleted expired refresh tokens", "count", n)
		}
	})
}

// every runs job at once and then every interval until ctx ends.
func every(ctx context.Context, interval time.Duration, job func()) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		job()
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// overdueInterval is how often serve closes attempts whose time ran out.
const overdueInterval = 30 * time.Second

// closeOverdue closes and grades, at start and then every interval until
// ctx ends, the attempts whose deadline and grace have passed, with what
// their students saved. Attempts are also closed whenever they are read, so
// this only keeps untouched ones from lingering open in the gradebook; any
// number of instances may run it at once.
func closeOverdue(ctx context.Context, svc *exams.Service, interval time.Duration, now func() time.Time, logger *slog.Logger) {
	every(ctx, interval, func() {
		n, err := svc.CloseOverdue(ctx, now())
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Warn("close overdue attempts", "error", err.Error())
		case n > 0:
			logger.Info("closed overdue attempts", "count", n)
		}
	})
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
func openDatabase(ctx context.Context, cfg *config, logger *slog.Logger) (*storage.DB, error) {
	db, err := storage.Open(ctx, cfg.DatabaseURL, logger)
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

// seedBank stores each template of the built-in bank whose source differs
// from the latest built-in version stored (or that has none) as a new
// version. It numbers it with the template's own version when that is
// free and higher than any stored, else one past the latest. Stored
// versions are never changed.
func seedBank(ctx context.Context, templates marksmith.TemplateStore, now time.Time, logger *slog.Logger) error {
	builtin, err := bank.Builtin()
	if err != nil {
		return fmt.Errorf("built-in bank: %w", err)
	}
	added := 0
	for _, t := range builtin {
		stored, err := seedTemplate(ctx, templates, t, now)
		if err != nil {
			return fmt.Errorf("store built-in template %s: %w", t.ID, err)
		}
		if stored != nil {
			added++
			logger.Info("stored built-in template", "template", t.ID, "version", stored.Version)
		}
	}
	logger.Info("built-in bank ready", "templates", len(builtin), "new_versions", added)
	return nil
}

// seedTemplate stores t unless the latest built-in version stored has
// the same source, and returns what it stored (nil when nothing). When
// another instance stores the same version first, that is not an error.
func seedTemplate(ctx context.Context, templates marksmith.TemplateStore, t *bank.Template, now time.Time) (*marksmith.TemplateVersion, error) {
	for attempt := 0; ; attempt++ {
		versions, err := templates.FindTemplateVersions(ctx, t.ID)
		if err != nil && marksmith.ErrorCode(err) != marksmith.ENOTFOUND {
			return nil, err
		}
		latest := 0
		var builtin *marksmith.TemplateVersion
		for _, v := range versions {
			latest = max(latest, v.Version)
			if v.Builtin {
				builtin = v
			}
		}
		if builtin != nil && builtin.Source == string(t.Source) {
			return nil, nil
		}
		tv := &marksmith.TemplateVersion{
			TemplateID: t.ID,
			Title:      t.Title,
			Marks:      t.Marks,
			Tags:       t.Tags,
			Format:     t.Format,
			Source:     string(t.Source),
			Builtin:    true,
			CreatedAt:  now,
		}
		if t.Version > latest {
			tv.Version = t.Version
		}
		err = templates.CreateTemplateVersion(ctx, tv)
		if err == nil {
			return tv, nil
		}
		if marksmith.ErrorCode(err) != marksmith.ECONFLICT || attempt == 2 {
			return nil, err
		}
	}
}

// bootstrapAdmin creates the first admin account when there are no users
// at all, with a generated password it prints to stdout this once. It
// never sets a fixed password.
func bootstrapAdmin(ctx context.Context, users marksmith.UserStore, email string, stdout io.Writer, logger *slog.Logger) error {
	n, err := users.CountUsers(ctx)
	if err != nil {
		return fmt.Errorf("count users: %w", err)
	}
	if n > 0 {
		return nil
	}
	password, err := auth.NewPassword()
	if err != nil {
		return err
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	u := &marksmith.User{Email: email, Name: "Administrator", Role: marksmith.RoleAdmin, PasswordHash: hash}
	if err := users.CreateUser(ctx, u); err != nil {
		if marksmith.ErrorCode(err) == marksmith.ECONFLICT {
			// Another instance starting at the same moment created it.
			return nil
		}
		return fmt.Errorf("create the first admin %s: %w", email, err)
	}
	logger.Info("created the first admin account", "email", u.Email, "user_id", u.ID)
	fmt.Fprintf(stdout, `
================================================================================
Created the first admin account. Its password is shown only this once:

    email:     %s
    password:  %s

Log in with POST /api/v1/auth/login. To set a new password later, run
marksmith user password --email %s
================================================================================

`, u.Email, password, u.Email)
	return nil
}
