// Package api is Marksmith's JSON API over HTTP: a Fiber app with JWT
// bearer authentication, roles, one error shape, request ids, access logs,
// Prometheus metrics and an OpenAPI document of the whole surface.
//
// The whole surface is listed in routes.go; handlers are maker functions,
// one file per area.
package api

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/marksmith/marksmith"
	"github.com/marksmith/marksmith/auth"
	"github.com/marksmith/marksmith/exams"
)

// Defaults for the zero values of Config.
const (
	DefaultIssuer        = "marksmith"
	DefaultAudience      = "marksmith-api"
	DefaultAccessTTL     = 15 * time.Minute
	DefaultRefreshTTL    = 7 * 24 * time.Hour
	DefaultBodyLimit     = 4 << 20 // 4 MiB: a roster of a few thousand rows, a template with figures
	DefaultReadTimeout   = 15 * time.Second
	DefaultWriteTimeout  = 30 * time.Second
	DefaultIdleTimeout   = 120 * time.Second
	DefaultImportMaxRows = 1000 // each row costs an argon2id hash, about 0.1 s

	// readBufferSize bounds the request line and headers (8 KiB, as most
	// proxies do); larger requests get 413 before any handler runs.
	readBufferSize = 8 << 10
)

// Config configures the API. The zero value of each field but the signing
// key means its default.
type Config struct {
	Issuer   string // iss of access tokens; default DefaultIssuer
	Audience string // aud of access tokens; default DefaultAudience

	// JWTSecret is the HS256 secret (at least 32 bytes), used unless JWTKey
	// is set. JWTKey, when set, signs access tokens with EdDSA instead.
	// Exactly one algorithm is accepted either way.
	JWTSecret []byte
	JWTKey    ed25519.PrivateKey

	AccessTTL  time.Duration // access token lifetime; default 15 minutes
	RefreshTTL time.Duration // refresh token lifetime; default 7 days

	BodyLimit    int           // largest request body in bytes; default 4 MiB
	ReadTimeout  time.Duration // default 15s
	WriteTimeout time.Duration // default 30s
	IdleTimeout  time.Duration // keep-alive idle timeout; default 120s

	// TrustProxy takes the client address from the last entry of
	// X-Forwarded-For (the one the proxy in front of us added). Set it only
	// behind a proxy that sets that header.
	TrustProxy bool

	// PasswordParams are the argon2id parameters for new password hashes;
	// nil means auth.DefaultParams().
	PasswordParams *auth.Params

	// Login limits failed and total login attempts; zero fields take
	// their defaults (see LoginLimits).
	Login LoginLimits

	// ImportMaxRows is the most rows one roster import may have; default
	// 1000. Each new user costs one argon2id hash (about 0.1 s with the
	// default parameters), so a roster of 1000 takes a couple of minutes.
	ImportMaxRows int
}

// LoginLimits are the login rate limits, kept in memory per instance. A
// client address is limited on all attempts, loosely, so that a classroom
// behind one NAT can log in together; an account is limited on failures,
// tightly, to stop password guessing. A successful login clears the
// account's failures.
type LoginLimits struct {
	AccountFailures int           // failures per account per AccountWindow; default 5
	AccountWindow   time.Duration // default 15 minutes
	AddressAttempts int           // attempts per client address per AddressWindow; default 300
	AddressWindow   time.Duration // default 5 minutes
}

// Deps are the API's dependencies.
type Deps struct {
	Users     marksmith.UserStore
	Tokens    marksmith.TokenStore
	Templates marksmith.TemplateStore
	// Exams runs online exams; nil: the exam routes answer 503.
	Exams *exams.Service

	Logger  *slog.Logger                    // nil: logs are discarded
	Now     func() time.Time                // nil: time.Now
	Ready   func(ctx context.Context) error // readiness probe (database reachable, schema current); nil: always ready
	Metrics *prometheus.Registry            // nil: a private registry
}

// withDefaults returns cfg with its zero fields set to their defaults.
func (cfg Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if cfg.Issuer == "" {
		cfg.Issuer = DefaultIssuer
	}
	if cfg.Audience == "" {
		cfg.Audience = DefaultAudience
	}
	def(&cfg.AccessTTL, DefaultAccessTTL)
	def(&cfg.RefreshTTL, DefaultRefreshTTL)
	def(&cfg.ReadTimeout, DefaultReadTimeout)
	def(&cfg.WriteTimeout, DefaultWriteTimeout)
	def(&cfg.IdleTimeout, DefaultIdleTimeout)
	def(&cfg.Login.AccountWindow, 15*time.Minute)
	def(&cfg.Login.AddressWindow, 5*time.Minute)
	if cfg.BodyLimit == 0 {
		cfg.BodyLimit = DefaultBodyLimit
	}
	if cfg.Login.AccountFailures == 0 {
		cfg.Login.AccountFailures = 5
	}
	if cfg.Login.AddressAttempts == 0 {
		cfg.Login.AddressAttempts = 300
	}
	if cfg.ImportMaxRows == 0 {
		cfg.ImportMaxRows = DefaultImportMaxRows
	}
	if cfg.PasswordParams == nil {
		cfg.PasswordParams = auth.DefaultParams()
	}
	return cfg
}

