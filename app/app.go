// Package app assembles Marksmith's server from its parts: the use-case
// services over one store, the JSON API and the web pages on one Fiber
// app, and the background sweeps; and runs it until its context ends,
// shutting down gracefully. `marksmith serve` and the tests that drive a
// whole server both go through New and Run, so they run the same thing.
package app

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/api"
	"github.com/marksmith/marksmith/auth"
	"github.com/marksmith/marksmith/bank"
	"github.com/marksmith/marksmith/csvout"
	"github.com/marksmith/marksmith/exams"
	"github.com/marksmith/marksmith/paper"
	"github.com/marksmith/marksmith/sessions"
	"github.com/marksmith/marksmith/storage"
	"github.com/marksmith/marksmith/templates"
	"github.com/marksmith/marksmith/users"
	"github.com/marksmith/marksmith/web"
)

// Defaults of Config.
const (
	DefaultIssuer          = "marksmith"
	DefaultAudience        = "marksmith-api"
	DefaultAccessTTL       = 15 * time.Minute
	DefaultShutdownTimeout = 15 * time.Second
	// DefaultOverdueInterval is how often the server closes attempts whose
	// time ran out and nobody touched.
	DefaultOverdueInterval = 30 * time.Second
	// DefaultTokenSweepInterval is how often expired refresh tokens and
	// throttle counts are deleted.
	DefaultTokenSweepInterval = time.Hour
)

// Config configures the server. Zero fields take their defaults, but for
// the signing key: JWTSecret (HS256, at least 32 bytes) or JWTKey (EdDSA).
type Config struct {
	HTTP api.Config
	// Web configures the pages. Their client-address rule is
	// HTTP.TrustProxy; a CSRF key left empty is derived from the token
	// signing key, so instances that share that key share it too.
	Web web.Config

	JWTSecret  []byte
	JWTKey     ed25519.PrivateKey
	Issuer     string
	Audience   string
	AccessTTL  time.Duration
	RefreshTTL time.Duration

	// PasswordParams are the argon2id parameters; nil: auth.DefaultParams().
	PasswordParams *auth.Params
	Login          sessions.Limits
	ImportMaxRows  int
	// TemplateLimits bound an uploaded template (zero fields: the bank's
	// defaults); stored versions load under the same limits.
	TemplateLimits bank.Limits

	// PrintJobs configures the print jobs; a nil Printer is the server's
	// own (Printer), which starts Chromium when first needed, when there
	// is a Chromium to start (otherwise the instance prints no jobs).
	PrintJobs exams.PrintOptions

	ShutdownTimeout    time.Duration
	OverdueInterval    time.Duration
	TokenSweepInterval time.Duration
}

func (c Config) withDefaults() Config {
	if c.Issuer == "" {
		c.Issuer = DefaultIssuer
	}
	if c.Audience == "" {
		c.Audience = DefaultAudience
	}
	if c.AccessTTL == 0 {
		c.AccessTTL = DefaultAccessTTL
	}
	if c.RefreshTTL == 0 {
		c.RefreshTTL = sessions.DefaultRefreshTTL
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	if c.OverdueInterval == 0 {
		c.OverdueInterval = DefaultOverdueInterval
	}
	if c.TokenSweepInterval == 0 {
		c.TokenSweepInterval = DefaultTokenSweepInterval
	}
	if c.PasswordParams == nil {
		c.PasswordParams = auth.DefaultParams()
	}
	return c
}

// Validate reports what is wrong with c, after defaults.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if c.JWTKey == nil && len(c.JWTSecret) < auth.MinSecretLength {
		errs = append(errs, fmt.Errorf("JWT secret is %d bytes, need at least %d (or an Ed25519 key)", len(c.JWTSecret), auth.MinSecretLength))
	}
	if c.JWTKey != nil && len(c.JWTKey) != ed25519.PrivateKeySize {
		errs = append(errs, fmt.Errorf("JWT key is %d bytes, not an Ed25519 private key", len(c.JWTKey)))
	}
	if c.AccessTTL < 0 || c.RefreshTTL < 0 {
		errs = append(errs, errors.New("token lifetimes must not be negative"))
	}
	if c.RefreshTTL < c.AccessTTL {
		errs = append(errs, fmt.Errorf("refresh TTL %v is shorter than access TTL %v", c.RefreshTTL, c.AccessTTL))
	}
	if c.ImportMaxRows < 0 || c.Login.AccountFailures < 0 || c.Login.AddressAttempts < 0 {
		errs = append(errs, errors.New("import rows and login limits must not be negative"))
	}
	errs = append(errs, c.HTTP.Validate())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

// Deps are what the server runs on.
type Deps struct {
	DB      *storage.DB
	Logger  *slog.Logger         // nil: discard
	Now     func() time.Time     // nil: time.Now
	Metrics *prometheus.Registry // nil: a private registry
}

// App is an assembled server.
type App struct {
	cfg   Config
	db    *storage.DB
	store *storage.Store
	log   *slog.Logger
	now   func() time.Time

	Auth      *sessions.Service
	Users     *users.Service
	Templates *templates.Service
	Exams     *exams.Service
	// Printer prints papers to PDF, starting Chromium when first asked.
	Printer *paper.OnDemand
	// HTTP serves the JSON API and the web pages.
	HTTP *fiber.App
}