// Validate reports what is wrong with cfg, after defaults are applied.
func (cfg Config) Validate() error {
	cfg = cfg.withDefaults()
	var errs []error
	if cfg.JWTKey == nil && len(cfg.JWTSecret) < auth.MinSecretLength {
		errs = append(errs, fmt.Errorf("JWT secret is %d bytes, need at least %d (or an Ed25519 key)", len(cfg.JWTSecret), auth.MinSecretLength))
	}
	if cfg.JWTKey != nil && len(cfg.JWTKey) != ed25519.PrivateKeySize {
		errs = append(errs, fmt.Errorf("JWT key is %d bytes, not an Ed25519 private key", len(cfg.JWTKey)))
	}
	for name, d := range map[string]time.Duration{
		"access TTL": cfg.AccessTTL, "refresh TTL": cfg.RefreshTTL,
		"read timeout": cfg.ReadTimeout, "write timeout": cfg.WriteTimeout, "idle timeout": cfg.IdleTimeout,
		"login account window": cfg.Login.AccountWindow, "login address window": cfg.Login.AddressWindow,
	} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("%s %v is negative", name, d))
		}
	}
	if cfg.RefreshTTL < cfg.AccessTTL {
		errs = append(errs, fmt.Errorf("refresh TTL %v is shorter than access TTL %v", cfg.RefreshTTL, cfg.AccessTTL))
	}
	if cfg.BodyLimit < 0 || cfg.Login.AccountFailures < 0 || cfg.Login.AddressAttempts < 0 || cfg.ImportMaxRows < 0 {
		errs = append(errs, errors.New("body limit, login limits and import rows must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("api config: %w", err)
	}
	return nil
}

// server holds what the handlers share.
type server struct {
	cfg       Config
	users     marksmith.UserStore
	tokens    marksmith.TokenStore
	templates marksmith.TemplateStore
	exams     *exams.Service
	log       *slog.Logger
	now       func() time.Time
	ready     func(ctx context.Context) error
	registry  *prometheus.Registry
	metrics   *metrics
	jwt       *auth.Tokens
	limiter   *loginLimiter
	dummyHash string // checked when a login names no user, so timing tells nothing

	routePaths map[string]bool // the patterns of routes(), for metric labels
}

// New returns the API as a Fiber app with every route of routes.go. It
// panics if cfg is invalid (see Config.Validate) or a service is missing:
// both are programming errors caught at start-up.
func New(cfg Config, deps Deps) *fiber.App {
	s, err := newServer(cfg, deps)
	if err != nil {
		panic(fmt.Sprintf("api.New: %v", err))
	}
	return s.app()
}

func newServer(cfg Config, deps Deps) (*server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if deps.Users == nil || deps.Tokens == nil || deps.Templates == nil {
		return nil, errors.New("deps: Users, Tokens and Templates are required")
	}
	s := &server{
		cfg:       cfg,
		users:     deps.Users,
		tokens:    deps.Tokens,
		templates: deps.Templates,
		exams:     deps.Exams,
		log:       deps.Logger,
		now:       deps.Now,
		ready:     deps.Ready,
		registry:  deps.Metrics,
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.ready == nil {
		s.ready = func(context.Context) error { return nil }
	}
	if s.registry == nil {
		s.registry = prometheus.NewRegistry()
	}
	m, err := newMetrics(s.registry)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	tcfg := auth.TokenConfig{Issuer: cfg.Issuer, Audience: cfg.Audience, TTL: cfg.AccessTTL, Now: s.now}
	if cfg.JWTKey != nil {
		s.jwt, err = auth.NewEdDSA(cfg.JWTKey, tcfg)
	} else {
		s.jwt, err = auth.NewHS256(cfg.JWTSecret, tcfg)
	}
	if err != nil {
		return nil, err
	}
	s.dummyHash, err = auth.HashPasswordParams("marksmith-dummy-password", cfg.PasswordParams)
	if err != nil {
		return nil, err
	}
	s.limiter = newLoginLimiter(cfg.Login)
	return s, nil
}

// app builds the Fiber app: global middleware, then every route.
func (s *server) app() *fiber.App {
	app := fiber.New(fiber.Config{
		AppName:               "marksmith",
		BodyLimit:             s.cfg.BodyLimit,
		ReadTimeout:           s.cfg.ReadTimeout,
		WriteTimeout:          s.cfg.WriteTimeout,
		IdleTimeout:           s.cfg.IdleTimeout,
		ReadBufferSize:        readBufferSize,
		ErrorHandler:          s.handleError,
		DisableStartupMessage: true,
		CaseSensitive:         true,
		Immutable:             true,
	})
	app.Use(s.requestID, s.observe, s.recoverPanics)
	s.routePaths = map[string]bool{}
	for _, r := range s.routes() {
		s.routePaths[r.path] = true
		handlers := []fiber.Handler{r.handler}
		if !r.access.public {
			handlers = []fiber.Handler{s.authenticate, s.authorize(r.access.roles), r.handler}
		}
		app.Add(r.method, r.path, handlers...)
	}
	return app
}