// New assembles the server.
func New(cfg Config, deps Deps) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if deps.DB == nil {
		return nil, errors.New("app: no database")
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	a := &App{cfg: cfg, db: deps.DB, store: storage.NewStore(deps.DB), log: deps.Logger, now: deps.Now}
	tcfg := auth.TokenConfig{Issuer: cfg.Issuer, Audience: cfg.Audience, TTL: cfg.AccessTTL, Now: deps.Now}
	var jwt *auth.Tokens
	var err error
	if cfg.JWTKey != nil {
		jwt, err = auth.NewEdDSA(cfg.JWTKey, tcfg)
	} else {
		jwt, err = auth.NewHS256(cfg.JWTSecret, tcfg)
	}
	if err != nil {
		return nil, err
	}
	a.Auth, err = sessions.New(a.store, jwt, sessions.Config{RefreshTTL: cfg.RefreshTTL, Limits: cfg.Login}, cfg.PasswordParams, deps.Now, deps.Logger)
	if err != nil {
		return nil, err
	}
	a.Users = users.New(a.store, users.Config{PasswordParams: cfg.PasswordParams, ImportMaxRows: cfg.ImportMaxRows}, deps.Now, deps.Logger)
	a.Templates = templates.New(a.store, deps.Now, deps.Logger)
	a.Templates.Limits = cfg.TemplateLimits
	a.Exams = exams.New(a.store, deps.Now, deps.Logger)
	a.Exams.Limits = cfg.TemplateLimits
	wcfg := cfg.Web
	wcfg.TrustProxy = cfg.HTTP.TrustProxy
	if len(wcfg.CSRFKey) == 0 {
		wcfg.CSRFKey = csrfKey(cfg)
	}
	pages, err := web.New(wcfg, web.Deps{
		Auth: a.Auth, Users: a.Users, Templates: a.Templates, Exams: a.Exams,
		GradebookCSV: csvout.Gradebook, Logger: deps.Logger, Now: deps.Now,
	})
	if err != nil {
		return nil, err
	}
	a.Printer = paper.NewOnDemand(paper.PrinterOptions{KaTeX: web.KaTeX()})
	a.Exams.Print = cfg.PrintJobs
	if a.Exams.Print.Printer == nil {
		// An instance without Chromium takes no print job from the shared
		// queue (it would only fail it) and refuses to queue one.
		if err := a.Printer.Available(); err == nil {
			a.Exams.Print.Printer = a.Printer
		} else {
			deps.Logger.Warn("print jobs are off: no Chromium to print with", "error", err.Error())
		}
	}
	a.HTTP = api.New(cfg.HTTP, api.Deps{
		Auth: a.Auth, Users: a.Users, Templates: a.Templates, Exams: a.Exams, Pages: pages, Printer: a.Printer,
		Logger: deps.Logger, Metrics: deps.Metrics,
		Ready: func(ctx context.Context) error {
			if err := deps.DB.Ping(ctx); err != nil {
				return err
			}
			return deps.DB.CheckSchema(ctx)
		},
	})
	return a, nil
}

// csrfKey derives the pages' CSRF key from the token signing key.
func csrfKey(cfg Config) []byte {
	secret := cfg.JWTSecret
	if cfg.JWTKey != nil {
		secret = cfg.JWTKey.Seed()
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("marksmith web csrf key v1"))
	return m.Sum(nil)
}

// Services returns the use-case services as the domain's interfaces.
func (a *App) Services() (marksmith.AuthService, marksmith.UserService, marksmith.TemplateService, marksmith.ExamService) {
	return a.Auth, a.Users, a.Templates, a.Exams
}

// Run serves on ln, with the background sweeps, until ctx is done; then it
// stops accepting connections and lets requests in flight finish for up to
// ShutdownTimeout (a fresh deadline, not what is left of ctx). It returns
// nil after a clean shutdown.
func (a *App) Run(ctx context.Context, ln net.Listener) error {
	sweeps, stop := context.WithCancel(ctx)
	defer stop()
	go every(sweeps, a.cfg.OverdueInterval, a.closeOverdue)
	go every(sweeps, a.cfg.TokenSweepInterval, a.sweepTokens)
	defer a.Printer.Close()
	// Print jobs, one at a time; when the server stops, a job being
	// printed is queued again before the browser and the database close.
	printing := make(chan struct{})
	go func() {
		defer close(printing)
		a.Exams.RunPrintJobs(sweeps)
	}()
	defer func() {
		stop()
		<-printing
	}()
	a.log.Info("serving", "addr", ln.Addr().String(), "database", a.db.Dialect())
	return api.Serve(ctx, a.HTTP, ln, a.cfg.ShutdownTimeout)
}

// closeOverdue closes and grades the attempts whose deadline and grace
// have passed, with what their students saved. Attempts are also closed
// whenever they are read, so this only keeps untouched ones from
// lingering open; with several instances on one Postgres only one sweeps
// at a time.
func (a *App) closeOverdue(ctx context.Context) {
	n, err := a.Exams.CloseOverdue(ctx)
	switch {
	case err != nil && ctx.Err() == nil:
		a.log.Warn("close overdue attempts", "error", err.Error())
	case n > 0:
		a.log.Info("closed overdue attempts", "count", n)
	}
}

// sweepTokens deletes the refresh tokens that expired more than one
// refresh lifetime ago (by then every token rotated from them has expired
// too, so reuse detection loses nothing) and the login counts whose
// windows have ended. Any number of instances may sweep at once.
func (a *App) sweepTokens(ctx context.Context) {
	now := a.now()
	n, err := a.store.DeleteExpiredRefreshTokens(ctx, now.Add(-a.cfg.RefreshTTL))
	switch {
	case err != nil && ctx.Err() == nil:
		a.log.Warn("delete expired refresh tokens", "error", err.Error())
	case n > 0:
		a.log.Info("deleted expired refresh tokens", "count", n)
	}
	if _, err := a.store.PruneThrottle(ctx, now); err != nil && ctx.Err() == nil {
		a.log.Warn("prune login counts", "error", err.Error())
	}
}

// every runs job at once and then every interval until ctx ends.
func every(ctx context.Context, interval time.Duration, job func(ctx context.Context)) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		job(ctx)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}
